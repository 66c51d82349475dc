// SPDX-License-Identifier: MIT
/*
 * Parallel reads into dma-buf slots: 1000 random READ_FIXED at queue depth
 * 16, each into its own region of a dma-buf (no two in-flight reads share
 * bytes), every one verified on completion against the pattern on the
 * drive, and the block after it checked untouched.  Half the regions are in
 * a udmabuf, half in a system-heap dma-buf, each in its own slot.  Sizes
 * are log-uniform from one block to 256 KiB on drive 0 and to 1 MiB on
 * drive 1, whose small MDTS (32 KiB) splits most of them.
 */
#include "dmabuf-test.h"

#define SEED		0x9a7a
#define NREADS		1000
#define QD		16
#define AREA		(32 * DT_MIB)	/* device bytes read from */
#define BUF_SIZE	(8 * DT_MIB)	/* per dma-buf: QD / 2 regions of 1 MiB */

struct region {
	const struct dt_buf *b;
	unsigned int slot;
	size_t base;		/* region start in b */
	size_t off;		/* this read: dma-buf offset, length, device offset */
	unsigned int len;
	uint64_t dev_off;
};

static struct io_uring ring;
static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Log-uniform in [1, max]. */
static unsigned int rnd_log(unsigned int max)
{
	unsigned int bits = 0, v;

	while ((1U << bits) < max)
		bits++;
	v = 1 + rnd() % (1U << (rnd() % (bits + 1)));
	return v > max ? max : v;
}

static void issue(struct region *r, int fd, unsigned int lbs, unsigned int region_size,
		  unsigned int idx)
{
	unsigned int blocks = rnd_log(region_size / lbs);
	size_t end;

	r->len = blocks * lbs;
	r->off = r->base + (rnd() % (region_size / lbs - blocks + 1)) * lbs;
	r->dev_off = (rnd() % ((AREA - r->len) / lbs + 1)) * lbs;
	end = r->off + r->len;
	/* poison the destination and the block after it (inside the region) */
	dt_poison(r->b, r->off, r->len + (end + lbs <= r->base + region_size ? lbs : 0));
	dt_prep(&ring, IORING_OP_READ_FIXED, fd, r->off, r->len, r->dev_off, r->slot, idx);
}

static void test_drive(int n, const struct dt_buf *bufs, unsigned int region_size)
{
	struct region regs[QD];
	unsigned int i, issued = 0, done = 0, inflight = 0, lbs;
	unsigned long bytes = 0;
	struct io_uring_cqe *cqe;
	char what[128];
	int fd, ret;

	fd = t_open_nvme(n, 0);
	lbs = t_dev_lbsize(fd);
	if (t_dev_size(fd) < AREA)
		t_missing("%u bytes on drive %d: it has %llu", AREA, n,
			  (unsigned long long)t_dev_size(fd));
	dt_dev_fill(fd, 0, AREA, SEED + n);
	for (i = 0; i < 2; i++)
		dt_register(&ring, i, &bufs[i], fd);
	for (i = 0; i < QD; i++) {
		regs[i].b = &bufs[i % 2];
		regs[i].slot = i % 2;
		regs[i].base = (i / 2) * region_size;
	}

	for (i = 0; i < QD && issued < NREADS; i++, issued++, inflight++)
		issue(&regs[i], fd, lbs, region_size, i);
	dt_submit(&ring);
	while (inflight) {
		struct region *r;

		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret)
			t_fail("io_uring_wait_cqe: %s", strerror(-ret));
		i = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (i >= QD)
			t_fail("unexpected CQE user_data %u", i);
		r = &regs[i];
		if (ret == -EAGAIN) {
			dt_eagain++;
			dt_prep(&ring, IORING_OP_READ_FIXED, fd, r->off, r->len,
				r->dev_off, r->slot, i);
			dt_submit(&ring);
			continue;
		}
		snprintf(what, sizeof(what), "drive %d read %u: %u bytes at %llu into %s +%zu",
			 n, done, r->len, (unsigned long long)r->dev_off, r->b->kind, r->off);
		dt_expect_len(ret, r->len, "%s", what);
		dt_cpu_begin(r->b);
		if (t_verify(r->b->map + r->off, r->len, r->dev_off, SEED + n, what) ||
		    (r->off + r->len + lbs <= r->base + region_size &&
		     dt_check_poison(r->b->map + r->off + r->len, lbs, "block after")))
			t_fail("%s: wrong data", what);
		dt_cpu_end(r->b);
		bytes += r->len;
		done++;
		inflight--;
		if (issued < NREADS) {
			issue(r, fd, lbs, region_size, i);
			dt_submit(&ring);
			issued++;
			inflight++;
		}
	}
	for (i = 0; i < 2; i++)
		dt_expect(dmabuf_rw_clear_buffer(&ring, i), 0, "clearing slot %u", i);
	printf("drive %d: %u reads at QD %u, up to %u KiB, %lu MiB, all verified\n",
	       n, done, QD, region_size >> 10, bytes >> 20);
	close(fd);
}

int main(void)
{
	struct dt_buf bufs[2];
	int ret;

	dt_require();
	ret = io_uring_queue_init(2 * QD, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 2);
	dt_udmabuf(&bufs[0], BUF_SIZE);
	dt_heapbuf(&bufs[1], BUF_SIZE);

	test_drive(0, bufs, 256 << 10);
	if (t_bed_drives() > 1)
		test_drive(1, bufs, DT_MIB);
	else
		printf("a bed of one drive: split reads not covered\n");

	io_uring_queue_exit(&ring);
	dt_buf_free(&bufs[0]);
	dt_buf_free(&bufs[1]);
	dt_report();
	return T_EXIT_PASS;
}
