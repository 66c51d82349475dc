// SPDX-License-Identifier: MIT
/*
 * Holes and the end of the file, on ext4 and xfs, with a udmabuf and with a
 * premapped buffer.
 *
 * Reads (the documented semantics): a read that reaches a hole ends short
 * before it and reports only what it delivered; one that starts in a hole
 * fails with -ENODATA; one that crosses the end of the file is short there,
 * one at or after it returns 0.  The destination is poisoned first: the
 * bytes a read delivered must be the file's, every byte after them must
 * still be poison (nothing zeroes the dma-buf), but for the rest of the
 * last block when the end of the file is inside one: as any direct read,
 * the device may deliver the whole block, whose tail the file system keeps
 * zeroed (zeroes or poison there, nothing else).
 *
 * Writes: into a hole (whole blocks, and 512 bytes inside a block, whose
 * rest the file system must zero), past the end of the file (the size,
 * by fstat, is the new end as soon as the write completed; the gap is a
 * hole), and across it.  Free space is first filled with a pattern no file
 * holds (ft_stale_fill()), so a block that reached the file unzeroed
 * shows.  At the end the file read with read(2) through the page cache,
 * after dropping it, must equal what the test wrote (holes: zeroes).
 */
#include "fs-buf.h"

#define B		4096U
#define SEED		0x401e
#define BUF_SIZE	(1 * DT_MIB)
#define MAX_SIZE	(96 * B)

static struct io_uring ring;
static unsigned char *shadow;	/* the file's contents, holes as zeroes */
static uint32_t wseed = SEED;
static unsigned int nios, nmoved;	/* I/Os, those that moved data */

/* READ_FIXED of [off, off + len): res must be want, the data the file's. */
static void rd(const char *where, int fd, const struct ft_buf *b, uint64_t off,
	       unsigned int len, int want)
{
	uint64_t size = ft_size(fd), blk_end = (size + B - 1) / B * B;
	size_t tail, i;
	char what[160];
	int ret;

	snprintf(what, sizeof(what), "%s: read of %u bytes at %llu", where, len,
		 (unsigned long long)off);
	ft_poison(b, 0, len + B);
	ret = ft_io(&ring, 0, fd, b, 0, 0, len, off);
	nios++;
	nmoved += ret > 0;
	dt_expect(ret, want, "%s", what);
	if (ret > 0 && ft_cmp(b, 0, shadow + off, ret, what))
		t_fail("%s: wrong data delivered", what);
	/* like any direct read, one ending at EOF inside a block gets its tail */
	tail = ret > 0 ? ret : 0;
	if (ret >= 0 && off < blk_end && off + len > size)
		tail = blk_end - off < len ? blk_end - off : len;
	ft_begin(b);
	for (i = ret > 0 ? ret : 0; i < tail; i++)
		if (b->p[i] != 0xa5 && b->p[i])
			t_fail("%s: the tail of the last block past EOF is not zeroes (+%zu: 0x%02x)",
			       what, i, b->p[i]);
	ft_end(b);
	if (ft_check_poison(b, tail, len + B - tail, "the buffer after the bytes reported"))
		t_fail("%s: the buffer was written beyond the %d bytes reported", what, ret);
}

/* WRITE_FIXED of a new pattern to [off, off + len); the size must become size. */
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
	struct ft_buf b;
	const char *where = ft_where(f, kind);
	long bios;
	int fd;

	nios = nmoved = 0;
	/* data at [8B, 16B) and [24B, 25B), holes around, the size 64B */
	fd = ft_create(f, "holes", 0);
	memset(shadow, 0, MAX_SIZE);
	if (ftruncate(fd, 64 * B))
		t_fail("ftruncate: %s", strerror(errno));
	t_fill(shadow + 8 * B, 8 * B, 8 * B, SEED);
	t_fill(shadow + 24 * B, B, 24 * B, SEED);
	if (pwrite(fd, shadow + 8 * B, 8 * B, 8 * B) != 8 * B ||
	    pwrite(fd, shadow + 24 * B, B, 24 * B) != B)
		t_fail("%s: pwrite: %s", where, strerror(errno));

	ft_buf_alloc(&b, kind, BUF_SIZE);
	ft_register(&ring, 0, &b, fd);
	bios = pt_bios();

	rd(where, fd, &b, 0, 4 * B, -ENODATA);		/* starts in a hole */
	rd(where, fd, &b, 8 * B, 8 * B, 8 * B);		/* all data */
	rd(where, fd, &b, 8 * B, 12 * B, 8 * B);	/* short before the hole */
	rd(where, fd, &b, 12 * B + 512, 12 * B, 4 * B - 512);
	rd(where, fd, &b, 16 * B - 512, 1024, 512);
	rd(where, fd, &b, 16 * B, B, -ENODATA);
	rd(where, fd, &b, 24 * B, 40 * B, B);		/* data, then a hole to EOF */
	rd(where, fd, &b, 63 * B, 2 * B, -ENODATA);	/* a hole across EOF */
	rd(where, fd, &b, 64 * B, B, 0);		/* at EOF */
	rd(where, fd, &b, 80 * B, B, 0);		/* after EOF */

	wr(where, fd, &b, 2 * B, 2 * B, 64 * B);	/* whole blocks into a hole */
	rd(where, fd, &b, 2 * B, 2 * B, 2 * B);
	rd(where, fd, &b, 0, 4 * B, -ENODATA);
	wr(where, fd, &b, 5 * B + 1024, 512, 64 * B);	/* 512 bytes into a hole */
	rd(where, fd, &b, 5 * B, B, B);			/* the rest of the block: zeroes */
	rd(where, fd, &b, 4 * B, 2 * B, -ENODATA);
	rd(where, fd, &b, 2 * B, 4 * B, 2 * B);

	wr(where, fd, &b, 70 * B, 3 * B, 73 * B);	/* past EOF, a hole before it */
	rd(where, fd, &b, 64 * B, 6 * B, -ENODATA);
	rd(where, fd, &b, 70 * B, 3 * B, 3 * B);
	rd(where, fd, &b, 72 * B, 2 * B, B);		/* short at EOF */
	wr(where, fd, &b, 73 * B, 512, 73 * B + 512);	/* EOF inside a block */
	rd(where, fd, &b, 73 * B, B, 512);
	rd(where, fd, &b, 72 * B, 4 * B, B + 512);
	rd(where, fd, &b, 73 * B + 512, 512, 0);
	wr(where, fd, &b, 73 * B, 2048, 73 * B + 2048);	/* across EOF */
	rd(where, fd, &b, 73 * B, B, 2048);
	wr(where, fd, &b, 80 * B, 8 * B + 512, 88 * B + 512);
	rd(where, fd, &b, 79 * B, 2 * B, -ENODATA);
	rd(where, fd, &b, 80 * B, 16 * B, 8 * B + 512);

	/* the I/Os that moved data built bios, at least one each */
	ft_expect_path(&b, bios, nmoved, where);
	ft_clear(&ring, 0);
	ft_buf_free(&b);
	close(fd);
	if (ft_file_cmp(ft_path(f, "holes"), 0, shadow, 88 * B + 512, where))
		t_fail("%s: the file does not hold what was written", where);
	printf("%s: %u reads and writes around holes and EOF as documented\n", where, nios);
}

int main(void)
{
	ft_start();
	shadow = t_malloc(MAX_SIZE);
	return ft_run(&ring, 8, test, FT_NKINDS, 16, "holes");
}
