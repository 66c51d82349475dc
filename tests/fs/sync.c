// SPDX-License-Identifier: MIT
/*
 * O_DSYNC, RWF_DSYNC and fsync after dma-buf writes survive a crash, on ext4
 * and xfs, with a udmabuf and with a premapped buffer.
 *
 * Each round writes, through the code under test, into a hole, into an
 * unwritten extent (fallocate) and past the end of the file: each needs
 * metadata (allocation, conversion, the new size) made durable by the
 * sync.  The round syncs one way: an O_DSYNC file, RWF_DSYNC on each
 * write, or fsync() after the writes.  Then the file system is shut down
 * as a power cut would leave it (FS_IOC_SHUTDOWN, log not flushed: what
 * was not synced is lost), unmounted and mounted again, which replays the
 * journal or log.  The file must have the new size and the written data
 * (read(2) through the page cache), zeroes everywhere else.  A last round
 * on each file system syncs nothing and says what the crash left (not a
 * verdict: it shows that the crash is one).  The host's fsck checks the
 * images after the boot.
 */
#include "fs-buf.h"

#define B		4096U
#define SEED		0x5c5c
#define SIZE0		(32 * B)	/* the file before the round */
#define SIZE1		(44 * B)	/* after the write past its end */
#define BUF_SIZE	(4 * B)

enum how { SYNC_O_DSYNC, SYNC_RWF_DSYNC, SYNC_FSYNC, SYNC_NR, SYNC_NONE = SYNC_NR };
static const char *const how_name[] = { "O_DSYNC", "RWF_DSYNC", "fsync", "no sync" };

static struct io_uring ring;
static uint32_t seed = SEED;

static void round_(struct ft_fs *f, enum ft_kind kind, enum how how)
{
	static const uint64_t offs[] = { 4 * B, 16 * B, 40 * B };
	unsigned char *want = t_malloc(SIZE1);
	const char *path;
	char what[96];
	struct ft_buf b;
	__u32 flag = FT_SHUTDOWN_NOLOGFLUSH;
	unsigned int i;
	int fd, ret;

	snprintf(what, sizeof(what), "%s, %s", ft_where(f, kind), how_name[how]);
	ft_mount(f);
	path = ft_path(f, "sync");
	/* the starting point, made durable: a hole, an unwritten extent */
	fd = ft_create(f, "sync", how == SYNC_O_DSYNC ? O_DSYNC : 0);
	if (ftruncate(fd, SIZE0))
		t_fail("ftruncate: %s", strerror(errno));
	ft_fallocate(fd, 0, 16 * B, 8 * B, what);
	if (fsync(fd))
		t_fail("fsync: %s", strerror(errno));
	sync();

	ft_buf_alloc(&b, kind, BUF_SIZE);
	ft_register(&ring, 0, &b, fd);
	for (i = 0; i < DT_ARRAY_SIZE(offs); i++) {
		seed++;
		ft_fill(&b, 0, BUF_SIZE, offs[i], seed);
		t_fill(want + offs[i], BUF_SIZE, offs[i], seed);
		ret = ft_io_flags(&ring, 1, fd, &b, 0, 0, BUF_SIZE, offs[i],
				  how == SYNC_RWF_DSYNC ? RWF_DSYNC : 0);
		dt_expect_len(ret, BUF_SIZE, "%s: write at %llu", what,
			      (unsigned long long)offs[i]);
	}
	if (how == SYNC_FSYNC && fsync(fd))
		t_fail("%s: fsync: %s", what, strerror(errno));

	/* the power goes */
	if (ioctl(fd, FT_IOC_SHUTDOWN, &flag))
		t_fail("%s: FS_IOC_SHUTDOWN: %s", what, strerror(errno));
	ft_clear(&ring, 0);
	ft_buf_free(&b);
	close(fd);
	ft_umount(f);

	ft_mount_opts(f, NULL);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		t_fail("%s: %s after the crash: %s", what, path, strerror(errno));
	if (how == SYNC_NONE) {
		/* the control: shows that the crash loses what was not synced */
		printf("%s (control): after the crash the file has %llu of %u bytes\n", what,
		       (unsigned long long)ft_size(fd), SIZE1);
		close(fd);
	} else {
		ft_expect_size(fd, SIZE1, "%s: after the crash", what);
		close(fd);
		if (ft_file_cmp(path, 0, want, SIZE1, what))
			t_fail("%s: the synced writes did not survive the crash", what);
		printf("%s: a hole, an unwritten extent and a new end survived the crash\n",
		       what);
	}
	unlink(path);
	ft_umount(f);
	free(want);
}

int main(void)
{
	int nfs = ft_start(), i, k, h;

	if (io_uring_queue_init(8, &ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(&ring, 1);
	for (i = 0; i < nfs; i++) {
		for (k = 0; k < FT_NKINDS; k++)
			for (h = 0; h < SYNC_NR; h++)
				round_(&ft_fs[i], k, h);
		round_(&ft_fs[i], FT_UDMABUF, SYNC_NONE);
	}
	io_uring_queue_exit(&ring);
	dt_report();
	return T_EXIT_PASS;
}
