// SPDX-License-Identifier: MIT
/*
 * WRITE_FIXED from premapped user memory, checked on the drive with plain
 * O_DIRECT pread into an ordinary buffer.
 *
 * The buffer starts at a page boundary, 512 bytes into a page and 4 bytes
 * into a page.  It is filled with the pattern of the device range it is
 * written to; WRITE_FIXED goes from buffer offsets {0, 1, 7} blocks and a
 * few dword-aligned ones to device offsets {0, 3} blocks past a base, sizes
 * from one block to 4 MiB, and from the last bytes of the buffer.  The read
 * back covers a block on each side, which must still hold the background
 * pattern, and the buffer must still hold what was written from it.
 * Writes that reach the end of the device are cut short; one starting there
 * fails with -ENOSPC.  A few carry RWF_DSYNC or RWF_SYNC.  Every write that
 * moved data must have used the long-lived mapping (none in the swiotlb
 * bed).  Drive 0 and drive 1 (small MDTS).
 */
#include "premap-test.h"

#define SEED_BG		0xb7
#define SEED_IO		0x2000
#define BUF_SIZE	(5 * DT_MIB)
#define BASE		DT_MIB		/* device offset of the cases */
#define AREA		(6 * DT_MIB)	/* background-filled device bytes */

static struct io_uring ring;
static unsigned int lbs, seed = SEED_IO;
static int rwf;			/* RWF_* flags of the writes */
static unsigned long writes;

/* dt_io_once() with rwf, checking the path as pt_io() does. */
static int write_once(int fd, uint64_t addr, unsigned int len, uint64_t off)
{
	long before = pt_bios(), got;
	int ret;

	if (!rwf)
		return pt_io(&ring, IORING_OP_WRITE_FIXED, fd, addr, len, off, 0, 1);
	ret = dt_io_once(&ring, IORING_OP_WRITE_FIXED, fd, addr, len, off, 0, rwf);
	if (ret == -EAGAIN)
		dt_eagain++;
	got = pt_bios() - before;
	if (ret > 0 && (pt_want ? got < 1 : got != 0))
		t_fail("WRITE_FIXED with RWF flags %#x: %ld bios from the mapping, want %s", rwf,
		       got, pt_want ? "at least 1" : "none (swiotlb bed)");
	return ret;
}

/* Write len bytes from off of b to dev_off; want is the expected result. */
static void write_check(int fd, const char *ctx, const struct pt_buf *b, size_t off,
			unsigned int len, uint64_t dev_off, int want)
{
	uint64_t size = t_dev_size(fd);
	uint64_t lo = dev_off >= lbs ? dev_off - lbs : 0;
	uint64_t hi = dev_off + len + lbs < size ? dev_off + len + lbs : size;
	unsigned int done = want > 0 ? want : 0;
	char what[160];
	int ret;

	seed++;
	snprintf(what, sizeof(what), "%s: %u bytes from +%zu to %llu%s", ctx, len, off,
		 (unsigned long long)dev_off, rwf ? " with RWF flags" : "");
	t_fill(b->p + off, len, dev_off, seed);
	ret = write_once(fd, pt_addr(b, off), len, dev_off);
	dt_expect(ret, want, "%s: WRITE_FIXED", what);
	if (t_verify(b->p + off, len, dev_off, seed, "buffer after the write"))
		t_fail("%s: the write changed its source", what);
	if (hi <= lo)
		return;
	if ((lo < dev_off && dt_dev_verify(fd, lo, dev_off - lo, SEED_BG, "block before")) ||
	    (done && dt_dev_verify(fd, dev_off, done, seed, what)) ||
	    (hi > dev_off + done &&
	     dt_dev_verify(fd, dev_off + done, hi - dev_off - done, SEED_BG, "block after")))
		t_fail("%s: wrong data on the drive", what);
	/* restore the background for the next case */
	if (done)
		dt_dev_fill(fd, dev_off, done, SEED_BG);
	writes++;
}

static void test_layout(int fd, int n, size_t lead)
{
	static const unsigned int dev_offs[] = { 0, 3 };
	static const unsigned int buf_offs[] = { 0, 1, 7 };
	static const unsigned int blocks[] = { 1, 2, 7, 8, 16, 31, 128, 512 };
	static const unsigned int bytes[] = { DT_MIB, 4 * DT_MIB };
	static const unsigned int dword_offs[] = { 4, 2052, 4092 };
	uint64_t size = t_dev_size(fd);
	unsigned int i, j, k, len, start = writes;
	struct pt_buf b;
	char ctx[64];

	snprintf(ctx, sizeof(ctx), "drive %d, buffer at page offset %zu", n, lead);
	pt_alloc(&b, BUF_SIZE, lead);
	pt_register(&ring, 0, b.p, b.len, fd);
	for (i = 0; i < DT_ARRAY_SIZE(dev_offs); i++) {
		for (j = 0; j < DT_ARRAY_SIZE(buf_offs); j++) {
			for (k = 0; k < DT_ARRAY_SIZE(blocks) + DT_ARRAY_SIZE(bytes); k++) {
				len = k < DT_ARRAY_SIZE(blocks) ? blocks[k] * lbs :
					bytes[k - DT_ARRAY_SIZE(blocks)] + (j ? lbs : 0);
				write_check(fd, ctx, &b, buf_offs[j] * lbs, len,
					    BASE + dev_offs[i] * lbs, len);
			}
		}
	}
	for (j = 0; j < DT_ARRAY_SIZE(dword_offs); j++) {
		write_check(fd, ctx, &b, dword_offs[j], lbs, BASE + 5 * lbs, lbs);
		write_check(fd, ctx, &b, dword_offs[j], 65536 + lbs, BASE + lbs, 65536 + lbs);
	}
	/* from the last bytes of the buffer */
	write_check(fd, ctx, &b, b.len - lbs, lbs, BASE, lbs);
	write_check(fd, ctx, &b, b.len - DT_MIB - lbs, DT_MIB + lbs, BASE + lbs, DT_MIB + lbs);
	/* data integrity writes (FUA or a flush) */
	for (rwf = RWF_DSYNC; rwf; rwf = rwf == RWF_DSYNC ? RWF_SYNC : 0) {
		write_check(fd, ctx, &b, lbs, 8 * lbs, BASE + lbs, 8 * lbs);
		write_check(fd, ctx, &b, 0, DT_MIB + lbs, BASE, DT_MIB + lbs);
	}
	/* the end of the device: cut short, then -ENOSPC */
	write_check(fd, ctx, &b, lbs, DT_MIB, size - DT_MIB / 2, DT_MIB / 2);
	write_check(fd, ctx, &b, 0, lbs, size - lbs, lbs);
	write_check(fd, ctx, &b, 0, 4 * lbs, size, -ENOSPC);
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	pt_free(&b);
	printf("%s: %lu writes ok\n", ctx, writes - start);
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
	if (7 * lbs + 4 * DT_MIB + lbs > BUF_SIZE || BASE + 4 * DT_MIB + 5 * lbs > AREA)
		t_fail("drive %d has %u-byte blocks: the buffer is too small for the matrix",
		       n, lbs);
	dt_dev_fill(fd, 0, AREA, SEED_BG);
	dt_dev_fill(fd, size - DT_MIB, DT_MIB, SEED_BG);
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
		printf("a bed of one drive: split writes not covered\n");

	io_uring_queue_exit(&ring);
	pt_done();
	return T_EXIT_PASS;
}
