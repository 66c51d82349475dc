// SPDX-License-Identifier: MIT
/*
 * READ_FIXED into a dma-buf slot, data checked through the dma-buf's mmap.
 *
 * The drive holds a position-dependent pattern written with plain O_DIRECT
 * pwrite.  Each read goes from file offsets {0, 1, 2, 7} blocks into buffer
 * offsets {0, 1, 2, 7} blocks with sizes {1, 2, 3, 7, 15, 16, 31, 32, 512}
 * blocks, 2 MiB and 4 MiB; the SQE addr is the offset into the dma-buf.
 * Before each read the destination and one block on each side are
 * poisoned: stale data, misplaced data and overruns all show.  Then
 * dword-aligned (not block-aligned) buffer offsets, and reads that reach
 * or start at the end of the device (short count, nothing written past it).
 * udmabuf and system-heap dma-bufs, drive 0 and drive 1 (small MDTS).
 */
#include "dmabuf-test.h"

#define SEED		0x4ead
#define BUF_SIZE	(5 * DT_MIB)	/* 7 blocks + 4 MiB + guard */
#define AREA		(5 * DT_MIB)	/* device bytes with the pattern */

static struct io_uring ring;
static unsigned int lbs;
static unsigned long reads;

/* Read len bytes at dev_off into buf_off of the dma-buf in slot, check. */
static void read_check(int fd, int n, unsigned int slot, const struct dt_buf *b,
		       size_t buf_off, unsigned int len, uint64_t dev_off,
		       unsigned int want)
{
	size_t lo = buf_off >= lbs ? buf_off - lbs : 0;
	size_t hi = buf_off + len + lbs <= b->size ? buf_off + len + lbs : b->size;
	char what[128];
	int ret;

	snprintf(what, sizeof(what), "drive %d, %s: %u bytes at %llu into +%zu",
		 n, b->kind, len, (unsigned long long)dev_off, buf_off);
	dt_poison(b, lo, hi - lo);
	ret = dt_io(&ring, IORING_OP_READ_FIXED, fd, buf_off, len, dev_off, slot);
	dt_expect_len(ret, want, "%s: READ_FIXED", what);
	dt_cpu_begin(b);
	if (t_verify(b->map + buf_off, want, dev_off, SEED, what) ||
	    dt_check_poison(b->map + lo, buf_off - lo, "guard before") ||
	    dt_check_poison(b->map + buf_off + want, hi - buf_off - want, "guard after"))
		t_fail("%s: wrong data in the dma-buf", what);
	dt_cpu_end(b);
	reads++;
}

static void test_buf(int fd, int n, unsigned int slot, const struct dt_buf *b)
{
	static const unsigned int offs[] = { 0, 1, 2, 7 };
	static const unsigned int blocks[] = { 1, 2, 3, 7, 15, 16, 31, 32, 512 };
	static const unsigned int bytes[] = { 2 * DT_MIB, 4 * DT_MIB };
	static const unsigned int dword_offs[] = { 4, 2052, 4092 };
	unsigned int i, j, k, len, start = reads;
	uint64_t size = t_dev_size(fd);

	dt_register(&ring, slot, b, fd);
	for (i = 0; i < DT_ARRAY_SIZE(offs); i++) {
		for (j = 0; j < DT_ARRAY_SIZE(offs); j++) {
			for (k = 0; k < DT_ARRAY_SIZE(blocks) + DT_ARRAY_SIZE(bytes); k++) {
				len = k < DT_ARRAY_SIZE(blocks) ? blocks[k] * lbs :
					bytes[k - DT_ARRAY_SIZE(blocks)];
				read_check(fd, n, slot, b, offs[j] * lbs, len,
					   offs[i] * lbs, len);
			}
		}
	}
	/* buffer offsets the DMA alignment allows but blocks do not */
	for (j = 0; j < DT_ARRAY_SIZE(dword_offs); j++) {
		read_check(fd, n, slot, b, dword_offs[j], lbs, 3 * lbs, lbs);
		read_check(fd, n, slot, b, dword_offs[j], 8 * lbs, 0, 8 * lbs);
		read_check(fd, n, slot, b, dword_offs[j], 65536 + lbs, lbs, 65536 + lbs);
	}
	/* the end of the device: a short read, then nothing */
	read_check(fd, n, slot, b, lbs, DT_MIB, size - DT_MIB / 2, DT_MIB / 2);
	read_check(fd, n, slot, b, 0, lbs, size - lbs, lbs);
	read_check(fd, n, slot, b, 0, 4 * lbs, size, 0);
	dt_expect(dmabuf_rw_clear_buffer(&ring, slot), 0, "clearing slot %u", slot);
	printf("drive %d, %s: %lu reads ok\n", n, b->kind, reads - start);
}

static void test_drive(int n, const struct dt_buf *ub, const struct dt_buf *hb)
{
	int fd = t_open_nvme(n, 0);
	uint64_t size = t_dev_size(fd);

	if (size < AREA + DT_MIB)
		t_missing("%u bytes on drive %d: it has %llu", AREA + DT_MIB, n,
			  (unsigned long long)size);
	lbs = t_dev_lbsize(fd);
	if (7 * lbs + 4 * DT_MIB + lbs > BUF_SIZE)
		t_fail("drive %d has %u-byte blocks: the buffer is too small for the matrix",
		       n, lbs);
	dt_dev_fill(fd, 0, AREA, SEED);
	dt_dev_fill(fd, size - DT_MIB, DT_MIB, SEED);
	test_buf(fd, n, 1, ub);
	test_buf(fd, n, 2, hb);
	close(fd);
}

int main(void)
{
	struct dt_buf ub, hb;
	int ret;

	dt_require();
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 4);
	dt_udmabuf(&ub, BUF_SIZE);
	dt_heapbuf(&hb, BUF_SIZE);

	test_drive(0, &ub, &hb);
	if (t_bed_drives() > 1)
		test_drive(1, &ub, &hb);
	else
		printf("a bed of one drive: split reads not covered\n");

	io_uring_queue_exit(&ring);
	dt_buf_free(&ub);
	dt_buf_free(&hb);
	dt_report();
	return T_EXIT_PASS;
}
