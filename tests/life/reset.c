// SPDX-License-Identifier: MIT
/*
 * Controller resets under load: reset_controller is written again and again
 * while reads and writes through a dma-buf slot run at queue depth 16.  I/O
 * must keep completing (a reset requeues in-flight requests) with verified
 * data, never hang, and the mapping must survive the resets: the function
 * and its IOMMU domain stay the same, so DMA addresses do not change, and
 * the test exporter is asked to map the buffer once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "test.h"
#include "dmabuf-rw.h"
#include "nvme-sysfs.h"
#include "../inval/mover.h"

#define BUF_SIZE	(4U << 20)
#define QD		16
#define IO_MAX		(64U << 10)
#define AREA		(16ULL << 20)
#define SEED		0x7e5e7
#define RESETS		10

static struct nvme_resets resets = { .n = RESETS };

int main(void)
{
	unsigned long ios = 0, eagain = 0, errors = 0;
	struct dmabuf_mover_stats st;
	struct io_uring ring;
	unsigned char *map;
	uint64_t seed = 42;
	unsigned int lbs;
	pthread_t thr;
	int dev, buf, fd, ret, inflight = 0;
	uint64_t off[QD];
	uint32_t len[QD];
	int busy[QD];

	t_require_dmabuf_io();
	resets.ctrl = nvme_need_ctrl_dir(0);
	dev = mover_open();
	buf = mover_create(dev, BUF_SIZE);
	map = t_mmap(buf, BUF_SIZE, PROT_READ | PROT_WRITE);
	fd = t_open_nvme(0, 0);
	lbs = t_dev_lbsize(fd);

	t_fill_dev(fd, 0, AREA, SEED);

	if (io_uring_queue_init(QD, &ring, 0) || io_uring_register_buffers_sparse(&ring, 1))
		t_fail("ring setup");
	ret = dmabuf_rw_register_dmabuf(&ring, 0, buf, fd);
	if (ret < 0)
		t_fail("register: %d (%s)", ret, strerror(-ret));

	if (pthread_create(&thr, NULL, nvme_resetter, &resets))
		t_fail("pthread_create");
	for (unsigned int i = 0; i < QD; i++)
		busy[i] = 0;
	while (!atomic_load(&resets.stop) || inflight) {
		struct io_uring_cqe *cqe;
		unsigned int i;

		for (i = 0; i < QD && !atomic_load(&resets.stop); i++) {
			struct io_uring_sqe *sqe;

			if (busy[i])
				continue;
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			len[i] = (1 + (seed >> 33) % (IO_MAX / lbs)) * lbs;
			off[i] = (seed >> 7) % ((AREA - len[i]) / lbs) * lbs;
			memset(map + (uint64_t)i * IO_MAX, 0, len[i]);
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_read_fixed(sqe, fd, (void *)(uintptr_t)((uint64_t)i * IO_MAX),
						 len[i], off[i], 0);
			sqe->user_data = i;
			busy[i] = 1;
			inflight++;
		}
		io_uring_submit(&ring);
		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret)
			t_fail("wait_cqe: %s", strerror(-ret));
		i = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		busy[i] = 0;
		inflight--;
		if (ret == -EAGAIN) {
			eagain++;
		} else if (ret < 0) {
			errors++;
			printf("read failed during resets: %s\n", strerror(-ret));
		} else if (ret != (int)len[i]) {
			t_fail("short read: %d of %u", ret, len[i]);
		} else {
			if (t_verify(map + (uint64_t)i * IO_MAX, len[i], off[i], SEED,
				     "read during resets"))
				t_fail("data wrong during resets (%d done)", resets.done);
			ios++;
		}
	}
	pthread_join(thr, NULL);

	/* After the resets, a verified pass over the whole area. */
	for (uint64_t off = 0; off < AREA; off += BUF_SIZE / 2) {
		unsigned int len = BUF_SIZE / 2;

		memset(map, 0, len);
		do {
			ret = t_io(&ring, IORING_OP_READ_FIXED, fd, 0, len, off, 0);
		} while (ret == -EAGAIN && ++eagain);
		if (ret != (int)len)
			t_fail("read after resets at %llu: %d (%s)", (unsigned long long)off,
			       ret, ret < 0 ? strerror(-ret) : "short");
		if (t_verify(map, len, off, SEED, "after resets"))
			t_fail("data wrong after %d resets", resets.done);
	}
	st = mover_stats(dev, buf);
	printf("%d resets, %lu reads done during them, %lu failed, %lu -EAGAIN retried, %llu maps\n",
	       resets.done, ios, errors, eagain, (unsigned long long)st.maps);
	if (resets.errors)
		t_fail("%d resets could not be started", resets.errors);
	if (errors)
		t_fail("%lu reads failed across resets (they should be requeued)", errors);
	if (st.maps != 1)
		t_fail("resets made the exporter map the buffer %llu times, want once",
		       (unsigned long long)st.maps);
	io_uring_queue_exit(&ring);
	close(fd);
	close(buf);
	return T_EXIT_PASS;
}
