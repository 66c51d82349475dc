// SPDX-License-Identifier: MIT
/*
 * READ_FIXED from NVMe straight into device memory: a PCI BAR exported by
 * vfio-pci as a dma-buf, filled peer to peer.
 *
 * The drive holds a position-dependent pattern written with plain O_DIRECT
 * pwrite.  Each read goes from file offsets {0, 1, 2, 7} blocks into BAR
 * offsets {0, 1, 2, 7} blocks, sizes {1, 2, 3, 7, 15, 16, 31, 32, 512}
 * blocks, 2 and 4 MiB.  Before each read the destination and one block on
 * each side are poisoned through the CPU mapping of the BAR.  After it the
 * BAR is checked twice: by the guest through VFIO's mmap of the BAR, and
 * by the host, which reads the file behind the BAR (vm/bar-agent.c):
 * data, and both guards still poisoned.  Every drive with every BAR it
 * can reach on this bed (p2p/route covers those it cannot).
 */
#include "p2p-test.h"

#define SEED		0x9e4d
#define AREA		(5 * DT_MIB)	/* device bytes with the pattern */

static struct io_uring ring;
static unsigned int lbs;
static unsigned long reads;

static void read_check(int fd, int n, const struct p2p_bar *b, size_t buf_off,
		       unsigned int len, uint64_t dev_off)
{
	size_t lo = buf_off >= lbs ? buf_off - lbs : 0;
	size_t hi = buf_off + len + lbs <= b->size ? buf_off + len + lbs : b->size;
	char what[128];
	int ret;

	snprintf(what, sizeof(what), "drive %d -> BAR %s: %u bytes at %llu into +%zu",
		 n, b->name, len, (unsigned long long)dev_off, buf_off);
	p2p_bar_poison(b, lo, hi - lo);
	ret = dt_io(&ring, IORING_OP_READ_FIXED, fd, buf_off, len, dev_off, 0);
	dt_expect_len(ret, len, "%s: READ_FIXED", what);
	if (t_verify(b->map + buf_off, len, dev_off, SEED, what) ||
	    dt_check_poison(b->map + lo, buf_off - lo, "guard before") ||
	    dt_check_poison(b->map + buf_off + len, hi - buf_off - len, "guard after"))
		t_fail("%s: wrong data in device memory, seen by the guest", what);
	if (p2p_host_verify(b->name, buf_off, len, dev_off, SEED, what) ||
	    p2p_host_check(b->name, lo, buf_off - lo, P2P_POISON, "guard before") ||
	    p2p_host_check(b->name, buf_off + len, hi - buf_off - len, P2P_POISON,
			   "guard after"))
		t_fail("%s: wrong data in device memory, seen by the host", what);
	reads++;
}

static void test_pair(int fd, int n, const struct p2p_bar *b, int dmabuf)
{
	static const unsigned int offs[] = { 0, 1, 2, 7 };
	static const unsigned int blocks[] = { 1, 2, 3, 7, 15, 16, 31, 32, 512 };
	unsigned int i, j, k, len, nlens = DT_ARRAY_SIZE(blocks) + 2;
	unsigned long start = reads;

	dt_expect(dmabuf_rw_register_dmabuf(&ring, 0, dmabuf, fd), 0,
		  "registering BAR %s for drive %d", b->name, n);
	for (i = 0; i < DT_ARRAY_SIZE(offs); i++)
		for (j = 0; j < DT_ARRAY_SIZE(offs); j++)
			for (k = 0; k < nlens; k++) {
				len = k < DT_ARRAY_SIZE(blocks) ? blocks[k] * lbs :
				      (k - DT_ARRAY_SIZE(blocks) + 1) * 2 * DT_MIB;
				read_check(fd, n, b, offs[j] * lbs, len, offs[i] * lbs);
			}
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	printf("%s: %lu reads ok\n", p2p_describe(n, b), reads - start);
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
		if (7 * lbs + 4 * DT_MIB + lbs > bed.bar[0].size)
			t_skip("BARs of %llu bytes (P2P_BAR): too small for the matrix",
			       (unsigned long long)bed.bar[0].size);
		dt_dev_fill(fd, 0, AREA, SEED);
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
