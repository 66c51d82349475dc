// SPDX-License-Identifier: MIT
/*
 * WRITE_FIXED from a dma-buf slot, checked with plain O_DIRECT pread into
 * malloc'ed memory.
 *
 * The dma-buf is filled through its mmap with the pattern of the device
 * range it will be written to; WRITE_FIXED goes from buffer offsets
 * {0, 1, 7} blocks and a few dword-aligned ones to device offsets {0, 1, 3}
 * blocks past a base, sizes from one block to 4 MiB.  The read back covers
 * one block on each side, which must still hold the background pattern,
 * and the dma-buf must still hold what was written from it.  Writes that
 * reach the end of the device are cut short; one starting there fails with
 * -ENOSPC.  A few writes carry RWF_DSYNC or RWF_SYNC.  udmabuf and system
 * heap, drive 0 and drive 1 (small MDTS).
 */
#include "dmabuf-test.h"

#define SEED_BG		0xb6
#define SEED_IO		0x1000
#define BUF_SIZE	(5 * DT_MIB)
#define BASE		DT_MIB		/* device offset of the cases */
#define AREA		(6 * DT_MIB)	/* background-filled device bytes */

static struct io_uring ring;
static unsigned int lbs, seed = SEED_IO;
static int rwf;			/* RWF_* flags of the writes */
static unsigned long writes;

/*
 * Write len bytes from buf_off of the dma-buf in slot to dev_off; want is
 * the expected result (short at the end of the device).
 */
static void write_check(int fd, int n, unsigned int slot, const struct dt_buf *b,
			size_t buf_off, unsigned int len, uint64_t dev_off, int want)
{
	uint64_t size = t_dev_size(fd);
	uint64_t lo = dev_off >= lbs ? dev_off - lbs : 0;
	uint64_t hi = dev_off + len + lbs < size ? dev_off + len + lbs : size;
	unsigned int done = want > 0 ? want : 0;
	char what[128];
	int ret;

	seed++;
	snprintf(what, sizeof(what), "drive %d, %s: %u bytes from +%zu to %llu",
		 n, b->kind, len, buf_off, (unsigned long long)dev_off);
	dt_fill(b, buf_off, len, dev_off, seed);
	while ((ret = dt_io_once(&ring, IORING_OP_WRITE_FIXED, fd, buf_off, len, dev_off,
				 slot, rwf)) == -EAGAIN)
		dt_eagain++;
	dt_expect(ret, want, "%s: WRITE_FIXED%s", what, rwf ? " with RWF flags" : "");
	if (dt_verify(b, buf_off, len, dev_off, seed, "dma-buf after the write"))
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

static void test_buf(int fd, int n, unsigned int slot, const struct dt_buf *b)
{
	static const unsigned int dev_offs[] = { 0, 1, 3 };
	static const unsigned int buf_offs[] = { 0, 1, 7 };
	static const unsigned int blocks[] = { 1, 2, 7, 8, 16, 31, 128, 512 };
	static const unsigned int bytes[] = { DT_MIB, 4 * DT_MIB };
	static const unsigned int dword_offs[] = { 4, 2052, 4092 };
	unsigned int i, j, k, len, start = writes;
	uint64_t size = t_dev_size(fd);

	dt_register(&ring, slot, b, fd);
	for (i = 0; i < DT_ARRAY_SIZE(dev_offs); i++) {
		for (j = 0; j < DT_ARRAY_SIZE(buf_offs); j++) {
			for (k = 0; k < DT_ARRAY_SIZE(blocks) + DT_ARRAY_SIZE(bytes); k++) {
				len = k < DT_ARRAY_SIZE(blocks) ? blocks[k] * lbs :
					bytes[k - DT_ARRAY_SIZE(blocks)] + (j ? lbs : 0);
				write_check(fd, n, slot, b, buf_offs[j] * lbs, len,
					    BASE + dev_offs[i] * lbs, len);
			}
		}
	}
	for (j = 0; j < DT_ARRAY_SIZE(dword_offs); j++) {
		write_check(fd, n, slot, b, dword_offs[j], lbs, BASE + 5 * lbs, lbs);
		write_check(fd, n, slot, b, dword_offs[j], 9 * lbs, BASE, 9 * lbs);
		write_check(fd, n, slot, b, dword_offs[j], 65536 + lbs, BASE + lbs, 65536 + lbs);
	}
	/* data integrity writes (FUA or a flush) */
	for (rwf = RWF_DSYNC; rwf; rwf = rwf == RWF_DSYNC ? RWF_SYNC : 0) {
		write_check(fd, n, slot, b, lbs, 8 * lbs, BASE + lbs, 8 * lbs);
		write_check(fd, n, slot, b, 0, DT_MIB + lbs, BASE, DT_MIB + lbs);
	}
	/* the end of the device: cut short, then -ENOSPC */
	write_check(fd, n, slot, b, lbs, DT_MIB, size - DT_MIB / 2, DT_MIB / 2);
	write_check(fd, n, slot, b, 0, lbs, size - lbs, lbs);
	write_check(fd, n, slot, b, 0, 4 * lbs, size, -ENOSPC);
	dt_expect(dmabuf_rw_clear_buffer(&ring, slot), 0, "clearing slot %u", slot);
	printf("drive %d, %s: %lu writes ok\n", n, b->kind, writes - start);
}

static void test_drive(int n, const struct dt_buf *ub, const struct dt_buf *hb)
{
	int fd = t_open_nvme(n, 0);
	uint64_t size = t_dev_size(fd);

	lbs = t_dev_lbsize(fd);
	if (size < AREA + DT_MIB)
		t_missing("%u bytes on drive %d: it has %llu", AREA + DT_MIB, n,
			  (unsigned long long)size);
	if (7 * lbs + 4 * DT_MIB + lbs > BUF_SIZE || BASE + 4 * DT_MIB + 5 * lbs > AREA)
		t_fail("drive %d has %u-byte blocks: the buffer is too small for the matrix",
		       n, lbs);
	dt_dev_fill(fd, 0, AREA, SEED_BG);
	dt_dev_fill(fd, size - DT_MIB, DT_MIB, SEED_BG);
	test_buf(fd, n, 0, ub);
	test_buf(fd, n, 1, hb);
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
	dt_sparse(&ring, 2);
	dt_udmabuf(&ub, BUF_SIZE);
	dt_heapbuf(&hb, BUF_SIZE);

	test_drive(0, &ub, &hb);
	if (t_bed_drives() > 1)
		test_drive(1, &ub, &hb);
	else
		printf("a bed of one drive: split writes not covered\n");

	io_uring_queue_exit(&ring);
	dt_buf_free(&ub);
	dt_buf_free(&hb);
	dt_report();
	return T_EXIT_PASS;
}
