// SPDX-License-Identifier: MIT
/*
 * Unwritten extents (fallocate), on ext4 and xfs, with a udmabuf and with a
 * premapped buffer.
 *
 * The file is preallocated with fallocate (the size becomes its end) and
 * beyond its end with FALLOC_FL_KEEP_SIZE (the size stays), on free space
 * full of a pattern no file holds (ft_stale_fill()), so an unwritten block
 * that was read as data shows.  Reads: one that starts in an unwritten
 * extent fails with -ENODATA, one that reaches one ends short before it,
 * nothing after the bytes reported is written (the destination is poisoned
 * first).  Where ext4 may have zeroed a small unwritten extent next to a
 * write instead of splitting it, the expected result comes from FIEMAP
 * (ft_read_oracle()); every other one is fixed.  Writes into unwritten
 * extents (whole blocks and 512 bytes) convert them and read back; a write
 * into the preallocation beyond the end moves the size (fstat).
 * FALLOC_FL_ZERO_RANGE over written data: the range reads as -ENODATA or
 * as zeroes, never the old bytes.  At the end read(2) through the page
 * cache, after dropping it, must equal what the test wrote (unwritten:
 * zeroes).
 */
#include "fs-buf.h"

#define B		4096U
#define SEED		0x0f11
#define BUF_SIZE	(1 * DT_MIB)
#define MAX_SIZE	(96 * B)
#define ORACLE		INT32_MIN	/* rd(): expect what FIEMAP says */

static struct io_uring ring;
static unsigned char *shadow;	/* the file's contents, unwritten as zeroes */
static uint32_t wseed = SEED;
static unsigned int nios, nmoved;

/* READ_FIXED of [off, off + len): res must be want (ORACLE: by FIEMAP). */
static void rd(const char *where, int fd, const struct ft_buf *b, uint64_t off,
	       unsigned int len, int want)
{
	char what[160];
	int ret;

	snprintf(what, sizeof(what), "%s: read of %u bytes at %llu%s", where, len,
		 (unsigned long long)off, want == ORACLE ? " (by FIEMAP)" : "");
	if (want == ORACLE)
		want = ft_read_oracle(fd, off, len);
	ft_poison(b, 0, len + B);
	ret = ft_io(&ring, 0, fd, b, 0, 0, len, off);
	nios++;
	nmoved += ret > 0;
	dt_expect(ret, want, "%s", what);
	if (ret > 0 && ft_cmp(b, 0, shadow + off, ret, what))
		t_fail("%s: wrong data delivered", what);
	if (ft_check_poison(b, ret > 0 ? ret : 0, len + B - (ret > 0 ? ret : 0),
			    "the buffer after the bytes reported"))
		t_fail("%s: the buffer was written beyond the %d bytes reported", what, ret);
}

static void wr(const char *where, int fd, const struct ft_buf *b, uint64_t off,
	       unsigned int len, uint64_t size)
{
	char what[160];
	int ret;

	snprintf(what, sizeof(what), "%s: write of %u bytes at %llu", where, len,
		 (unsigned long long)off);
	wseed++;
	ft_fill(b, 0, len, off, wseed);
	t_fill(shadow + off, len, off, wseed);
	ret = ft_io(&ring, 1, fd, b, 0, 0, len, off);
	nios++;
	nmoved++;
	dt_expect_len(ret, len, "%s", what);
	ft_expect_size(fd, size, "%s", what);
}

static void test(struct ft_fs *f, int kind)
{
	const char *where = ft_where(f, kind);
	struct fiemap_extent ext[4];
	struct ft_buf b;
	long bios;
	int fd;

	nios = nmoved = 0;
	memset(shadow, 0, MAX_SIZE);
	fd = ft_create(f, "unwritten", 0);
	ft_fallocate(fd, 0, 0, 64 * B, where);
	ft_expect_size(fd, 64 * B, "%s: after fallocate", where);
	if (ft_extents(fd, ext, 4) < 1 || !(ext[0].fe_flags & FIEMAP_EXTENT_UNWRITTEN))
		t_fail("%s: fallocate did not leave an unwritten extent (flags 0x%x)", where,
		       ext[0].fe_flags);

	ft_buf_alloc(&b, kind, BUF_SIZE);
	ft_register(&ring, 0, &b, fd);
	bios = pt_bios();

	rd(where, fd, &b, 0, 4 * B, -ENODATA);
	rd(where, fd, &b, 60 * B, 8 * B, -ENODATA);	/* across EOF */
	rd(where, fd, &b, 64 * B, B, 0);

	wr(where, fd, &b, 8 * B, 8 * B, 64 * B);	/* converts */
	rd(where, fd, &b, 8 * B, 8 * B, 8 * B);
	rd(where, fd, &b, 8 * B, 12 * B, ORACLE);	/* short before unwritten */
	rd(where, fd, &b, 6 * B, 4 * B, ORACLE);
	rd(where, fd, &b, 40 * B, 4 * B, -ENODATA);	/* far from it: still unwritten */

	wr(where, fd, &b, 40 * B + 512, 512, 64 * B);	/* 512 bytes: the block zeroed */
	rd(where, fd, &b, 40 * B, B, B);
	rd(where, fd, &b, 40 * B, 4 * B, ORACLE);
	rd(where, fd, &b, 36 * B, 8 * B, ORACLE);

	/* preallocated beyond the end: the size stays until a write */
	ft_fallocate(fd, FALLOC_FL_KEEP_SIZE, 64 * B, 16 * B, where);
	ft_expect_size(fd, 64 * B, "%s: after fallocate KEEP_SIZE", where);
	rd(where, fd, &b, 64 * B, B, 0);
	wr(where, fd, &b, 64 * B, 2 * B, 66 * B);
	rd(where, fd, &b, 64 * B, 2 * B, 2 * B);
	rd(where, fd, &b, 66 * B, B, 0);
	wr(where, fd, &b, 70 * B, 2 * B, 72 * B);
	rd(where, fd, &b, 66 * B, 4 * B, ORACLE);
	rd(where, fd, &b, 70 * B, 4 * B, 2 * B);

	/* zeroed: unwritten again or zeroes, never the old bytes */
	ft_fallocate(fd, FALLOC_FL_ZERO_RANGE, 8 * B, 2 * B, where);
	memset(shadow + 8 * B, 0, 2 * B);
	rd(where, fd, &b, 8 * B, 2 * B, ORACLE);
	rd(where, fd, &b, 8 * B, 4 * B, ORACLE);

	ft_expect_path(&b, bios, nmoved, where);
	ft_clear(&ring, 0);
	ft_buf_free(&b);
	close(fd);
	if (ft_file_cmp(ft_path(f, "unwritten"), 0, shadow, 72 * B, where))
		t_fail("%s: the file does not hold what was written", where);
	printf("%s: %u reads and writes of unwritten extents as documented\n", where, nios);
}

int main(void)
{
	ft_start();
	shadow = t_malloc(MAX_SIZE);
	return ft_run(&ring, 8, test, FT_NKINDS, 16, "unwritten");
}
