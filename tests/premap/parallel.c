// SPDX-License-Identifier: MIT
/*
 * Parallel load on both drives at once: one thread per drive, each with its
 * own ring and a premapped buffer for its drive, keeps 16 random
 * READ_FIXED and WRITE_FIXED in flight, 800 of them (a tenth on a debug
 * kernel).  Each in-flight slot owns a region of the buffer and, for
 * writes, a MiB of the drive, so nothing in flight shares bytes.  A read
 * of the drive's pattern area is verified on completion, with the block
 * after it still poisoned; a write is read back at once with plain
 * O_DIRECT pread.  Sizes are log-uniform from one block to 256 KiB on
 * drive 0 and to 1 MiB on drive 1 (small MDTS: most are split).  Every I/O
 * must have used the long-lived mapping (none in the swiotlb bed).
 */
#include "premap-test.h"

#include <pthread.h>

#define SEED		0x9a7b
#define NOPS		800
#define QD		16
#define READ_AREA	(32ULL * DT_MIB)	/* device bytes read from */
#define WRITE_BASE	(32ULL * DT_MIB)	/* QD MiB written to, one per region */

struct region {
	size_t base;		/* region start in the buffer */
	size_t off;		/* this I/O: buffer offset, length, device offset */
	unsigned int len;
	uint64_t dev_off;
	int write;
	uint32_t seed;
};

struct drive {
	int n, fd;
	unsigned int lbs, region_size, done, writes;
	struct io_uring ring;
	struct pt_buf b;
	uint64_t rng;
	unsigned long bytes;
};

static uint64_t rnd(struct drive *d)
{
	d->rng ^= d->rng << 13;
	d->rng ^= d->rng >> 7;
	d->rng ^= d->rng << 17;
	return d->rng;
}

/* Log-uniform in [1, max]. */
static unsigned int rnd_log(struct drive *d, unsigned int max)
{
	unsigned int bits = 0, v;

	while ((1U << bits) < max)
		bits++;
	v = 1 + rnd(d) % (1U << (rnd(d) % (bits + 1)));
	return v > max ? max : v;
}

static void prep(struct drive *d, struct region *r, unsigned int i)
{
	dt_prep(&d->ring, r->write ? IORING_OP_WRITE_FIXED : IORING_OP_READ_FIXED, d->fd,
		pt_addr(&d->b, r->off), r->len, r->dev_off, 0, i);
}

static void issue(struct drive *d, struct region *r, unsigned int i, unsigned int count)
{
	unsigned int blocks = rnd_log(d, d->region_size / d->lbs - 1);
	size_t slack = d->region_size - d->lbs - (size_t)blocks * d->lbs;

	r->len = blocks * d->lbs;
	r->off = r->base + (rnd(d) % (slack / d->lbs + 1)) * d->lbs;
	r->write = rnd(d) % 3 == 0;
	if (r->write) {
		/* region i writes only to MiB i of the write area */
		r->dev_off = WRITE_BASE + (uint64_t)i * DT_MIB +
			     (rnd(d) % ((DT_MIB - r->len) / d->lbs + 1)) * d->lbs;
		r->seed = SEED + 1000 + count;
		t_fill(d->b.p + r->off, r->len, r->dev_off, r->seed);
	} else {
		r->dev_off = (rnd(d) % ((READ_AREA - r->len) / d->lbs + 1)) * d->lbs;
		r->seed = SEED + d->n;
		pt_poison(&d->b, r->off, r->len + d->lbs);
	}
	prep(d, r, i);
}

static void *run(void *arg)
{
	struct drive *d = arg;
	struct region regs[QD];
	unsigned int i, issued = 0, inflight = 0, nops = t_scale(NOPS);
	struct io_uring_cqe *cqe;
	char what[160];
	int ret;

	for (i = 0; i < QD; i++)
		regs[i].base = (size_t)i * d->region_size;
	for (i = 0; i < QD && issued < nops; i++, issued++, inflight++)
		issue(d, &regs[i], i, issued);
	dt_submit(&d->ring);
	while (inflight) {
		struct region *r;

		ret = io_uring_wait_cqe(&d->ring, &cqe);
		if (ret)
			t_fail("drive %d: io_uring_wait_cqe: %s", d->n, strerror(-ret));
		i = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(&d->ring, cqe);
		if (i >= QD)
			t_fail("drive %d: unexpected CQE user_data %u", d->n, i);
		r = &regs[i];
		if (ret == -EAGAIN) {
			dt_eagain++;
			prep(d, r, i);
			dt_submit(&d->ring);
			continue;
		}
		snprintf(what, sizeof(what), "drive %d, I/O %u: %s of %u bytes at %llu, buffer +%zu",
			 d->n, d->done, r->write ? "write" : "read", r->len,
			 (unsigned long long)r->dev_off, r->off);
		dt_expect_len(ret, r->len, "%s", what);
		if (r->write ? dt_dev_verify(d->fd, r->dev_off, r->len, r->seed, what) :
		    t_verify(d->b.p + r->off, r->len, r->dev_off, r->seed, what) ||
		    dt_check_poison(d->b.p + r->off + r->len, d->lbs, "block after"))
			t_fail("%s: wrong data", what);
		d->bytes += r->len;
		d->writes += r->write;
		d->done++;
		inflight--;
		if (issued < nops) {
			issue(d, r, i, issued);
			dt_submit(&d->ring);
			issued++;
			inflight++;
		}
	}
	return NULL;
}

static void setup(struct drive *d, int n, unsigned int region_size)
{
	int ret;

	d->n = n;
	d->fd = pt_open(n, &d->lbs);
	d->region_size = region_size;
	d->rng = 0x2545f4914f6cdd1dULL + n;
	if (t_dev_size(d->fd) < WRITE_BASE + QD * DT_MIB)
		t_missing("%llu bytes on drive %d: it has %llu", WRITE_BASE + QD * DT_MIB, n,
			  (unsigned long long)t_dev_size(d->fd));
	dt_dev_fill(d->fd, 0, READ_AREA, SEED + n);
	ret = io_uring_queue_init(2 * QD, &d->ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&d->ring, 1);
	pt_alloc(&d->b, (size_t)QD * region_size, n * 512);
	pt_register(&d->ring, 0, d->b.p, d->b.len, d->fd);
}

int main(void)
{
	struct drive d[2];
	pthread_t thr[2];
	unsigned int i, nd = t_bed_drives() > 1 ? 2 : 1;
	long bios;

	pt_require();
	memset(d, 0, sizeof(d));
	for (i = 0; i < nd; i++)
		setup(&d[i], i, i ? DT_MIB + 512 : (256 << 10) + 512);
	if (nd == 1)
		printf("a bed of one drive: parallel load on two drives not covered\n");
	bios = pt_bios();
	for (i = 0; i < nd; i++)
		if (pthread_create(&thr[i], NULL, run, &d[i]))
			t_fail("pthread_create");
	for (i = 0; i < nd; i++)
		pthread_join(thr[i], NULL);
	pt_expect_bios(bios, d[0].done + (nd > 1 ? d[1].done : 0), "parallel I/O on both drives");
	for (i = 0; i < nd; i++) {
		printf("drive %d: %u I/Os (%u writes) at QD %u, %lu MiB, all verified\n", d[i].n,
		       d[i].done, d[i].writes, QD, d[i].bytes >> 20);
		io_uring_queue_exit(&d[i].ring);
		pt_free(&d[i].b);
		close(d[i].fd);
	}
	pt_done();
	return T_EXIT_PASS;
}
