// SPDX-License-Identifier: MIT
/*
 * A dma-buf made of several ranges of a BAR, out of order: the map holds
 * one DMA range per piece (bus addresses, or physical addresses without
 * an IOMMU) or a single IOVA range (the IOMMU links the pieces together),
 * and I/O that crosses from one piece into the next must land in the
 * right places of the BAR.
 *
 * The dma-buf is BAR [6M, +64K), [0, +1M), [5M, +4K), [2M, +2M),
 * [1M + 64K, +8K), in that order.  Reads and writes of one block to 1 MiB
 * end or start at every boundary between pieces, with one block on either
 * side, and one covers the whole dma-buf.  For reads the host checks every
 * piece of the BAR: the pattern where the read went, the poison
 * everywhere else.  For writes the host puts the source into the pieces
 * and checks the drive; the guest checks both through its own views.
 * Through the host bridge with an IOMMU this needs the series' fix to
 * dma_buf_phys_vec_to_sgt(): Linux 7.3 links every piece at IOVA offset 0
 * and the registration fails with -EADDRINUSE.
 */
#include "p2p-test.h"

#define SEED		0x3a9
#define SEED_BG		0x3aa
#define WBASE		(8 * DT_MIB)

static const struct vfio_region_dma_range pieces[] = {
	{ 6 * DT_MIB, 64 * 1024 },
	{ 0, DT_MIB },
	{ 5 * DT_MIB, 4096 },
	{ 2 * DT_MIB, 2 * DT_MIB },
	{ DT_MIB + 64 * 1024, 8192 },
};
#define NR_PIECES	DT_ARRAY_SIZE(pieces)

static struct io_uring ring;
static unsigned int lbs;
static uint64_t dmabuf_size;
static unsigned long ios;

/* dma-buf offset of piece p */
static uint64_t piece_start(unsigned int p)
{
	uint64_t off = 0;
	unsigned int i;

	for (i = 0; i < p; i++)
		off += pieces[i].length;
	return off;
}

/* Poison every piece of the BAR. */
static void poison_pieces(const struct p2p_bar *b)
{
	unsigned int p;

	for (p = 0; p < NR_PIECES; p++)
		p2p_host_set(b->name, pieces[p].offset, pieces[p].length, P2P_POISON);
}

/*
 * dma-buf [x, x + len) holds the pattern of dev_off and the rest of the
 * pieces the poison: seen by the host and by the guest.
 */
static void check_pieces(const struct p2p_bar *b, uint64_t x, uint64_t len,
			 uint64_t dev_off, const char *what)
{
	unsigned int p;

	for (p = 0; p < NR_PIECES; p++) {
		uint64_t s = piece_start(p), e = s + pieces[p].length;
		uint64_t lo = x > s ? x : s, hi = x + len < e ? x + len : e;
		uint64_t bar_off = pieces[p].offset;
		const unsigned char *g = b->map + bar_off;

		if (lo >= hi)
			lo = hi = e;	/* the read does not touch this piece */
		if (p2p_host_check(b->name, bar_off, lo - s, P2P_POISON, what) ||
		    p2p_host_verify(b->name, bar_off + lo - s, hi - lo, dev_off + lo - x, SEED, what) ||
		    p2p_host_check(b->name, bar_off + hi - s, e - hi, P2P_POISON, what))
			t_fail("%s: piece %u ([%llu, +%llu) of the BAR) is wrong, seen by the host",
			       what, p, (unsigned long long)bar_off,
			       (unsigned long long)pieces[p].length);
		if (dt_check_poison(g, lo - s, what) ||
		    t_verify(g + lo - s, hi - lo, dev_off + lo - x, SEED, what) ||
		    dt_check_poison(g + hi - s, e - hi, what))
			t_fail("%s: piece %u is wrong, seen by the guest", what, p);
	}
}

static void read_at(int fd, const struct p2p_bar *b, uint64_t x, uint64_t len, uint64_t dev_off)
{
	char what[128];
	int ret;

	snprintf(what, sizeof(what), "BAR %s: read of %llu bytes into dma-buf +%llu", b->name,
		 (unsigned long long)len, (unsigned long long)x);
	poison_pieces(b);
	ret = dt_io(&ring, IORING_OP_READ_FIXED, fd, x, len, dev_off, 0);
	dt_expect_len(ret, len, "%s", what);
	check_pieces(b, x, len, dev_off, what);
	ios++;
}

/* Host fills dma-buf [x, x + len) with the pattern of dev_off (piece by piece). */
static void fill_pieces(const struct p2p_bar *b, uint64_t x, uint64_t len, uint64_t dev_off,
			uint32_t seed)
{
	unsigned int p;

	for (p = 0; p < NR_PIECES; p++) {
		uint64_t s = piece_start(p), e = s + pieces[p].length;
		uint64_t lo = x > s ? x : s, hi = x + len < e ? x + len : e;

		if (lo < hi)
			p2p_host_fill(b->name, pieces[p].offset + lo - s, hi - lo,
				      dev_off + lo - x, seed);
	}
}

static void write_at(int fd, int n, const struct p2p_bar *b, uint64_t x, uint64_t len,
		     uint64_t dev_off)
{
	char what[128], img[16];
	int ret;

	snprintf(img, sizeof(img), "nvme%d", n);
	snprintf(what, sizeof(what), "BAR %s: write of %llu bytes from dma-buf +%llu", b->name,
		 (unsigned long long)len, (unsigned long long)x);
	fill_pieces(b, x, len, dev_off, SEED);
	ret = dt_io(&ring, IORING_OP_WRITE_FIXED, fd, x, len, dev_off, 0);
	dt_expect_len(ret, len, "%s", what);
	if (p2p_host_verify(img, dev_off - lbs, lbs, dev_off - lbs, SEED_BG, "block before") ||
	    p2p_host_verify(img, dev_off, len, dev_off, SEED, what) ||
	    p2p_host_verify(img, dev_off + len, lbs, dev_off + len, SEED_BG, "block after") ||
	    dt_dev_verify(fd, dev_off - lbs, lbs, SEED_BG, "block before") ||
	    dt_dev_verify(fd, dev_off, len, SEED, what) ||
	    dt_dev_verify(fd, dev_off + len, lbs, SEED_BG, "block after"))
		t_fail("%s: wrong data on the drive", what);
	dt_dev_fill(fd, dev_off, len, SEED_BG);
	ios++;
}

static void test_pair(int fd, int n, const struct p2p_bar *b)
{
	static const unsigned int lens[] = { 1, 8, 128, 2048 };	/* blocks */
	int dmabuf, i, ret;
	unsigned int p, j;
	uint64_t bnd, len;

	dmabuf = p2p_export_ranges(b, NR_PIECES, pieces);
	if (dmabuf < 0)
		t_fail("exporting %u ranges of BAR %s: %s", (unsigned int)NR_PIECES, b->name,
		       strerror(-dmabuf));
	if ((uint64_t)lseek(dmabuf, 0, SEEK_END) != dmabuf_size)
		t_fail("dma-buf of %u ranges: size %lld, want %llu", (unsigned int)NR_PIECES,
		       (long long)lseek(dmabuf, 0, SEEK_END), (unsigned long long)dmabuf_size);
	ret = dmabuf_rw_register_dmabuf(&ring, 0, dmabuf, fd);
	dt_expect(ret, 0, "registering %u ranges of BAR %s for drive %d", (unsigned int)NR_PIECES,
		  b->name, n);
	for (p = 1; p < NR_PIECES; p++) {
		bnd = piece_start(p);
		for (j = 0; j < DT_ARRAY_SIZE(lens); j++) {
			len = (uint64_t)lens[j] * lbs;
			/* ending at the boundary, starting at it, one block across */
			for (i = 0; i < 3; i++) {
				uint64_t x = i == 0 ? bnd - len : i == 1 ? bnd : bnd - lbs;
				uint64_t l = i == 2 ? len + lbs : len;

				if (x > bnd || x + l > dmabuf_size)
					continue;
				read_at(fd, b, x, l, lbs * (p + j));
				write_at(fd, n, b, x, l, WBASE + lbs * (p + j + 1));
			}
		}
	}
	read_at(fd, b, 0, dmabuf_size, 0);
	write_at(fd, n, b, 0, dmabuf_size, WBASE + lbs);
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	close(dmabuf);
	printf("%s: %u pieces, %lu reads and writes across them ok\n", p2p_describe(n, b),
	       (unsigned int)NR_PIECES, ios);
	ios = 0;
}

int main(void)
{
	struct p2p_bed bed;
	int n, i, ret, pairs = 0;
	unsigned int p;

	p2p_require();
	for (p = 0; p < NR_PIECES; p++)
		dmabuf_size += pieces[p].length;
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 1);
	p2p_bed_open(&bed);
	if (bed.bar[0].size < 8 * DT_MIB)
		t_skip("BARs of %llu bytes (P2P_BAR), need 8 MiB", (unsigned long long)bed.bar[0].size);

	for (n = 0; n < bed.drives; n++) {
		int fd = t_open_nvme(n, 0);

		lbs = t_dev_lbsize(fd);
		if (t_dev_size(fd) < WBASE + 2 * dmabuf_size)
			t_missing("%llu bytes on drive %d: it has %llu",
				  (unsigned long long)(WBASE + 2 * dmabuf_size), n,
				  (unsigned long long)t_dev_size(fd));
		dt_dev_fill(fd, 0, WBASE + 2 * dmabuf_size, SEED);
		dt_dev_fill(fd, WBASE, 2 * dmabuf_size, SEED_BG);
		for (i = 0; i < 2; i++) {
			if (p2p_outcome(n, &bed.bar[i]) != P2P_WORKS) {
				printf("%s: no data path here (see p2p/route)\n",
				       p2p_describe(n, &bed.bar[i]));
				continue;
			}
			test_pair(fd, n, &bed.bar[i]);
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
