// SPDX-License-Identifier: MIT
/*
 * WRITE_FIXED from device memory straight to NVMe: a PCI BAR exported by
 * vfio-pci as a dma-buf, read by the drive peer to peer.
 *
 * The source data is put into the BAR by the host (vm/bar-agent.c writes
 * the file behind it) and checked by the guest through VFIO's mmap of the
 * BAR before the write.  Writes go from BAR offsets {0, 1, 2, 7} blocks to
 * device offsets {0, 1, 2, 7} blocks past a base, sizes {1, 2, 3, 7, 15,
 * 16, 31, 32, 512} blocks, 2 and 4 MiB, over a background pattern.  The drive
 * is then checked twice: by the guest with O_DIRECT pread into host
 * memory, and by the host in the drive's image file, each time with one
 * block on each side that must still hold the background; the BAR must
 * still hold what was written from it.
 */
#include "p2p-test.h"

#define SEED_BG		0x5b6
#define SEED_IO		0x7000
#define BASE		DT_MIB		/* device offset of the cases */
#define AREA		(6 * DT_MIB)	/* background-filled device bytes */

static struct io_uring ring;
static unsigned int lbs, seed = SEED_IO;
static unsigned long writes;

static void write_check(int fd, int n, const struct p2p_bar *b, size_t buf_off,
			unsigned int len, uint64_t dev_off)
{
	uint64_t lo = dev_off - lbs;
	char what[128], img[16];
	int ret;

	seed++;
	snprintf(what, sizeof(what), "BAR %s -> drive %d: %u bytes from +%zu to %llu",
		 b->name, n, len, buf_off, (unsigned long long)dev_off);
	snprintf(img, sizeof(img), "nvme%d", n);
	p2p_host_fill(b->name, buf_off, len, dev_off, seed);
	if (t_verify(b->map + buf_off, len, dev_off, seed, "BAR before the write"))
		t_fail("%s: the guest does not see what the host put in the BAR", what);
	ret = dt_io(&ring, IORING_OP_WRITE_FIXED, fd, buf_off, len, dev_off, 0);
	dt_expect_len(ret, len, "%s: WRITE_FIXED", what);
	if (dt_dev_verify(fd, lo, lbs, SEED_BG, "block before") ||
	    dt_dev_verify(fd, dev_off, len, seed, what) ||
	    dt_dev_verify(fd, dev_off + len, lbs, SEED_BG, "block after"))
		t_fail("%s: wrong data on the drive, seen by the guest", what);
	if (p2p_host_verify(img, lo, lbs, lo, SEED_BG, "block before") ||
	    p2p_host_verify(img, dev_off, len, dev_off, seed, what) ||
	    p2p_host_verify(img, dev_off + len, lbs, dev_off + len, SEED_BG, "block after"))
		t_fail("%s: wrong data on the drive, seen by the host", what);
	if (p2p_host_verify(b->name, buf_off, len, dev_off, seed, "BAR after the write"))
		t_fail("%s: the write changed its source", what);
	/* restore the background for the next case */
	dt_dev_fill(fd, dev_off, len, SEED_BG);
	writes++;
}

static void test_pair(int fd, int n, const struct p2p_bar *b, int dmabuf)
{
	static const unsigned int offs[] = { 0, 1, 2, 7 };
	static const unsigned int blocks[] = { 1, 2, 3, 7, 15, 16, 31, 32, 512 };
	unsigned int i, j, k, len, nlens = DT_ARRAY_SIZE(blocks) + 2;
	unsigned long start = writes;

	dt_expect(dmabuf_rw_register_dmabuf(&ring, 0, dmabuf, fd), 0,
		  "registering BAR %s for drive %d", b->name, n);
	for (i = 0; i < DT_ARRAY_SIZE(offs); i++)
		for (j = 0; j < DT_ARRAY_SIZE(offs); j++)
			for (k = 0; k < nlens; k++) {
				len = k < DT_ARRAY_SIZE(blocks) ? blocks[k] * lbs :
				      (k - DT_ARRAY_SIZE(blocks) + 1) * 2 * DT_MIB;
				write_check(fd, n, b, offs[j] * lbs, len, BASE + offs[i] * lbs);
			}
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	printf("%s: %lu writes ok\n", p2p_describe(n, b), writes - start);
}

int main(void)
{
	struct p2p_bed bed;
	int n, i, ret, pairs = 0;

	p2p_require();
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 1);
	p2p_bed_open(&bed);

	for (n = 0; n < bed.drives; n++) {
		int fd = t_open_nvme(n, 0);

		lbs = t_dev_lbsize(fd);
		if (t_dev_size(fd) < AREA)
			t_missing("%llu bytes on drive %d: it has %llu", (unsigned long long)AREA,
				  n, (unsigned long long)t_dev_size(fd));
		if (BASE + 7 * lbs + 4 * DT_MIB + lbs > AREA)
			t_fail("drive %d has %u-byte blocks: the area is too small for the matrix",
			       n, lbs);
		if (7 * lbs + 4 * DT_MIB > bed.bar[0].size)
			t_skip("BARs of %llu bytes (P2P_BAR): too small for the matrix",
			       (unsigned long long)bed.bar[0].size);
		dt_dev_fill(fd, 0, AREA, SEED_BG);
		for (i = 0; i < 2; i++) {
			if (p2p_outcome(n, &bed.bar[i]) != P2P_WORKS) {
				printf("%s: no data path here (see p2p/route)\n",
				       p2p_describe(n, &bed.bar[i]));
				continue;
			}
			test_pair(fd, n, &bed.bar[i], bed.dmabuf[i]);
			pairs++;
		}
		close(fd);
	}
	io_uring_queue_exit(&ring);
	p2p_bed_close(&bed);
	if (!pairs)
		t_skip("no drive reaches device memory on this bed (%s IOMMU; p2p/route checks why)",
		       p2p_iommu_mode());
	dt_report();
	return T_EXIT_PASS;
}
