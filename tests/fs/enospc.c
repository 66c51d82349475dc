// SPDX-License-Identifier: MIT
/*
 * A WRITE_FIXED that runs out of space, on ext4 and xfs, with a udmabuf and
 * with a premapped buffer.
 *
 * A preallocated file takes all the free space, then gives 1 MiB back
 * (punched); a 4 MiB write to a new file can allocate only part of its
 * range.  It must do what an ordinary O_DIRECT write does there (iomap
 * fails the whole write with -ENOSPC), and if it is ever short it must
 * stay short (ext4 would finish an ordinary one through the page cache):
 * short (whole sectors) or -ENOSPC, as the ordinary write; the size (fstat)
 * is what it reports, and those bytes, read with read(2) through the page
 * cache after dropping it, are the buffer's.  After -ENOSPC, 512 KiB still
 * fit: the failed write left nothing allocated.
 */
#include "fs-buf.h"

#include <sys/statvfs.h>

#define LEN		(4 * DT_MIB)
#define ROOM		DT_MIB
#define FITS		(ROOM / 2)
#define SEED		0xe05c

static struct io_uring ring;

/*
 * Leave about ROOM bytes free: fallocate all the space the file system
 * gives (what statvfs says is free includes reserves), then punch ROOM out
 * of it and commit, so that the freed blocks are allocatable.
 */
static int fill(struct ft_fs *f)
{
	int fd = ft_create(f, "filler", 0), i;
	uint64_t want, end;
	struct statvfs sv;

	if (fstatvfs(fd, &sv))
		t_fail("statvfs: %s", strerror(errno));
	want = (uint64_t)sv.f_bfree * sv.f_frsize;
	for (i = 0; fallocate(fd, 0, 0, want); i++) {
		if (errno != ENOSPC || i == 256)
			t_fail("%s: fallocate of %llu: %s", f->type, (unsigned long long)want,
			       strerror(errno));
		want -= ROOM;
	}
	/* the last blocks, 64 KiB at a time */
	for (end = want; !fallocate(fd, 0, end, 64 * FT_KIB); end += 64 * FT_KIB)
		;
	if (errno != ENOSPC)
		t_fail("%s: fallocate at %llu: %s", f->type, (unsigned long long)end,
		       strerror(errno));
	ft_fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, ROOM, "making room");
	if (fsync(fd))
		t_fail("fsync: %s", strerror(errno));
	sync();
	return fd;
}

/* An ordinary O_DIRECT write of LEN to a new file: its res, then it goes. */
static int plain_write(struct ft_fs *f)
{
	int fd = ft_create(f, "plain", 0), ret;
	void *mem = t_malloc(LEN);

	t_fill(mem, LEN, 0, SEED);
	ret = pwrite(fd, mem, LEN, 0);
	if (ret < 0)
		ret = -errno;
	ft_expect_size(fd, ret > 0 ? ret : 0, "%s: after an ordinary write (res %d)", f->type, ret);
	close(fd);
	unlink(ft_path(f, "plain"));
	sync();
	free(mem);
	return ret;
}

static void test(struct ft_fs *f, enum ft_kind kind)
{
	const char *where = ft_where(f, kind);
	int filler, fd, ret, plain;
	struct ft_buf b;

	ft_mount(f);
	filler = fill(f);
	plain = plain_write(f);
	fd = ft_create(f, "enospc", 0);
	ft_buf_alloc(&b, kind, LEN);
	ft_fill(&b, 0, LEN, 0, SEED);
	ft_register(&ring, 0, &b, fd);

	ret = ft_io(&ring, 1, fd, &b, 0, 0, LEN, 0);
	if (ret != -ENOSPC && (ret <= 0 || ret >= (int)LEN || ret % 512))
		t_fail("%s: a %u-byte WRITE_FIXED with about %u bytes free: res %d (%s), want short or -ENOSPC",
		       where, LEN, ROOM, ret, ret < 0 ? strerror(-ret) : "");
	if ((ret < 0) != (plain < 0))
		t_fail("%s: out of space, an ordinary direct write got %d, WRITE_FIXED %d",
		       where, plain, ret);
	ft_expect_size(fd, ret > 0 ? ret : 0, "%s: after a write that ran out of space (res %d)",
		       where, ret);
	/* what fits still fits: nothing of the failed write stayed allocated */
	if (ret < 0) {
		dt_expect_len(ft_io(&ring, 1, fd, &b, 0, 0, FITS, 0), FITS,
			      "%s: a %u-byte WRITE_FIXED into the room left", where, FITS);
		ret = FITS;
	}
	ft_clear(&ring, 0);
	ft_buf_free(&b);
	close(fd);
	close(filler);
	if (ret > 0 && ft_file_verify(ft_path(f, "enospc"), 0, ret, SEED, where))
		t_fail("%s: the bytes reported written are not in the file", where);
	unlink(ft_path(f, "enospc"));
	unlink(ft_path(f, "filler"));
	ft_umount(f);
	printf("%s: a %u-byte write with about %u bytes free: %s (an ordinary direct write: %d); %d bytes written and read back\n",
	       where, LEN, ROOM, ret == FITS ? "-ENOSPC" : "short", plain, ret);
}

int main(void)
{
	int nfs = ft_start(), i, k;

	if (io_uring_queue_init(8, &ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(&ring, 1);
	for (i = 0; i < nfs; i++)
		for (k = 0; k < FT_NKINDS; k++)
			test(&ft_fs[i], k);
	io_uring_queue_exit(&ring);
	dt_report();
	return T_EXIT_PASS;
}
