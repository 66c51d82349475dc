// SPDX-License-Identifier: MIT
/*
 * The premapped path checks ranges and alignment exactly as the ordinary
 * one.  Its mapping covers whole pages, so a check done on the mapping
 * instead of the registered range would let I/O reach the bytes that share
 * the first and last page with the buffer but were never registered.
 *
 * The buffer starts 1024 bytes into a page and ends 2048 bytes into one;
 * the same memory is registered premapped in slot 0 and ordinary in slot 1.
 * (Addresses that break the device's 4-byte DMA alignment are refused by
 * the premapped path only: see misaligned().)  For each case (before the
 * buffer in its first page, a page before it, past its end in its last
 * page, at the end, wrapping the address space, misaligned addresses,
 * lengths and device offsets, the last block, a dword-aligned address,
 * zero length) a READ_FIXED and a WRITE_FIXED
 * through each slot must give the documented result, both the same, and
 * the unregistered bytes of the pages and the drive must be untouched by
 * every refused one.
 */
#include "premap-test.h"

#include <limits.h>

#define SEED		0x7a9e
#define SEED_CANARY	0xca7
#define LEAD		1024
#define LEN		((64U << 10) + 1024)	/* ends 2048 bytes into a page */
#define AREA		DT_MIB

static struct io_uring ring;
static struct pt_buf b;
static int fd;
static unsigned int lbs;
static size_t tail;		/* unregistered bytes after the buffer in its page */

static void canary_fill(void)
{
	t_fill(b.base, LEAD, 1ULL << 41, SEED_CANARY);
	t_fill(b.p + LEN, tail, (1ULL << 41) + LEAD, SEED_CANARY);
}

static void check_untouched(const char *what)
{
	if (t_verify(b.base, LEAD, 1ULL << 41, SEED_CANARY, "bytes before the buffer") ||
	    t_verify(b.p + LEN, tail, (1ULL << 41) + LEAD, SEED_CANARY, "bytes after the buffer"))
		t_fail("%s: unregistered bytes in the buffer's pages were written", what);
	if (dt_dev_verify(fd, 0, AREA, SEED, "drive pattern"))
		t_fail("%s: the drive was written", what);
}

/* want: the ordinary slot's result, whatever it is */
#define AS_ORDINARY	INT_MIN

/*
 * Buffer offset off (may be negative or huge: it is added to the address),
 * len bytes, device offset dev_off, both directions: the premapped slot
 * must give want and, when ordinary is set, the ordinary slot too (which
 * goes first).
 */
static void check(const char *what, int64_t off, unsigned int len, uint64_t dev_off, int want,
		  int ordinary)
{
	static const int ops[] = { IORING_OP_READ_FIXED, IORING_OP_WRITE_FIXED };
	uint64_t addr = (uint64_t)(uintptr_t)b.p + (uint64_t)off;
	int slot, i, k, ret, exp = want;

	for (i = 0; i < 2; i++) {
		for (k = 0; k <= ordinary; k++) {
			const char *op = i ? "WRITE_FIXED" : "READ_FIXED";

			slot = ordinary - k;
			canary_fill();
			/* a write must store the pattern it overwrites */
			if (i && off >= 0 && off + len <= LEN)
				t_fill(b.p + off, len, dev_off, SEED);
			ret = pt_io(&ring, ops[i], fd, addr, len, dev_off, slot, slot ? 0 : 1);
			if (want == AS_ORDINARY && slot)
				exp = ret;
			if (ret != exp)
				t_fail("%s: %s through the %s slot: %d (%s), want %d (%s)", what, op,
				       slot ? "ordinary" : "premapped", ret,
				       ret < 0 ? strerror(-ret) : "bytes", exp,
				       exp < 0 ? strerror(-exp) : "bytes");
			if (!i && ret > 0 && t_verify(b.p + off, ret, dev_off, SEED, what))
				t_fail("%s: %s through the %s slot: wrong data", what, op,
				       slot ? "ordinary" : "premapped");
			check_untouched(what);
		}
	}
}

static void one(const char *what, int64_t off, unsigned int len, uint64_t dev_off, int want)
{
	check(what, off, len, dev_off, want, 1);
}

/*
 * An address the device's DMA alignment (4 bytes) does not allow: -EINVAL
 * on the premapped path, as for any direct I/O.  Linux 7.3 does not check
 * it up front for asynchronous direct I/O from an ordinary registered
 * buffer (block/fops.c hands the bvecs to the driver as they are; only a
 * split at a misaligned page boundary fails), so the ordinary slot is left
 * out, but in the swiotlb bed, where the premapped slot is an ordinary
 * buffer too: there both must do the same.
 */
static void misaligned(const char *what, int64_t off, unsigned int len)
{
	check(what, off, len, 0, pt_want ? -EINVAL : AS_ORDINARY, !pt_want);
}

int main(void)
{
	int ret;

	pt_require();
	fd = pt_open(0, &lbs);
	dt_dev_fill(fd, 0, AREA, SEED);
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 2);
	pt_alloc(&b, LEN, LEAD);
	tail = b.map_len - PT_PAGE - LEAD - LEN;
	pt_register(&ring, 0, b.p, LEN, fd);
	dt_expect(dmabuf_rw_register_uaddr(&ring, 1, b.p, LEN), 0, "the same memory, ordinary");

	one("the first block", 0, lbs, lbs, lbs);
	one("the last block", LEN - lbs, lbs, 2 * lbs, lbs);
	one("the whole buffer", 0, LEN, 0, LEN);
	one("a dword-aligned address", 4, 8 * lbs, 0, 8 * lbs);
	one("a block before the buffer, in its first page", -(int64_t)lbs, lbs, 0, -EFAULT);
	one("starting before the buffer, ending in it", -(int64_t)lbs, 4 * lbs, 0, -EFAULT);
	one("a page before the buffer", -(int64_t)PT_PAGE, lbs, 0, -EFAULT);
	one("a block past the end, in its last page", LEN, lbs, 0, -EFAULT);
	one("ending a block past the end", LEN - lbs, 2 * lbs, 0, -EFAULT);
	one("the whole buffer and a block more", 0, LEN + lbs, 0, -EFAULT);
	one("a page past the end", LEN + PT_PAGE, lbs, 0, -EFAULT);
	one("wrapping the address space", -(int64_t)(uintptr_t)b.p - lbs, 2 * lbs, 0, -EFAULT);
	one("address 1 << 63", (int64_t)((1ULL << 63) - (uintptr_t)b.p), lbs, 0, -EFAULT);
	misaligned("address + 1", 1, lbs);
	misaligned("address + 2", 2, lbs);
	misaligned("address + 3, several pages", 3, 3 * PT_PAGE);
	one("length a block + 1", 0, lbs + 1, 0, -EINVAL);
	one("length half a block", 0, lbs / 2, 0, -EINVAL);
	one("device offset 1", 0, lbs, 1, -EINVAL);
	one("device offset half a block", 0, lbs, lbs / 2, -EINVAL);
	one("zero length", 0, 0, 0, 0);
	printf("ranges and alignment as for an ordinary buffer, unregistered bytes untouched\n");

	io_uring_queue_exit(&ring);
	pt_free(&b);
	close(fd);
	pt_done();
	return T_EXIT_PASS;
}
