// SPDX-License-Identifier: MIT
/*
 * READ_FIXED into premapped user memory, checked byte for byte.
 *
 * The drive holds a position-dependent pattern written with plain O_DIRECT
 * pwrite.  The buffer starts at a page boundary, 512 bytes into a page and
 * 4 bytes into a page (the token's offsets start at the page of the first
 * byte, so each start tests a different translation).  Each read goes from
 * device offsets {0, 1, 7} blocks into buffer offsets {0, 1, 2, 7} blocks
 * with sizes {1, 2, 3, 7, 8, 15, 16, 31, 32, 512} blocks, 2 MiB and 4 MiB,
 * then into dword-aligned (not block-aligned) buffer offsets, up to the
 * last byte of the buffer, and across the end of the device (short, then
 * nothing).  Before each read the destination and a block on each side are
 * poisoned: stale, misplaced and overrunning data all show.  Every read
 * that moved data must have used the long-lived mapping (none in the
 * swiotlb bed).  Drive 0
 * and drive 1 (small MDTS: the large reads are split).
 */
#include "premap-test.h"

#define SEED		0x4e3d
#define BUF_SIZE	(5 * DT_MIB)	/* 7 blocks + 4 MiB + guard */
#define AREA		(5 * DT_MIB)	/* device bytes with the pattern */

static struct io_uring ring;
static unsigned int lbs;
static unsigned long reads;

/* Read len bytes at dev_off into off of b (slot 0), want bytes expected. */
static void read_check(int fd, const char *ctx, const struct pt_buf *b, size_t off,
		       unsigned int len, uint64_t dev_off, unsigned int want)
{
	size_t lo = off >= lbs ? off - lbs : 0;
	size_t hi = off + len + lbs <= b->len ? off + len + lbs : b->len;
	char what[160];
	int ret;

	snprintf(what, sizeof(what), "%s: %u bytes at %llu into +%zu", ctx, len,
		 (unsigned long long)dev_off, off);
	pt_poison(b, lo, hi - lo);
	ret = pt_io(&ring, IORING_OP_READ_FIXED, fd, pt_addr(b, off), len, dev_off, 0, 1);
	dt_expect_len(ret, want, "%s: READ_FIXED", what);
	if (t_verify(b->p + off, want, dev_off, SEED, what) ||
	    dt_check_poison(b->p + lo, off - lo, "guard before") ||
	    dt_check_poison(b->p + off + want, hi - off - want, "guard after"))
		t_fail("%s: wrong data in the buffer", what);
	reads++;
}

static void test_layout(int fd, int n, size_t lead)
{
	static const unsigned int dev_offs[] = { 0, 1, 7 };
	static const unsigned int buf_offs[] = { 0, 1, 2, 7 };
	static const unsigned int blocks[] = { 1, 2, 3, 7, 8, 15, 16, 31, 32, 512 };
	static const unsigned int bytes[] = { 2 * DT_MIB, 4 * DT_MIB };
	static const unsigned int dword_offs[] = { 4, 2052, 4092 };
	unsigned int i, j, k, len, start = reads;
	uint64_t size = t_dev_size(fd);
	struct pt_buf b;
	char ctx[64];

	snprintf(ctx, sizeof(ctx), "drive %d, buffer at page offset %zu", n, lead);
	pt_alloc(&b, BUF_SIZE, lead);
	pt_register(&ring, 0, b.p, b.len, fd);
	for (i = 0; i < DT_ARRAY_SIZE(dev_offs); i++) {
		for (j = 0; j < DT_ARRAY_SIZE(buf_offs); j++) {
			for (k = 0; k < DT_ARRAY_SIZE(blocks) + DT_ARRAY_SIZE(bytes); k++) {
				len = k < DT_ARRAY_SIZE(blocks) ? blocks[k] * lbs :
					bytes[k - DT_ARRAY_SIZE(blocks)];
				read_check(fd, ctx, &b, buf_offs[j] * lbs, len, dev_offs[i] * lbs,
					   len);
			}
		}
	}
	/* buffer offsets the DMA alignment allows but blocks do not */
	for (j = 0; j < DT_ARRAY_SIZE(dword_offs); j++) {
		read_check(fd, ctx, &b, dword_offs[j], lbs, 3 * lbs, lbs);
		read_check(fd, ctx, &b, dword_offs[j], 9 * lbs, 0, 9 * lbs);
		read_check(fd, ctx, &b, dword_offs[j], 65536 + lbs, lbs, 65536 + lbs);
	}
	/* up to the last byte of the buffer (mid-page unless lead is 0) */
	read_check(fd, ctx, &b, b.len - lbs, lbs, 2 * lbs, lbs);
	read_check(fd, ctx, &b, b.len - DT_MIB - lbs, DT_MIB + lbs, lbs, DT_MIB + lbs);
	/* the end of the device: a short read, then nothing */
	read_check(fd, ctx, &b, lbs, DT_MIB, size - DT_MIB / 2, DT_MIB / 2);
	read_check(fd, ctx, &b, 0, lbs, size - lbs, lbs);
	read_check(fd, ctx, &b, 0, 4 * lbs, size, 0);
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	pt_free(&b);
	printf("%s: %lu reads ok\n", ctx, reads - start);
}

static void test_drive(int n)
{
	static const size_t leads[] = { 0, 512, 4 };
	int fd = pt_open(n, &lbs);
	uint64_t size = t_dev_size(fd);
	unsigned int i;

	if (size < AREA + DT_MIB)
		t_missing("%u bytes on drive %d: it has %llu", AREA + DT_MIB, n,
			  (unsigned long long)size);
	if (7 * lbs + 4 * DT_MIB + lbs > BUF_SIZE)
		t_fail("drive %d has %u-byte blocks: the buffer is too small for the matrix",
		       n, lbs);
	dt_dev_fill(fd, 0, AREA, SEED);
	dt_dev_fill(fd, size - DT_MIB, DT_MIB, SEED);
	for (i = 0; i < DT_ARRAY_SIZE(leads); i++)
		test_layout(fd, n, leads[i]);
	close(fd);
}

int main(void)
{
	int ret;

	pt_require();
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 1);

	test_drive(0);
	if (t_bed_drives() > 1)
		test_drive(1);
	else
		printf("a bed of one drive: split reads not covered\n");

	io_uring_queue_exit(&ring);
	pt_done();
	return T_EXIT_PASS;
}
