// SPDX-License-Identifier: MIT
/*
 * Controller resets racing with the rest of a buffer's life: while one
 * thread resets drive 0's controller in a loop and another has the test
 * exporter move a buffer from a work item (holding the reservation lock
 * while it waits for the importers' fences, as GPU drivers' eviction and
 * restore workers do), child processes register dma-bufs, start I/O, close
 * the dma-buf fds and exit without unregistering, so that their tokens are
 * freed by ring teardown in the middle of resets.
 *
 * Meanwhile the parent reads through a slot of the moving buffer and checks
 * the data.  Nothing may hang (the resets and the moves must finish), the
 * data must be right, and afterwards no mapping or attachment may be left.
 * DMA addresses do not change across a controller reset, so the reset must
 * not cost the buffer its mapping: without moves, the exporter is asked to
 * map it once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "test.h"
#include "dmabuf-rw.h"
#include "nvme-sysfs.h"
#include "../inval/mover.h"

#define BUF_SIZE	(1U << 20)
#define AREA		(8ULL << 20)
#define LEN		(64U << 10)
#define SEED		0x2e5e7
#define RESETS		8
#define CHILDREN	12

static atomic_int stop;
static char *ctrl;
static int dev, resets, moves, move_errors;

static void *resetter(void *arg)
{
	(void)arg;
	for (int i = 0; i < RESETS; i++) {
		if (sysfs_write(ctrl, "reset_controller", "1"))
			t_fail("reset %d could not be started", i);
		resets++;
		usleep(100000);
	}
	atomic_store(&stop, 1);
	return NULL;
}

static void *worker_mover(void *arg)
{
	struct dmabuf_mover_move m = { .fd = *(int *)arg, .timeout_ms = 30000 };

	while (!atomic_load(&stop)) {
		if (ioctl(dev, DMABUF_MOVER_MOVE_WORKER, &m))
			move_errors++;
		else
			moves++;
		usleep(5000);
	}
	return NULL;
}

/* Register, start I/O, drop the dma-buf fd, exit with the ring still set up. */
static void child(int n)
{
	struct io_uring ring;
	int fd = t_open_nvme(0, 0), buf = mover_create(dev, BUF_SIZE), ret;

	if (io_uring_queue_init(8, &ring, 0) || io_uring_register_buffers_sparse(&ring, 1))
		_exit(2);
	ret = dmabuf_rw_register_dmabuf(&ring, 0, buf, fd);
	if (ret < 0)
		_exit(ret == -EAGAIN ? 0 : 3);
	close(buf);
	for (int i = 0; i < 8; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		dmabuf_rw_prep_read(sqe, fd, 0, (uint64_t)i * LEN, LEN,
				    ((uint64_t)(n * 8 + i) * LEN) % AREA);
	}
	io_uring_submit(&ring);
	_exit(0);
}

static void read_check(struct io_uring *ring, int fd, unsigned char *map, uint64_t off)
{
	int ret;

	memset(map, 0, LEN);
	do {
		ret = t_io(ring, IORING_OP_READ_FIXED, fd, 0, LEN, off, 0);
	} while (ret == -EAGAIN);
	if (ret != LEN)
		t_fail("read at %llu: %d (%s)", (unsigned long long)off, ret,
		       ret < 0 ? strerror(-ret) : "short");
	if (t_verify(map, LEN, off, SEED, "read during resets and moves"))
		t_fail("data wrong after %d resets, %d moves", resets, moves);
}

int main(void)
{
	struct dmabuf_mover_stats st;
	struct io_uring ring;
	pthread_t rt, mt;
	unsigned char *map;
	unsigned long reads = 0;
	int fd, buf, ret, kids = 0;

	t_require_dmabuf_io();
	ctrl = nvme_ctrl_dir(0);
	if (!ctrl)
		t_fail("no sysfs controller for drive 0");
	dev = mover_open();
	fd = t_open_nvme(0, 0);
	t_fill_dev(fd, 0, AREA, SEED);
	buf = mover_create(dev, BUF_SIZE);
	map = t_mmap(buf, BUF_SIZE, PROT_READ | PROT_WRITE);
	if (io_uring_queue_init(4, &ring, 0) || io_uring_register_buffers_sparse(&ring, 1))
		t_fail("ring setup");
	ret = dmabuf_rw_register_dmabuf(&ring, 0, buf, fd);
	if (ret < 0)
		t_fail("register: %s", strerror(-ret));

	/* Resets alone: the mapping survives them. */
	for (int i = 0; i < 3; i++) {
		if (sysfs_write(ctrl, "reset_controller", "1"))
			t_fail("reset could not be started");
		read_check(&ring, fd, map, (uint64_t)i * LEN);
	}
	st = mover_stats(dev, buf);
	if (st.maps != 1)
		t_fail("3 resets made the exporter map the buffer %llu times, want once",
		       (unsigned long long)st.maps);

	if (pthread_create(&rt, NULL, resetter, NULL) ||
	    pthread_create(&mt, NULL, worker_mover, &buf))
		t_fail("pthread_create");
	while (!atomic_load(&stop)) {
		if (kids < CHILDREN) {
			pid_t pid = fork();

			if (pid < 0)
				t_fail("fork: %s", strerror(errno));
			if (!pid)
				child(kids);
			kids++;
		}
		read_check(&ring, fd, map, (reads++ * LEN) % (AREA - LEN));
	}
	pthread_join(rt, NULL);
	pthread_join(mt, NULL);
	for (int i = 0; i < kids; i++) {
		int status;

		if (wait(&status) < 0)
			t_fail("wait: %s", strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			t_fail("a child failed (status %#x)", status);
	}
	if (move_errors)
		t_fail("%d of %d moves failed", move_errors, moves + move_errors);

	io_uring_queue_exit(&ring);
	munmap(map, BUF_SIZE);
	close(buf);
	close(fd);
	/* ring teardown and unmapping finish asynchronously: give them time */
	for (int i = 0; i < 500; i++) {
		st = mover_stats(dev, -1);
		if (!st.mapped && !st.attachments && !st.buffers)
			break;
		usleep(10000);
	}
	printf("%d resets, %d worker moves, %d children exited with I/O in flight, %lu reads verified\n",
	       resets, moves, kids, reads);
	if (st.mapped || st.attachments || st.buffers)
		t_fail("left behind: %llu buffers, %llu mapped, %llu attachments",
		       (unsigned long long)st.buffers, (unsigned long long)st.mapped,
		       (unsigned long long)st.attachments);
	return T_EXIT_PASS;
}
