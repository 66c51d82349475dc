// SPDX-License-Identifier: MIT
/*
 * I/O across the extent boundaries of a fragmented file, on ext4 and xfs,
 * with a udmabuf and with a premapped buffer.
 *
 * The file is written in 25 chunks of 1 to 16 blocks, then every second
 * chunk is cut out with FALLOC_FL_COLLAPSE_RANGE (a collapse may not reach
 * the end of the file: the last chunk stays): the 13 left lie logically
 * back to back but physically apart, so FIEMAP must show at least 6
 * extents whatever the allocator did (it usually shows 13).
 * Then the file is overwritten in place with a pattern.  Around each
 * extent boundary READ_FIXED and WRITE_FIXED of [B - 512, B + 512),
 * [B - 4 KiB, B + 4.5 KiB) and [B - 1.5 KiB, B + 64 KiB) are checked, then
 * one read and one write of the whole file, which must build at least one
 * dma-buf bio per extent (dmabuf-bios).  Reads are compared with what the
 * file holds, writes at once with a plain O_DIRECT pread and at the end
 * with read(2) through the page cache after dropping it.
 */
#include "fs-buf.h"

#define NCHUNK		25		/* odd: the last one stays */
#define BLK		4096U
#define MAX_EXT		256
#define SEED		0xe7e7

static struct io_uring ring;
static unsigned char *shadow;
static uint32_t wseed = SEED;
static uint64_t fsize;

/* Chunk i's size in blocks: 1 to 16, irregular. */
static unsigned int chunk_blocks(unsigned int i)
{
	return 1 + (i * 7 + i / 3) % 16;
}

/* The fragmented file; returns its fd, its extents in ext, their count in *n. */
static int make_file(struct ft_fs *f, struct fiemap_extent *ext, unsigned int *n)
{
	uint64_t off[NCHUNK], end = 0;
	unsigned char *buf;
	int fd, i;

	fd = ft_create(f, "frag", 0);
	for (i = 0; i < NCHUNK; i++) {
		off[i] = end;
		end += chunk_blocks(i) * BLK;
	}
	buf = t_malloc(end);
	/* chunk by chunk, each its own allocation */
	for (i = 0; i < NCHUNK; i++)
		if (pwrite(fd, buf + off[i], chunk_blocks(i) * BLK, off[i]) !=
		    (ssize_t)(chunk_blocks(i) * BLK))
			t_fail("%s: writing chunk %d: %s", f->type, i, strerror(errno));
	if (fsync(fd))
		t_fail("fsync: %s", strerror(errno));
	/* from the end, so that the earlier offsets stay valid */
	for (i = NCHUNK - 2; i > 0; i -= 2)
		ft_fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, off[i], chunk_blocks(i) * BLK,
			     "cutting a chunk out");
	fsize = ft_size(fd);
	t_fill(shadow, fsize, 0, SEED);
	memcpy(buf, shadow, fsize);
	if (pwrite(fd, buf, fsize, 0) != (ssize_t)fsize)
		t_fail("%s: overwriting the file: %s", f->type, strerror(errno));
	free(buf);
	*n = ft_extents(fd, ext, MAX_EXT);
	if (*n < NCHUNK / 4)
		t_fail("%s: FIEMAP shows %u extents after cutting out %d chunks, want at least %d",
		       f->type, *n, NCHUNK / 2, NCHUNK / 4);
	for (i = 0; i < (int)*n; i++)
		if (ext[i].fe_flags & (FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_DELALLOC))
			t_fail("%s: extent %d has flags 0x%x", f->type, i, ext[i].fe_flags);
	return fd;
}

static void rw(const char *where, int fd, const struct ft_buf *b, uint64_t off,
	       unsigned int len)
{
	char what[160];
	int ret;

	snprintf(what, sizeof(what), "%s: %u bytes at %llu", where, len,
		 (unsigned long long)off);
	ft_poison(b, 0, len + 4096);
	ret = ft_io(&ring, 0, fd, b, 0, 0, len, off);
	dt_expect_len(ret, len, "%s: READ_FIXED", what);
	if (ft_cmp(b, 0, shadow + off, len, what) ||
	    ft_check_poison(b, len, 4096, "after the read"))
		t_fail("%s: READ_FIXED delivered wrong data", what);
	wseed++;
	ft_fill(b, 0, len, off, wseed);
	t_fill(shadow + off, len, off, wseed);
	ret = ft_io(&ring, 1, fd, b, 0, 0, len, off);
	dt_expect_len(ret, len, "%s: WRITE_FIXED", what);
	if (ft_dio_cmp(fd, off, shadow + off, len, what))
		t_fail("%s: WRITE_FIXED stored wrong data", what);
}

static void test(struct ft_fs *f, int kind)
{
	static const struct { unsigned int before, after; } around[] = {
		{ 512, 512 }, { 4096, 4096 + 512 }, { 1536, 65536 },
	};
	struct fiemap_extent ext[MAX_EXT];
	unsigned int n, i, j, ios = 0;
	struct ft_buf b;
	const char *where = ft_where(f, kind);
	long bios;
	int fd;

	fd = make_file(f, ext, &n);
	ft_buf_alloc(&b, kind, fsize + 8192);
	ft_register(&ring, 0, &b, fd);
	bios = pt_bios();
	for (i = 1; i < n; i++) {
		uint64_t B = ext[i].fe_logical;

		for (j = 0; j < DT_ARRAY_SIZE(around); j++, ios += 2) {
			uint64_t start = B >= around[j].before ? B - around[j].before : 0;
			uint64_t end = B + around[j].after <= fsize ? B + around[j].after : fsize;

			rw(where, fd, &b, start, end - start);
		}
	}
	ft_expect_path(&b, bios, ios, where);

	/* the whole file at once: a bio per extent at least, each way */
	bios = pt_bios();
	rw(where, fd, &b, 0, fsize);
	ft_expect_path(&b, bios, 2 * n, "the whole file, read and written");

	ft_clear(&ring, 0);
	ft_buf_free(&b);
	close(fd);
	if (ft_file_cmp(ft_path(f, "frag"), 0, shadow, fsize, where))
		t_fail("%s: the file does not hold what was written", where);
	printf("%s: %llu bytes in %u extents, %u I/Os across their boundaries verified\n",
	       where, (unsigned long long)fsize, n, ios + 2);
}

int main(void)
{
	ft_start();
	shadow = t_malloc(NCHUNK * 16 * BLK);
	return ft_run(&ring, 8, test, FT_NKINDS, 0, "frag");
}
