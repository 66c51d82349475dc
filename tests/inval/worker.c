// SPDX-License-Identifier: MIT
/*
 * An exporter that moves buffers from a work item, the way GPU drivers'
 * eviction and restore workers do: the worker takes the reservation lock,
 * invalidates the importers' mappings and waits for their fences with the
 * lock held.  The importer must never need that lock to let its fences
 * signal (an upstream version of this work deadlocked against amdgpu's
 * restore worker exactly there), and must not sleep on it where the
 * exporter waits for it: when the slot is unregistered while the worker
 * holds the lock, the unmap is deferred instead of waited for.
 *
 * Reads at queue depth 8 through a slot of a test-exporter buffer, moved
 * by the exporter's worker in a loop; every 64 reads the slot is cleared
 * and registered again.  On a debug kernel lockdep checks every lock taken
 * on the way.  Every read is verified, no byte of old pages may have been
 * written after a move, and no mapping or attachment may be left at the end.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "test.h"
#include "dmabuf-rw.h"
#include "mover.h"

#define QD		8
#define BUF_SIZE	(1U << 20)
#define LEN		(16U << 10)
#define AREA		(8ULL << 20)
#define SEED		0x3a3a
#define READS		1500		/* a tenth on a debug kernel */
#define REREGISTER	64

static atomic_int stop;
static int dev, buf;
static unsigned long moves, move_errors;

static void *worker_mover(void *arg)
{
	struct dmabuf_mover_move m = { .fd = buf, .timeout_ms = 30000 };

	(void)arg;
	while (!atomic_load(&stop)) {
		if (ioctl(dev, DMABUF_MOVER_MOVE_WORKER, &m))
			move_errors++;
		else
			moves++;
	}
	return NULL;
}

int main(void)
{
	unsigned long done = 0, eagain = 0, reregs = 0, reads = t_scale(READS);
	uint64_t off[QD];
	struct dmabuf_mover_stats st;
	struct io_uring ring;
	unsigned char *map;
	int fd, ret, inflight = 0, busy[QD] = { 0 };
	pthread_t thr;

	t_require_dmabuf_io();
	dev = mover_open();
	buf = mover_create(dev, BUF_SIZE);
	map = t_mmap(buf, BUF_SIZE, PROT_READ | PROT_WRITE);
	fd = t_open_nvme(0, 0);
	t_fill_dev(fd, 0, AREA, SEED);
	if (io_uring_queue_init(QD, &ring, 0) || io_uring_register_buffers_sparse(&ring, 1))
		t_fail("ring setup");
	ret = dmabuf_rw_register_dmabuf(&ring, 0, buf, fd);
	if (ret < 0)
		t_fail("register: %s", strerror(-ret));
	if (pthread_create(&thr, NULL, worker_mover, NULL))
		t_fail("pthread_create");

	while (done < reads || inflight) {
		struct io_uring_cqe *cqe;
		unsigned int i;

		/*
		 * Every REREGISTER reads, drain and register the slot again:
		 * the old token goes while the worker may hold the lock.
		 */
		int rereg = done / REREGISTER > reregs;

		if (rereg && !inflight) {
			reregs++;
			ret = dmabuf_rw_clear_buffer(&ring, 0);
			if (ret < 0)
				t_fail("clear slot: %s", strerror(-ret));
			ret = dmabuf_rw_register_dmabuf(&ring, 0, buf, fd);
			if (ret < 0)
				t_fail("register again: %s", strerror(-ret));
		}
		for (i = 0; i < QD && !rereg && done + inflight < reads; i++) {
			struct io_uring_sqe *sqe;

			if (busy[i])
				continue;
			off[i] = ((done + inflight) * 7919 % (AREA / LEN)) * LEN;
			sqe = io_uring_get_sqe(&ring);
			dmabuf_rw_prep_read(sqe, fd, 0, (uint64_t)i * LEN, LEN, off[i]);
			sqe->user_data = i;
			busy[i] = 1;
			inflight++;
		}
		io_uring_submit(&ring);
		if (!inflight)
			continue;
		if (io_uring_wait_cqe(&ring, &cqe))
			t_fail("wait_cqe");
		i = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		busy[i] = 0;
		inflight--;
		if (ret == -EAGAIN) {
			eagain++;
			continue;
		}
		if (ret != LEN)
			t_fail("read: %d (%s)", ret, ret < 0 ? strerror(-ret) : "short");
		if (t_verify(map + (uint64_t)i * LEN, LEN, off[i], SEED, "read while the worker moves"))
			t_fail("data wrong after %lu moves", moves);
		done++;
	}
	atomic_store(&stop, 1);
	pthread_join(thr, NULL);
	io_uring_queue_exit(&ring);
	/* ring teardown puts the last token asynchronously */
	st = mover_settle(dev, buf, 10);
	for (int i = 0; (st.mapped || st.attachments) && i < 1000; i++) {
		usleep(10000);
		st = mover_stats(dev, buf);
	}
	printf("%lu reads, %lu -EAGAIN, %lu worker moves, %lu re-registrations, %llu stale bytes\n",
	       done, eagain, moves, reregs, (unsigned long long)st.stale_bytes);
	if (move_errors)
		t_fail("%lu moves failed (fences not signalled in 30 s?)", move_errors);
	if (!moves)
		t_fail("the worker never moved the buffer");
	if (st.stale_bytes)
		t_fail("%llu bytes of old pages written after their move",
		       (unsigned long long)st.stale_bytes);
	if (st.pending || st.mapped || st.attachments)
		t_fail("left behind: %llu old page sets, %llu mapped, %llu attachments",
		       (unsigned long long)st.pending, (unsigned long long)st.mapped,
		       (unsigned long long)st.attachments);
	munmap(map, BUF_SIZE);
	close(buf);
	close(fd);
	return T_EXIT_PASS;
}
