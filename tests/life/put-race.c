// SPDX-License-Identifier: MIT
/*
 * Unregister a dma-buf slot while its I/O is in flight, and let the I/O be
 * completed by another thread.  Once READ_FIXED completes, io_uring may free
 * the request and with it the last reference to the slot, which puts the
 * token and unmaps its map: the bio must not hold the map any more by then.
 *
 * Two IOPOLL rings share the drive's one poll queue (the bed boots with
 * nvme.poll_queues=1), each polled by a thread on its own CPU, so either
 * thread may complete the other's requests.  The main thread registers a
 * udmabuf, submits a read, clears the slot while the read is in flight and
 * reaps it, over and over.  The test module dmabuf-race spins in bio_put()
 * for every bio that still carries its dma-buf map there: such a bio was
 * completed before it dropped the map, and the spin gives the other thread
 * time to free the token under it (a use-after-free).  The test fails if any
 * bio reached bio_put() with its map.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "../dmabuf/dmabuf-test.h"

#define ROUNDS		400
#define LEN		4096
#define DELAY_US	"2000"
#define PARAM		"/sys/module/dmabuf_race/parameters/"

static atomic_int stop;
static int fd;

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		t_fail("cannot pin a thread to CPU %d", cpu);
}

static void param_write(const char *name, const char *val)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), PARAM "%s", name);
	f = fopen(path, "w");
	if (!f)
		t_fail("%s: %s (test module dmabuf-race not loaded?)", path, strerror(errno));
	if (fputs(val, f) < 0 || fclose(f))
		t_fail("writing %s to %s: %s", val, path, strerror(errno));
}

static long param_read(const char *name)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), PARAM "%s", name);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%ld", &v) != 1)
		t_fail("reading %s", path);
	fclose(f);
	return v;
}

/* Keeps polling the shared poll queue with reads of its own. */
static void *poller(void *arg)
{
	struct io_uring ring;
	void *buf = t_malloc(LEN);
	unsigned long n = 0;

	(void)arg;
	pin(0);
	if (io_uring_queue_init(4, &ring, IORING_SETUP_IOPOLL))
		t_fail("IOPOLL ring");
	while (!atomic_load(&stop)) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		struct io_uring_cqe *cqe;

		io_uring_prep_read(sqe, fd, buf, LEN, (n++ % 1024) * LEN);
		io_uring_submit(&ring);
		if (io_uring_wait_cqe(&ring, &cqe))
			t_fail("poller: wait_cqe");
		if (cqe->res != LEN)
			t_fail("poller: read returned %d", cqe->res);
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	return NULL;
}

int main(void)
{
	unsigned long eagain = 0;
	struct io_uring ring;
	struct dt_buf b;
	pthread_t thr;
	long delayed;
	int ret;

	dt_require();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		t_fail("the bed has 2 CPUs, this guest %ld", sysconf(_SC_NPROCESSORS_ONLN));
	fd = t_open_nvme(0, 0);
	dt_udmabuf(&b, 1 << 20);
	pin(1);
	if (io_uring_queue_init(4, &ring, IORING_SETUP_IOPOLL) ||
	    io_uring_register_buffers_sparse(&ring, 1))
		t_fail("IOPOLL ring setup");

	param_write("bio_put_delay_us", DELAY_US);
	if (pthread_create(&thr, NULL, poller, NULL))
		t_fail("pthread_create");
	for (int i = 0; i < ROUNDS; i++) {
		struct io_uring_sqe *sqe;
		struct io_uring_cqe *cqe;

		ret = dmabuf_rw_register_dmabuf(&ring, 0, b.fd, fd);
		if (ret < 0)
			t_fail("round %d: register: %s", i, strerror(-ret));
		sqe = io_uring_get_sqe(&ring);
		dmabuf_rw_prep_read(sqe, fd, 0, (i % 16) * LEN, LEN, (uint64_t)(i % 1024) * LEN);
		if (io_uring_submit(&ring) != 1)
			t_fail("round %d: submit", i);
		/* the request holds the slot's node: the token goes with it */
		ret = dmabuf_rw_clear_buffer(&ring, 0);
		if (ret < 0)
			t_fail("round %d: clear the slot with the read in flight: %s", i,
			       strerror(-ret));
		if (io_uring_wait_cqe(&ring, &cqe))
			t_fail("round %d: wait_cqe", i);
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (ret == -EAGAIN)
			eagain++;
		else if (ret != LEN)
			t_fail("round %d: read returned %d (%s)", i, ret,
			       ret < 0 ? strerror(-ret) : "short");
	}
	atomic_store(&stop, 1);
	pthread_join(thr, NULL);
	param_write("bio_put_delay_us", "0");
	delayed = param_read("delayed_puts");
	printf("%d rounds, %lu -EAGAIN, %ld bios put while still holding their map\n",
	       ROUNDS, eagain, delayed);
	if (delayed)
		t_fail("%ld dma-buf bios still held their map after their I/O completed",
		       delayed);
	io_uring_queue_exit(&ring);
	close(b.fd);
	close(fd);
	return T_EXIT_PASS;
}
