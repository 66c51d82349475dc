// SPDX-License-Identifier: MIT
/*
 * Premapped buffers on every kind of ring: plain, SINGLE_ISSUER|
 * DEFER_TASKRUN, SQPOLL and IOPOLL (the bed boots with nvme.poll_queues=1,
 * so a drive with polled queues must take IOPOLL: a refusal fails the
 * test).  On each, a slot premapped for drive 0 (a page-aligned buffer)
 * and one for drive 1 (a buffer 512 bytes into a page): a batch of
 * WRITE_FIXED at queue depth 8, checked with plain O_DIRECT pread, a batch
 * of READ_FIXED back into the other half of the buffer, checked byte for
 * byte with the rest of each region untouched, then one synchronous read.
 * Every I/O must have used the long-lived mapping (none in the swiotlb bed).
 */
#include "premap-test.h"

#include <limits.h>

#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER	(1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN	(1U << 13)
#endif

#define SEED		0x7172
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
	struct pt_buf b;
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

/* Whether drive n has polled queues, with what was seen in why. */
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

static void prep(struct io_uring *ring, int opcode, const struct target *t,
		 const struct job *j, int read_half, unsigned int i)
{
	size_t off = j->buf_off + read_half * BUF_SIZE / 2;

	dt_prep(ring, opcode, t->fd, pt_addr(&t->b, off), j->len, j->dev_off, t->slot, i);
}

/* Run n jobs at once; return the first error or 0. */
static int run_batch(struct io_uring *ring, int opcode, const struct target *t,
		     const struct job *jobs, unsigned int n, int read_half)
{
	struct io_uring_cqe *cqe;
	unsigned int i, left = n;
	int err = 0, ret;

	for (i = 0; i < n; i++)
		prep(ring, opcode, t, &jobs[i], read_half, i);
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
			prep(ring, opcode, t, &jobs[i], read_half, i);
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
	long bios;
	int ret;

	for (i = 0; i < NJOBS; i++) {
		jobs[i].len = blocks[i] * t->lbs > REGION - t->lbs ? REGION - t->lbs :
			      blocks[i] * t->lbs;
		jobs[i].buf_off = i * REGION + (i & 1) * t->lbs;
		jobs[i].dev_off = (uint64_t)i * DT_MIB + (i % 3) * t->lbs;
		t_fill(t->b.p + jobs[i].buf_off, jobs[i].len, jobs[i].dev_off, seed);
		pt_poison(&t->b, BUF_SIZE / 2 + i * REGION, REGION);
	}
	snprintf(what, sizeof(what), "%s ring, drive %d", kind, t->n);
	bios = pt_bios();
	ret = run_batch(ring, IORING_OP_WRITE_FIXED, t, jobs, NJOBS, 0);
	if (ret == -EOPNOTSUPP)
		return ret;
	if (ret)
		t_fail("%s: batch of WRITE_FIXED failed", what);
	pt_expect_bios(bios, NJOBS, what);
	for (i = 0; i < NJOBS; i++) {
		snprintf(what, sizeof(what), "%s ring, drive %d: write %u", kind, t->n, i);
		if (dt_dev_verify(t->fd, jobs[i].dev_off, jobs[i].len, seed, what))
			t_fail("%s: wrong data on the drive", what);
	}
	bios = pt_bios();
	ret = run_batch(ring, IORING_OP_READ_FIXED, t, jobs, NJOBS, 1);
	if (ret)
		t_fail("%s ring, drive %d: batch of READ_FIXED failed", kind, t->n);
	snprintf(what, sizeof(what), "%s ring, drive %d: reads", kind, t->n);
	pt_expect_bios(bios, NJOBS, what);
	for (i = 0; i < NJOBS; i++) {
		size_t off = jobs[i].buf_off + BUF_SIZE / 2;

		snprintf(what, sizeof(what), "%s ring, drive %d: read %u", kind, t->n, i);
		if (t_verify(t->b.p + off, jobs[i].len, jobs[i].dev_off, seed, what) ||
		    dt_check_poison(t->b.p + off + jobs[i].len,
				    BUF_SIZE / 2 + (i + 1) * REGION - off - jobs[i].len,
				    "rest of the region"))
			t_fail("%s: wrong data in the buffer", what);
	}

	/* and one at a time */
	pt_poison(&t->b, 0, REGION);
	ret = pt_io(ring, IORING_OP_READ_FIXED, t->fd, pt_addr(&t->b, t->lbs), jobs[1].len,
		    jobs[1].dev_off, t->slot, 1);
	dt_expect_len(ret, jobs[1].len, "%s ring, drive %d: single READ_FIXED", kind, t->n);
	if (t_verify(t->b.p + t->lbs, jobs[1].len, jobs[1].dev_off, seed, "single READ_FIXED"))
		t_fail("%s ring, drive %d: single READ_FIXED: wrong data", kind, t->n);
	return 0;
}

static void test_kind(unsigned int k, struct target *t, unsigned int nt)
{
	struct io_uring ring;
	unsigned int i;
	int ret;

	ret = io_uring_queue_init(2 * NJOBS, &ring, kinds[k].flags);
	if (ret)
		t_fail("%s ring: io_uring_queue_init: %s", kinds[k].name, strerror(-ret));
	dt_sparse(&ring, 2);
	for (i = 0; i < nt; i++)
		pt_register(&ring, t[i].slot, t[i].b.p, t[i].b.len, t[i].fd);
	for (i = 0; i < nt; i++) {
		ret = test_target(&ring, kinds[k].name, &t[i], SEED + 16 * k + i);
		if (ret == -EOPNOTSUPP && (kinds[k].flags & IORING_SETUP_IOPOLL)) {
			char why[128];

			if (polled_queues(i, why, sizeof(why)))
				t_fail("IOPOLL ring, drive %u: the kernel refuses polled I/O (-EOPNOTSUPP) although the drive has polled queues (%s)",
				       i, why);
			printf("IOPOLL not covered: drive %u has no polled queues (%s)\n", i, why);
			break;
		}
		if (ret)
			t_fail("%s ring, drive %d: %s", kinds[k].name, i, strerror(-ret));
	}
	if (i == nt)
		printf("%s ring: ok\n", kinds[k].name);
	io_uring_queue_exit(&ring);
}

int main(void)
{
	struct target t[2];
	unsigned int i, k, nt = 0;

	pt_require();
	for (i = 0; i < 2; i++) {
		if (i >= (unsigned int)t_bed_drives()) {
			printf("a bed of one drive: split I/O not covered\n");
			break;
		}
		t[i].n = i;
		t[i].fd = pt_open(i, &t[i].lbs);
		t[i].slot = i;
		if (t[i].lbs > REGION / 4)
			t_fail("drive %u has %u-byte blocks: too large for the regions", i,
			       t[i].lbs);
		pt_alloc(&t[i].b, BUF_SIZE, i * 512);
		nt++;
	}
	for (k = 0; k < DT_ARRAY_SIZE(kinds); k++)
		test_kind(k, t, nt);
	for (i = 0; i < nt; i++) {
		close(t[i].fd);
		pt_free(&t[i].b);
	}
	pt_done();
	return T_EXIT_PASS;
}
