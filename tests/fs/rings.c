// SPDX-License-Identifier: MIT
/*
 * Files on every kind of ring: plain, SINGLE_ISSUER|DEFER_TASKRUN, SQPOLL
 * and IOPOLL (the guest boots with nvme.poll_queues=1, so the file systems'
 * drives have polled queues and ext4 and xfs files take polled direct I/O).
 *
 * On each ring, a file on ext4 and one on xfs, each registered with a
 * udmabuf and with a premapped buffer (four slots), get a batch of 8
 * WRITE_FIXED per slot, 32 KiB to 256 KiB, over data already there,
 * checked with a plain O_DIRECT pread; then a batch of READ_FIXED of the
 * same ranges into other regions of the buffers, checked there.
 */
#include "fs-buf.h"

#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER	(1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN	(1U << 13)
#endif

#define NJOBS		8
#define REGION		(256 * FT_KIB)
#define BUF_SIZE	(2 * NJOBS * REGION)	/* writes from the first half, reads into the second */
#define FILE_SIZE	(NJOBS * 512 * FT_KIB)
#define SEED		0x1e9

struct target {
	struct ft_fs *f;
	int fd;
	struct ft_buf b;
};

static struct target tg[FT_MAX_FS * FT_NKINDS];
static int nt;

static unsigned int job_len(unsigned int j)
{
	return (j + 1) * 32 * FT_KIB;
}

/* Every job of every target, reads or writes; then reap and check. */
static void batch(struct io_uring *ring, const char *rname, int write, uint32_t seed)
{
	struct io_uring_cqe *cqe;
	unsigned int n = 0, t, j;
	char what[128];
	int ret;

	for (t = 0; t < (unsigned int)nt; t++) {
		for (j = 0; j < NJOBS; j++) {
			size_t boff = (size_t)j * REGION + (write ? 0 : NJOBS * REGION);
			uint64_t off = (uint64_t)j * 512 * FT_KIB;

			if (write)
				ft_fill(&tg[t].b, boff, job_len(j), off, seed + t);
			else
				ft_poison(&tg[t].b, boff, job_len(j));
			ft_prep(ring, write, tg[t].fd, &tg[t].b, t, boff, job_len(j), off,
				t * NJOBS + j);
		}
	}
	dt_submit(ring);
	while (n < (unsigned int)nt * NJOBS) {
		if (io_uring_wait_cqe(ring, &cqe))
			t_fail("%s ring: io_uring_wait_cqe", rname);
		t = cqe->user_data / NJOBS;
		j = cqe->user_data % NJOBS;
		ret = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		snprintf(what, sizeof(what), "%s ring, %s: %s of %u at %u KiB", rname,
			 ft_where(tg[t].f, tg[t].b.kind), write ? "WRITE_FIXED" : "READ_FIXED",
			 job_len(j), j * 512);
		if (ret == -EAGAIN && tg[t].b.kind == FT_UDMABUF) {
			size_t boff = (size_t)j * REGION + (write ? 0 : NJOBS * REGION);

			dt_eagain++;
			ft_prep(ring, write, tg[t].fd, &tg[t].b, t, boff, job_len(j),
				(uint64_t)j * 512 * FT_KIB, t * NJOBS + j);
			dt_submit(ring);
			continue;
		}
		dt_expect_len(ret, job_len(j), "%s", what);
		n++;
	}
	for (t = 0; t < (unsigned int)nt; t++) {
		for (j = 0; j < NJOBS; j++) {
			uint64_t off = (uint64_t)j * 512 * FT_KIB;

			snprintf(what, sizeof(what), "%s ring, %s: %s job %u", rname,
				 ft_where(tg[t].f, tg[t].b.kind), write ? "write" : "read", j);
			if (write) {
				unsigned char *want = t_malloc(job_len(j));

				t_fill(want, job_len(j), off, seed + t);
				if (ft_dio_cmp(tg[t].fd, off, want, job_len(j), what))
					t_fail("%s: wrong data in the file", what);
				free(want);
			} else if (ft_verify(&tg[t].b, (size_t)j * REGION + NJOBS * REGION,
					     job_len(j), off, seed + t, what)) {
				t_fail("%s: wrong data in the buffer", what);
			}
		}
	}
}

int main(void)
{
	int nfs = ft_start(), i, k, t, ret;
	unsigned int r;
	char name[16];

	for (i = 0; i < nfs; i++) {
		ft_mount(&ft_fs[i]);
		for (k = 0; k < FT_NKINDS; k++, nt++) {
			tg[nt].f = &ft_fs[i];
			snprintf(name, sizeof(name), "file%d", k);
			tg[nt].fd = ft_create(&ft_fs[i], name, 0);
			dt_dev_fill(tg[nt].fd, 0, FILE_SIZE, SEED);
			ft_buf_alloc(&tg[nt].b, k, BUF_SIZE);
		}
	}
	for (r = 0; r < DT_ARRAY_SIZE(dt_ring_kinds); r++) {
		struct io_uring ring;

		ret = io_uring_queue_init(2 * nt * NJOBS, &ring, dt_ring_kinds[r].flags);
		if (ret)
			t_fail("%s ring: io_uring_queue_init: %s", dt_ring_kinds[r].name, strerror(-ret));
		dt_sparse(&ring, nt);
		for (t = 0; t < nt; t++)
			ft_register(&ring, t, &tg[t].b, tg[t].fd);
		batch(&ring, dt_ring_kinds[r].name, 1, SEED + 16 * (r + 1));
		batch(&ring, dt_ring_kinds[r].name, 0, SEED + 16 * (r + 1));
		for (t = 0; t < nt; t++)
			ft_clear(&ring, t);
		io_uring_queue_exit(&ring);
		printf("%s ring: %d files, %d slots, %d writes and reads verified\n", dt_ring_kinds[r].name,
		       nfs, nt, 2 * nt * NJOBS);
	}
	for (t = 0; t < nt; t++) {
		ft_buf_free(&tg[t].b);
		close(tg[t].fd);
	}
	for (i = 0; i < nfs; i++)
		ft_umount(&ft_fs[i]);
	dt_report();
	return T_EXIT_PASS;
}
