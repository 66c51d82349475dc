// SPDX-License-Identifier: MIT
/*
 * dma-buf slots on every kind of ring: plain, SINGLE_ISSUER|DEFER_TASKRUN,
 * SQPOLL and IOPOLL.  The guest boots with nvme.poll_queues=1: a drive
 * whose queue has polled queues (nvme's poll_queues > 0, the queue's
 * io_poll attribute 1) must take IOPOLL, and the test fails if the kernel
 * refuses it; only a bed booted without polled queues may refuse it
 * (-EOPNOTSUPP), which is reported as not covered.  On
 * each: a batch of WRITE_FIXED at queue depth 8 from a udmabuf slot to
 * drive 0 and from a system-heap slot to drive 1, checked with plain
 * O_DIRECT pread, then a batch of READ_FIXED back into other regions of
 * the dma-bufs, checked through their mmaps, then single synchronous I/O.
 */
#include <limits.h>

#include "dmabuf-test.h"

#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER	(1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN	(1U << 13)
#endif

#define SEED		0x717
#define BUF_SIZE	(4 * DT_MIB)
#define NJOBS		8
#define REGION		(BUF_SIZE / 2 / NJOBS)	/* 256 KiB per job and direction */

struct job {
	unsigned int len;
	size_t buf_off;		/* write from here; read into buf_off + BUF_SIZE / 2 */
	uint64_t dev_off;
};

struct target {
	int fd, n;
	unsigned int slot, lbs;
	const struct dt_buf *b;
};

static const struct {
	const char *name;
	unsigned int flags;
} kinds[] = {
	{ "plain", 0 },
	{ "SINGLE_ISSUER|DEFER_TASKRUN", IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN },
	{ "SQPOLL", IORING_SETUP_SQPOLL },
	{ "IOPOLL", IORING_SETUP_IOPOLL },
};

/* First line of a sysfs file as a number, -1 if it cannot be read. */
static long sysfs_num(const char *path)
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
static int polled_queues(int n, char *why, size_t len)
{
	const char *dev = t_nvme_path(n);
	long param = sysfs_num("/sys/module/nvme/parameters/poll_queues"), io_poll = -1;
	char path[PATH_MAX];

	if (dev) {
		snprintf(path, sizeof(path), "/sys/block/%s/queue/io_poll", dev + 5);
		io_poll = sysfs_num(path);
	}
	snprintf(why, len, "nvme poll_queues=%ld, %s queue/io_poll=%ld", param,
		 dev ? dev + 5 : "?", io_poll);
	return param > 0 || io_poll > 0;
}

/* Run n jobs at once; reissue -EAGAIN; return the first error or 0. */
static int run_batch(struct io_uring *ring, int opcode, const struct target *t,
		     const struct job *jobs, unsigned int n, int read_half)
{
	struct io_uring_cqe *cqe;
	unsigned int i, left = n;
	int err = 0, ret;

	for (i = 0; i < n; i++)
		dt_prep(ring, opcode, t->fd, jobs[i].buf_off + read_half * BUF_SIZE / 2,
			jobs[i].len, jobs[i].dev_off, t->slot, i);
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
			dt_prep(ring, opcode, t->fd, jobs[i].buf_off + read_half * BUF_SIZE / 2,
				jobs[i].len, jobs[i].dev_off, t->slot, i);
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
static int test_target(struct io_uring *ring, const char *kind, const struct target *t,
		       uint32_t seed)
{
	static const unsigned int blocks[NJOBS] = { 1, 8, 9, 64, 129, 256, 511, 512 };
	struct job jobs[NJOBS];
	unsigned int i;
	char what[160];
	int ret;

	for (i = 0; i < NJOBS; i++) {
		jobs[i].len = blocks[i] * t->lbs > REGION - t->lbs ? REGION - t->lbs :
			      blocks[i] * t->lbs;
		jobs[i].buf_off = i * REGION + (i & 1) * t->lbs;
		jobs[i].dev_off = (uint64_t)i * DT_MIB + (i % 3) * t->lbs;
		dt_fill(t->b, jobs[i].buf_off, jobs[i].len, jobs[i].dev_off, seed);
		dt_poison(t->b, BUF_SIZE / 2 + i * REGION, REGION);
	}
	ret = run_batch(ring, IORING_OP_WRITE_FIXED, t, jobs, NJOBS, 0);
	if (ret == -EOPNOTSUPP)
		return ret;
	if (ret)
		t_fail("%s ring, drive %d, %s: batch of WRITE_FIXED failed", kind, t->n, t->b->kind);
	for (i = 0; i < NJOBS; i++) {
		snprintf(what, sizeof(what), "%s ring, drive %d, %s: write %u", kind, t->n,
			 t->b->kind, i);
		if (dt_dev_verify(t->fd, jobs[i].dev_off, jobs[i].len, seed, what))
			t_fail("%s: wrong data on the drive", what);
	}
	ret = run_batch(ring, IORING_OP_READ_FIXED, t, jobs, NJOBS, 1);
	if (ret)
		t_fail("%s ring, drive %d, %s: batch of READ_FIXED failed", kind, t->n, t->b->kind);
	dt_cpu_begin(t->b);
	for (i = 0; i < NJOBS; i++) {
		size_t off = jobs[i].buf_off + BUF_SIZE / 2;

		snprintf(what, sizeof(what), "%s ring, drive %d, %s: read %u", kind, t->n,
			 t->b->kind, i);
		if (t_verify(t->b->map + off, jobs[i].len, jobs[i].dev_off, seed, what) ||
		    dt_check_poison(t->b->map + off + jobs[i].len,
				    BUF_SIZE / 2 + (i + 1) * REGION - off - jobs[i].len,
				    "rest of the region"))
			t_fail("%s: wrong data in the dma-buf", what);
	}
	dt_cpu_end(t->b);

	/* and one at a time */
	dt_poison(t->b, 0, REGION);
	ret = dt_io(ring, IORING_OP_READ_FIXED, t->fd, t->lbs, jobs[1].len, jobs[1].dev_off,
		    t->slot);
	dt_expect_len(ret, jobs[1].len, "%s ring, drive %d: single READ_FIXED", kind, t->n);
	if (dt_verify(t->b, t->lbs, jobs[1].len, jobs[1].dev_off, seed, "single READ_FIXED"))
		t_fail("%s ring, drive %d: single READ_FIXED: wrong data", kind, t->n);
	return 0;
}

static void test_kind(unsigned int k, const struct dt_buf *bufs)
{
	struct target t[2];
	struct io_uring ring;
	unsigned int i, nt = 0;
	int ret;

	ret = io_uring_queue_init(2 * NJOBS, &ring, kinds[k].flags);
	if (ret)
		t_fail("%s ring: io_uring_queue_init: %s", kinds[k].name, strerror(-ret));
	dt_sparse(&ring, 2);
	for (i = 0; i < 2; i++) {
		if (i >= (unsigned int)t_bed_drives()) {
			printf("a bed of one drive: split I/O not covered\n");
			break;
		}
		t[i].n = i;
		t[i].fd = t_open_nvme(i, 0);
		t[i].lbs = t_dev_lbsize(t[i].fd);
		t[i].slot = i;
		t[i].b = &bufs[i];
		if (t[i].lbs > REGION / 4)
			t_fail("drive %u has %u-byte blocks: too large for the regions", i,
			       t[i].lbs);
		dt_register(&ring, i, t[i].b, t[i].fd);
		nt++;
	}
	for (i = 0; i < nt; i++) {
		ret = test_target(&ring, kinds[k].name, &t[i], SEED + 16 * k + i);
		if (ret == -EOPNOTSUPP && (kinds[k].flags & IORING_SETUP_IOPOLL)) {
			char why[128];

			if (polled_queues(i, why, sizeof(why)))
				t_fail("IOPOLL ring, drive %u: the kernel refuses polled I/O (-EOPNOTSUPP) although the drive has polled queues (%s)",
				       i, why);
			printf("IOPOLL not covered: drive %u has no polled queues (%s) and the kernel refuses polled I/O (-EOPNOTSUPP)\n",
			       i, why);
			break;
		}
		if (ret)
			t_fail("%s ring, drive %d: %s", kinds[k].name, i, strerror(-ret));
	}
	if (i == nt)
		printf("%s ring: ok\n", kinds[k].name);
	for (i = 0; i < nt; i++)
		close(t[i].fd);
	io_uring_queue_exit(&ring);
}

int main(void)
{
	struct dt_buf bufs[2];
	unsigned int k;

	dt_require();
	dt_udmabuf(&bufs[0], BUF_SIZE);
	dt_heapbuf(&bufs[1], BUF_SIZE);
	for (k = 0; k < DT_ARRAY_SIZE(kinds); k++)
		test_kind(k, bufs);
	dt_buf_free(&bufs[0]);
	dt_buf_free(&bufs[1]);
	dt_report();
	return T_EXIT_PASS;
}
