/* SPDX-License-Identifier: MIT */
/*
 * The body of dmabuf/rings and premap/rings: registered buffers of either
 * kind (buf-kind.h) on every kind of ring: plain, SINGLE_ISSUER|
 * DEFER_TASKRUN, SQPOLL and IOPOLL.  The guest boots with
 * nvme.poll_queues=1: a drive whose queue has polled queues (nvme's
 * poll_queues > 0, the queue's io_poll attribute 1) must take IOPOLL, and
 * the test fails if the kernel refuses it; only a bed booted without polled
 * queues may refuse it (-EOPNOTSUPP), which is reported as not covered.
 *
 * On each ring, buffer i in slot i for drive i (i < 2): a batch of
 * WRITE_FIXED at queue depth 8 from the first half of the buffer, checked
 * with plain O_DIRECT pread, then a batch of READ_FIXED back into the other
 * half, checked byte for byte with the rest of each region untouched, then
 * one synchronous read.  The kind checks the path of each batch and I/O
 * where it can tell (premapped: the long-lived mapping).
 */
#ifndef DMABUF_RW_RK_H
#define DMABUF_RW_RK_H

#include "buf-kind.h"

#include <limits.h>

#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER	(1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN	(1U << 13)
#endif

#define RK_BUF_SIZE	(4 * DT_MIB)
#define RK_NJOBS	8
#define RK_REGION	(RK_BUF_SIZE / 2 / RK_NJOBS)	/* 256 KiB per job and direction */

struct rk_job {
	unsigned int len;
	size_t buf_off;		/* write from here; read into buf_off + RK_BUF_SIZE / 2 */
	uint64_t dev_off;
};

struct rk_target {
	int fd, n;
	unsigned int slot, lbs;
	const struct bk_buf *b;
};

/* First line of a sysfs file as a number, -1 if it cannot be read. */
static inline long rk_sysfs_num(const char *path)
{
	char buf[32];
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			v = strtol(buf, NULL, 0);
		fclose(f);
	}
	return v;
}

/*
 * Whether drive n has polled queues, with what was seen in why: nvme's
 * poll_queues parameter and the namespace queue's io_poll attribute.
 */
static inline int rk_polled_queues(int n, char *why, size_t len)
{
	const char *dev = t_nvme_path(n);
	long param = rk_sysfs_num("/sys/module/nvme/parameters/poll_queues"), io_poll = -1;
	char path[PATH_MAX];

	if (dev) {
		snprintf(path, sizeof(path), "/sys/block/%s/queue/io_poll", dev + 5);
		io_poll = rk_sysfs_num(path);
	}
	snprintf(why, len, "nvme poll_queues=%ld, %s queue/io_poll=%ld", param,
		 dev ? dev + 5 : "?", io_poll);
	return param > 0 || io_poll > 0;
}

static inline void rk_prep(struct io_uring *ring, int opcode, const struct rk_target *t,
			   const struct rk_job *j, int read_half, unsigned int i)
{
	size_t off = j->buf_off + read_half * RK_BUF_SIZE / 2;

	dt_prep(ring, opcode, t->fd, bk_addr(t->b, off), j->len, j->dev_off, t->slot, i);
}

/*
 * Run n jobs at once; reissue -EAGAIN (counted in dt_eagain, which a
 * premapped test fails on at its end); return the first error or 0.
 */
static inline int rk_batch(struct io_uring *ring, int opcode, const struct rk_target *t,
			   const struct rk_job *jobs, unsigned int n, int read_half)
{
	struct io_uring_cqe *cqe;
	unsigned int i, left = n;
	int err = 0, ret;

	for (i = 0; i < n; i++)
		rk_prep(ring, opcode, t, &jobs[i], read_half, i);
	dt_submit(ring);
	while (left) {
		ret = io_uring_wait_cqe(ring, &cqe);
		if (ret)
			t_fail("io_uring_wait_cqe: %s", strerror(-ret));
		i = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		if (i >= n)
			t_fail("unexpected CQE user_data %u", i);
		if (ret == -EAGAIN) {
			dt_eagain++;
			rk_prep(ring, opcode, t, &jobs[i], read_half, i);
			dt_submit(ring);
			continue;
		}
		left--;
		if (ret != (int)jobs[i].len && !err) {
			printf("%s job %u: %u bytes at %llu: res %d (%s)\n",
			       opcode == IORING_OP_READ_FIXED ? "READ_FIXED" : "WRITE_FIXED",
			       i, jobs[i].len, (unsigned long long)jobs[i].dev_off, ret,
			       ret < 0 ? strerror(-ret) : "short");
			err = ret < 0 ? ret : -EIO;
		}
	}
	return err;
}

/* Returns -EOPNOTSUPP if the ring cannot do I/O on this file at all. */
static inline int rk_target_test(struct io_uring *ring, const char *kind,
				 const struct rk_target *t, uint32_t seed)
{
	static const unsigned int blocks[RK_NJOBS] = { 1, 8, 9, 64, 129, 256, 511, 512 };
	const struct bk_buf *b = t->b;
	struct rk_job jobs[RK_NJOBS];
	unsigned int i;
	char ctx[96], what[160];
	long mark;
	int ret;

	for (i = 0; i < RK_NJOBS; i++) {
		jobs[i].len = blocks[i] * t->lbs > RK_REGION - t->lbs ? RK_REGION - t->lbs :
			      blocks[i] * t->lbs;
		jobs[i].buf_off = i * RK_REGION + (i & 1) * t->lbs;
		jobs[i].dev_off = (uint64_t)i * DT_MIB + (i % 3) * t->lbs;
		bk_fill(b, jobs[i].buf_off, jobs[i].len, jobs[i].dev_off, seed);
		bk_poison(b, RK_BUF_SIZE / 2 + i * RK_REGION, RK_REGION);
	}
	snprintf(ctx, sizeof(ctx), "%s ring, drive %d, %s", kind, t->n, b->name);
	mark = bk_mark(b->kind);
	ret = rk_batch(ring, IORING_OP_WRITE_FIXED, t, jobs, RK_NJOBS, 0);
	if (ret == -EOPNOTSUPP)
		return ret;
	if (ret)
		t_fail("%s: batch of WRITE_FIXED failed", ctx);
	bk_expect(b->kind, mark, RK_NJOBS, ctx);
	for (i = 0; i < RK_NJOBS; i++) {
		snprintf(what, sizeof(what), "%s: write %u", ctx, i);
		if (dt_dev_verify(t->fd, jobs[i].dev_off, jobs[i].len, seed, what))
			t_fail("%s: wrong data on the drive", what);
	}
	mark = bk_mark(b->kind);
	ret = rk_batch(ring, IORING_OP_READ_FIXED, t, jobs, RK_NJOBS, 1);
	if (ret)
		t_fail("%s: batch of READ_FIXED failed", ctx);
	snprintf(what, sizeof(what), "%s: reads", ctx);
	bk_expect(b->kind, mark, RK_NJOBS, what);
	bk_cpu_begin(b);
	for (i = 0; i < RK_NJOBS; i++) {
		size_t off = jobs[i].buf_off + RK_BUF_SIZE / 2;

		snprintf(what, sizeof(what), "%s: read %u", ctx, i);
		if (t_verify(b->p + off, jobs[i].len, jobs[i].dev_off, seed, what) ||
		    dt_check_poison(b->p + off + jobs[i].len,
				    RK_BUF_SIZE / 2 + (i + 1) * RK_REGION - off - jobs[i].len,
				    "rest of the region"))
			t_fail("%s: wrong data in the %s", what, b->kind->noun);
	}
	bk_cpu_end(b);

	/* and one at a time */
	bk_poison(b, 0, RK_REGION);
	ret = bk_io(ring, IORING_OP_READ_FIXED, t->fd, b, t->lbs, jobs[1].len, jobs[1].dev_off,
		    t->slot);
	dt_expect_len(ret, jobs[1].len, "%s ring, drive %d: single READ_FIXED", kind, t->n);
	if (bk_verify(b, t->lbs, jobs[1].len, jobs[1].dev_off, seed, "single READ_FIXED"))
		t_fail("%s ring, drive %d: single READ_FIXED: wrong data", kind, t->n);
	return 0;
}

/* Ring kind k, its targets' buffers registered in their slots; seeds from seed. */
static inline void rk_ring(unsigned int k, const struct rk_target *t, unsigned int nt,
			   uint32_t seed)
{
	struct io_uring ring;
	unsigned int i;
	int ret;

	ret = io_uring_queue_init(2 * RK_NJOBS, &ring, dt_ring_kinds[k].flags);
	if (ret)
		t_fail("%s ring: io_uring_queue_init: %s", dt_ring_kinds[k].name, strerror(-ret));
	dt_sparse(&ring, 2);
	for (i = 0; i < nt; i++)
		bk_register(&ring, t[i].slot, t[i].b, t[i].fd);
	for (i = 0; i < nt; i++) {
		ret = rk_target_test(&ring, dt_ring_kinds[k].name, &t[i], seed + 16 * k + i);
		if (ret == -EOPNOTSUPP && (dt_ring_kinds[k].flags & IORING_SETUP_IOPOLL)) {
			char why[128];

			if (rk_polled_queues(i, why, sizeof(why)))
				t_fail("IOPOLL ring, drive %u: the kernel refuses polled I/O (-EOPNOTSUPP) although the drive has polled queues (%s)",
				       i, why);
			printf("IOPOLL not covered: drive %u has no polled queues (%s) and the kernel refuses polled I/O (-EOPNOTSUPP)\n",
			       i, why);
			break;
		}
		if (ret)
			t_fail("%s ring, drive %d: %s", dt_ring_kinds[k].name, i, strerror(-ret));
	}
	if (i == nt)
		printf("%s ring: ok\n", dt_ring_kinds[k].name);
	io_uring_queue_exit(&ring);
}

/*
 * The whole test on buffers of kind: drive i, opened once, is the target
 * of buffer i (bk_make()'s i) in slot i on every ring in turn.
 */
static inline int rk_main(const struct bk_kind *kind, uint32_t seed)
{
	struct bk_buf bufs[2];
	struct rk_target t[2];
	unsigned int i, k, nt = 0;

	kind->start();
	bk_make(&bufs[0], kind, RK_BUF_SIZE, 0);
	bk_make(&bufs[1], kind, RK_BUF_SIZE, 1);
	for (i = 0; i < 2; i++) {
		if (i >= (unsigned int)t_bed_drives()) {
			printf("a bed of one drive: split I/O not covered\n");
			break;
		}
		t[i].n = i;
		t[i].fd = t_open_nvme(i, 0);
		t[i].lbs = t_dev_lbsize(t[i].fd);
		t[i].slot = i;
		if (t[i].lbs > RK_REGION / 4)
			t_fail("drive %u has %u-byte blocks: too large for the regions", i,
			       t[i].lbs);
		t[i].b = &bufs[i];
		nt++;
	}
	for (k = 0; k < DT_ARRAY_SIZE(dt_ring_kinds); k++)
		rk_ring(k, t, nt, seed);
	for (i = 0; i < nt; i++)
		close(t[i].fd);
	bk_free(&bufs[0]);
	bk_free(&bufs[1]);
	kind->done();
	return T_EXIT_PASS;
}

#endif /* DMABUF_RW_RK_H */
