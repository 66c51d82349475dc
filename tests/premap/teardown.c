// SPDX-License-Identifier: MIT
/*
 * Tear a premapped registration down while I/O through it is in flight, in
 * every order: clear the slot, close the target fd, unmap the memory,
 * exit the ring, all of them at once without reaping, and kill a process
 * with I/O in flight.  In-flight reads must complete (or go with their
 * ring), with the right data where the memory is still there to look at,
 * nothing may hang, and afterwards no premapped dma-buf may be left: the
 * token let go of the pages once its last I/O was done.
 *
 * Drive 1 has a small MDTS: each 1 MiB read is split into 32 requests and
 * stays in flight for a while.  Three rounds of every order.
 */
#include "premap-test.h"

#include <signal.h>
#include <sys/wait.h>

#define BUF_SIZE	(8U << 20)
#define IO_SIZE		(1U << 20)
#define QD		8
#define SEED		0x7ea2

enum order {
	CLEAR_SLOT, CLOSE_TARGET, UNMAP, EXIT_RING, CLOSE_ALL, KILL, NR_ORDERS
};

static const char *const order_name[NR_ORDERS] = {
	"clear slot", "close target fd", "unmap the memory", "exit ring",
	"close everything", "kill process",
};

struct setup {
	struct io_uring ring;
	struct pt_buf b;
	int fd;
};

/* Register a fresh buffer for drive 1 and queue QD large reads. */
static void start(struct setup *s)
{
	int ret, i;

	s->fd = pt_open(1, NULL);
	pt_alloc(&s->b, BUF_SIZE, 512);
	if (io_uring_queue_init(QD, &s->ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(&s->ring, 1);
	pt_register(&s->ring, 0, s->b.p, s->b.len, s->fd);
	for (i = 0; i < QD; i++)
		io_uring_prep_read_fixed(io_uring_get_sqe(&s->ring), s->fd, s->b.p + i * IO_SIZE,
					 IO_SIZE, (uint64_t)i * IO_SIZE, 0);
	ret = io_uring_submit(&s->ring);
	if (ret != QD)
		t_fail("submit: %d", ret);
}

/* Reap QD completions: each a full read, verified when check is set. */
static void reap(struct setup *s, int check, const char *when)
{
	for (int i = 0; i < QD; i++) {
		struct __kernel_timespec ts = { .tv_sec = 60 };
		struct io_uring_cqe *cqe;
		int ret = io_uring_wait_cqe_timeout(&s->ring, &cqe, &ts);

		if (ret)
			t_fail("%s: completion %d of %d: %s", when, i, QD, strerror(-ret));
		if (cqe->res != (int)IO_SIZE)
			t_fail("%s: read res %d (%s)", when, cqe->res,
			       cqe->res < 0 ? strerror(-cqe->res) : "short");
		io_uring_cqe_seen(&s->ring, cqe);
	}
	if (!check)
		return;
	for (unsigned int k = 0; k < QD; k++)
		if (t_verify(s->b.p + k * IO_SIZE, IO_SIZE, (uint64_t)k * IO_SIZE, SEED, when))
			t_fail("%s: wrong data", when);
}

static void run(enum order order)
{
	const char *what = order_name[order];
	struct setup s;
	pid_t pid;

	switch (order) {
	case CLEAR_SLOT:
		start(&s);
		dt_expect(dmabuf_rw_clear_buffer(&s.ring, 0), 0, "%s with I/O in flight", what);
		reap(&s, 1, what);
		break;
	case CLOSE_TARGET:
		start(&s);
		close(s.fd);
		reap(&s, 1, what);
		break;
	case UNMAP:
		/* the registration keeps the pages: the reads complete into them */
		start(&s);
		pt_free(&s.b);
		reap(&s, 0, what);
		dt_expect(dmabuf_rw_clear_buffer(&s.ring, 0), 0, "clearing the slot of unmapped memory");
		io_uring_queue_exit(&s.ring);
		close(s.fd);
		return;
	case EXIT_RING:
		start(&s);
		io_uring_queue_exit(&s.ring);
		close(s.fd);
		pt_free(&s.b);
		return;
	case CLOSE_ALL:
		start(&s);
		close(s.fd);
		pt_free(&s.b);
		io_uring_queue_exit(&s.ring);
		return;
	case KILL:
		pid = fork();
		if (pid < 0)
			t_fail("fork: %s", strerror(errno));
		if (!pid) {
			start(&s);
			pause();
			_exit(0);
		}
		usleep(200000);
		kill(pid, SIGKILL);
		if (waitpid(pid, NULL, 0) != pid)
			t_fail("waitpid: %s", strerror(errno));
		return;
	case NR_ORDERS:
		return;
	}
	io_uring_queue_exit(&s.ring);
	if (order != CLOSE_TARGET)
		close(s.fd);
	pt_free(&s.b);
}

int main(void)
{
	int rounds = 3, fd;

	pt_require();
	fd = pt_open(1, NULL);
	dt_dev_fill(fd, 0, QD * IO_SIZE, SEED);
	close(fd);
	pt_wait_pages(0, "before the first round");
	for (int r = 0; r < rounds; r++) {
		for (int o = 0; o < NR_ORDERS; o++) {
			char what[96];

			run(o);
			snprintf(what, sizeof(what), "round %d, %s with I/O in flight", r,
				 order_name[o]);
			pt_wait_pages(0, what);
		}
	}
	printf("%d rounds of %d teardown orders with I/O in flight, no mapping left behind\n",
	       rounds, NR_ORDERS);
	pt_done();
	return T_EXIT_PASS;
}
