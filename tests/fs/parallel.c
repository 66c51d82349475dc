// SPDX-License-Identifier: MIT
/*
 * Parallel load on several registered files at once: three files on each
 * file system, both mounted, each registered in a slot of its own (udmabuf
 * and premapped buffers in turn), one ring at queue depth 24 of random
 * READ_FIXED and WRITE_FIXED spread over all of them.
 *
 * Each file has a read area of a pattern and a 64 KiB window per queue
 * slot, which only that queue slot writes and reads, so every completion
 * has one right answer: reads are checked in the buffer on completion,
 * writes in the test's copy of the file.  At the end every file, read with
 * read(2) through the page cache after dropping it, must equal its copy.
 * Sizes from one sector to 64 KiB: the xfs drive's 32 KiB MDTS splits the
 * larger ones.
 */
#include "fs-buf.h"

#define NFILE		3		/* per file system */
#define MAX_T		(NFILE * FT_MAX_FS)
#define QD		24
#define WIN		(64 * FT_KIB)
#define READ_AREA	(2 * DT_MIB)
#define FILE_SIZE	(READ_AREA + QD * WIN)
#define SEED		0x9a9a

struct target {
	struct ft_fs *f;
	char name[16];
	int fd;
	struct ft_buf b;	/* QD regions of WIN */
	unsigned char *shadow;	/* what the file holds */
};

struct req {
	struct target *t;
	int write;
	unsigned int len;
	uint64_t off;
};

static struct io_uring ring;
static struct target tg[MAX_T];
static int nt;
static uint64_t rng = 0x5851f42d4c957f2dULL;
static uint32_t wseed = SEED + 100;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void issue(struct req *r, unsigned int i)
{
	unsigned int sectors = 1 + rnd() % (WIN / 512);

	r->t = &tg[rnd() % nt];
	r->len = sectors * 512;
	r->write = rnd() % 3 == 0;
	if (r->write || rnd() % 4 == 0)		/* own window */
		r->off = READ_AREA + (uint64_t)i * WIN + rnd() % (WIN / 512 - sectors + 1) * 512;
	else
		r->off = rnd() % ((READ_AREA - r->len) / 512 + 1) * 512;
	if (r->write) {
		wseed++;
		ft_fill(&r->t->b, (size_t)i * WIN, r->len, r->off, wseed);
		t_fill(r->t->shadow + r->off, r->len, r->off, wseed);
	} else {
		ft_poison(&r->t->b, (size_t)i * WIN, r->len);
	}
	ft_prep(&ring, r->write, r->t->fd, &r->t->b, r->t - tg, (size_t)i * WIN, r->len,
		r->off, i);
}

int main(void)
{
	unsigned long n = t_scale(3000), done = 0, bytes = 0;
	int nfs = ft_start(), i, j, ret;
	unsigned int inflight = 0, q;
	struct req reqs[QD];
	char what[128];

	if (io_uring_queue_init(2 * QD, &ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(&ring, MAX_T);
	for (i = 0; i < nfs; i++) {
		ft_mount(&ft_fs[i]);
		for (j = 0; j < NFILE; j++, nt++) {
			struct target *t = &tg[nt];

			t->f = &ft_fs[i];
			snprintf(t->name, sizeof(t->name), "file%d", j);
			t->fd = ft_create(t->f, t->name, 0);
			t->shadow = t_malloc(FILE_SIZE);
			t_fill(t->shadow, FILE_SIZE, 0, SEED + nt);
			if (pwrite(t->fd, t->shadow, FILE_SIZE, 0) != FILE_SIZE)
				t_fail("pwrite: %s", strerror(errno));
			ft_buf_alloc(&t->b, nt % FT_NKINDS, QD * WIN);
			ft_register(&ring, nt, &t->b, t->fd);
		}
	}

	for (q = 0; q < QD; q++, inflight++)
		issue(&reqs[q], q);
	dt_submit(&ring);
	while (inflight) {
		struct io_uring_cqe *cqe;
		struct req *r;

		if (io_uring_wait_cqe(&ring, &cqe))
			t_fail("io_uring_wait_cqe");
		q = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		r = &reqs[q];
		if (ret == -EAGAIN && r->t->b.kind == FT_UDMABUF) {
			dt_eagain++;
			ft_prep(&ring, r->write, r->t->fd, &r->t->b, r->t - tg, (size_t)q * WIN,
				r->len, r->off, q);
			dt_submit(&ring);
			continue;
		}
		snprintf(what, sizeof(what), "%s %s, %s: %s of %u at %llu", r->t->f->type,
			 r->t->name, r->t->b.name, r->write ? "WRITE_FIXED" : "READ_FIXED",
			 r->len, (unsigned long long)r->off);
		dt_expect_len(ret, r->len, "%s", what);
		if (!r->write && ft_cmp(&r->t->b, (size_t)q * WIN, r->t->shadow + r->off, r->len,
					what))
			t_fail("%s: wrong data", what);
		bytes += r->len;
		inflight--;
		if (++done + inflight < n) {
			issue(r, q);
			dt_submit(&ring);
			inflight++;
		}
	}

	for (i = 0; i < nt; i++) {
		struct target *t = &tg[i];

		ft_clear(&ring, i);
		ft_buf_free(&t->b);
		close(t->fd);
		snprintf(what, sizeof(what), "%s %s", t->f->type, t->name);
		if (ft_file_cmp(ft_path(t->f, t->name), 0, t->shadow, FILE_SIZE, what))
			t_fail("%s: the file does not hold what was written", what);
		unlink(ft_path(t->f, t->name));
	}
	for (i = 0; i < nfs; i++)
		ft_umount(&ft_fs[i]);
	io_uring_queue_exit(&ring);
	printf("%lu I/Os (%lu KiB) at queue depth %d over %d registered files, verified\n",
	       done, bytes >> 10, QD, nt);
	dt_report();
	return T_EXIT_PASS;
}
