// SPDX-License-Identifier: MIT
/*
 * Controller resets under load: reset_controller of drive 0 is written ten
 * times while READ_FIXED and WRITE_FIXED through a premapped slot run at
 * queue depth 16.  I/O must keep completing (a reset requeues what is in
 * flight) with verified data and never hang; an I/O that fails is an
 * error, and so is -EAGAIN (resets keep maps, and the pages of a premapped
 * buffer never move).  The mapping survives the resets: afterwards the slot
 * is still premapped, its dma-buf is still attached to the drive, and a
 * verified pass over the whole area still goes through the mapping.
 */
#include "premap-test.h"

#include <pthread.h>
#include <stdatomic.h>

#include "../life/nvme-sysfs.h"

#define BUF_SIZE	(4U << 20)
#define QD		16
#define IO_MAX		(64U << 10)
#define AREA		(16ULL << 20)
#define WRITE_BASE	(32ULL << 20)	/* each in-flight slot writes its own 64 KiB */
#define SEED		0x7e5e8
#define RESETS		10

static struct nvme_resets resets = { .n = RESETS };

struct io {
	uint64_t off;
	uint32_t len, seed;
	int busy, write;
};

int main(void)
{
	unsigned long ios = 0, eagain = 0, errors = 0;
	struct io_uring ring;
	struct io io[QD] = { 0 };
	struct pt_buf b;
	uint64_t rng = 42;
	unsigned int lbs;
	pthread_t thr;
	long bios;
	int fd, ret, inflight = 0;

	pt_require();
	resets.ctrl = nvme_need_ctrl_dir(0);
	fd = pt_open(0, &lbs);
	dt_dev_fill(fd, 0, AREA, SEED);
	if (io_uring_queue_init(QD, &ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(&ring, 1);
	pt_alloc(&b, BUF_SIZE, 512);
	pt_register(&ring, 0, b.p, b.len, fd);

	bios = pt_bios();
	if (pthread_create(&thr, NULL, nvme_resetter, &resets))
		t_fail("pthread_create");
	while (!atomic_load(&resets.stop) || inflight) {
		struct io_uring_cqe *cqe;
		unsigned int i;

		for (i = 0; i < QD && !atomic_load(&resets.stop); i++) {
			struct io *o = &io[i];
			unsigned char *p = b.p + (uint64_t)i * IO_MAX;

			if (o->busy)
				continue;
			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			o->len = (1 + (rng >> 33) % (IO_MAX / lbs)) * lbs;
			o->write = !((rng >> 20) % 4);
			if (o->write) {
				o->off = WRITE_BASE + (uint64_t)i * IO_MAX;
				o->seed = SEED + 1 + (uint32_t)ios;
				t_fill(p, o->len, o->off, o->seed);
			} else {
				o->off = (rng >> 7) % ((AREA - o->len) / lbs) * lbs;
				o->seed = SEED;
				memset(p, 0, o->len);
			}
			dt_prep(&ring, o->write ? IORING_OP_WRITE_FIXED : IORING_OP_READ_FIXED, fd,
				(uintptr_t)p, o->len, o->off, 0, i);
			o->busy = 1;
			inflight++;
		}
		io_uring_submit(&ring);
		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret)
			t_fail("wait_cqe: %s", strerror(-ret));
		i = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		io[i].busy = 0;
		inflight--;
		if (ret == -EAGAIN) {
			eagain++;
		} else if (ret < 0) {
			errors++;
			printf("%s failed during resets: %s\n", io[i].write ? "write" : "read",
			       strerror(-ret));
		} else if (ret != (int)io[i].len) {
			t_fail("short I/O: %d of %u", ret, io[i].len);
		} else {
			if (io[i].write ?
			    dt_dev_verify(fd, io[i].off, io[i].len, io[i].seed, "write during resets") :
			    t_verify(b.p + (uint64_t)i * IO_MAX, io[i].len, io[i].off, SEED,
				     "read during resets"))
				t_fail("data wrong during resets (%d done)", resets.done);
			ios++;
		}
	}
	pthread_join(thr, NULL);
	pt_expect_bios(bios, ios, "I/O during resets");

	/* After the resets: the mapping is still there and still used. */
	pt_expect_premapped(&ring, 0, pt_want, "the slot after the resets");
	pt_wait_pages(pt_want, "after the resets");
	for (uint64_t off = 0; off < AREA; off += BUF_SIZE / 2) {
		unsigned int len = BUF_SIZE / 2;

		memset(b.p, 0, len);
		ret = pt_io(&ring, IORING_OP_READ_FIXED, fd, pt_addr(&b, 0), len, off, 0, 1);
		if (ret != (int)len)
			t_fail("read after resets at %llu: %d (%s)", (unsigned long long)off,
			       ret, ret < 0 ? strerror(-ret) : "short");
		if (t_verify(b.p, len, off, SEED, "after resets"))
			t_fail("data wrong after %d resets", resets.done);
	}
	printf("%d resets, %lu I/Os done during them, %lu failed, %lu -EAGAIN\n", resets.done,
	       ios, errors, eagain);
	if (resets.errors)
		t_fail("%d resets could not be started", resets.errors);
	if (errors)
		t_fail("%lu I/Os failed across resets (they should be requeued)", errors);
	/* resets keep maps, and pages never move: nothing to retry */
	if (eagain)
		t_fail("%lu I/Os completed with -EAGAIN across resets", eagain);
	io_uring_queue_exit(&ring);
	pt_wait_pages(0, "after the ring's exit");
	pt_free(&b);
	close(fd);
	pt_done();
	return T_EXIT_PASS;
}
