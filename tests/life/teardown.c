// SPDX-License-Identifier: MIT
/*
 * Lifetime: tear a dma-buf registration down while I/O through it is in
 * flight, in every order: clear the slot, close the dma-buf fd, close the
 * target fd, exit the ring, close everything at once, and kill a process
 * that has I/O in flight.  In-flight I/O must complete (or the ring go away
 * with it), nothing may hang, and afterwards the test exporter must have no
 * buffer, attachment or mapping left: the importer released all of them.
 *
 * The buffer comes from the dmabuf-mover exporter, whose module-wide
 * counters make leaks visible.  Drive 1 has a small MDTS, so each 1 MiB
 * read is split into many requests and stays in flight for a while.
 */
#include <signal.h>
#include <sys/wait.h>

#include "test.h"
#include "dmabuf-rw.h"
#include "../inval/mover.h"

#define BUF_SIZE	(8U << 20)
#define IO_SIZE		(1U << 20)
#define QD		8

enum order {
	CLEAR_SLOT, CLOSE_DMABUF, CLOSE_TARGET, EXIT_RING, CLOSE_ALL, KILL,
	NR_ORDERS
};

static const char *const order_name[NR_ORDERS] = {
	"clear slot", "close dma-buf fd", "close target fd", "exit ring",
	"close everything", "kill process",
};

struct setup {
	struct io_uring ring;
	int buf, fd;
};

static int mover_dev;

/* Register a fresh mover buffer for drive 1 and queue QD large reads. */
static void start(struct setup *s)
{
	int ret, i;

	s->buf = mover_create(mover_dev, BUF_SIZE);
	s->fd = t_open_nvme(1, 0);
	if (io_uring_queue_init(QD, &s->ring, 0))
		t_fail("io_uring_queue_init");
	if (io_uring_register_buffers_sparse(&s->ring, 1))
		t_fail("sparse buffer table");
	ret = dmabuf_rw_register_dmabuf(&s->ring, 0, s->buf, s->fd);
	if (ret < 0)
		t_fail("register: %d (%s)", ret, strerror(-ret));
	for (i = 0; i < QD; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

		io_uring_prep_read_fixed(sqe, s->fd,
					 (void *)(uintptr_t)(i * IO_SIZE),
					 IO_SIZE, (uint64_t)i * IO_SIZE, 0);
	}
	ret = io_uring_submit(&s->ring);
	if (ret != QD)
		t_fail("submit: %d", ret);
}

/* Reap n completions; each must be a full read or an error, not a hang. */
static void reap(struct setup *s, int n, const char *when)
{
	for (int i = 0; i < n; i++) {
		struct __kernel_timespec ts = { .tv_sec = 60 };
		struct io_uring_cqe *cqe;
		int ret = io_uring_wait_cqe_timeout(&s->ring, &cqe, &ts);

		if (ret)
			t_fail("%s: completion %d of %d: %s", when, i, n,
			       strerror(-ret));
		if (cqe->res != (int)IO_SIZE && cqe->res != -EAGAIN)
			t_fail("%s: read res %d (%s)", when, cqe->res,
			       cqe->res < 0 ? strerror(-cqe->res) : "short");
		io_uring_cqe_seen(&s->ring, cqe);
	}
}

static void run(enum order order)
{
	struct setup s;
	pid_t pid;

	switch (order) {
	case CLEAR_SLOT:
		start(&s);
		if (dmabuf_rw_clear_buffer(&s.ring, 0))
			t_fail("clear slot with I/O in flight");
		reap(&s, QD, order_name[order]);
		break;
	case CLOSE_DMABUF:
		start(&s);
		close(s.buf);
		s.buf = -1;
		reap(&s, QD, order_name[order]);
		break;
	case CLOSE_TARGET:
		start(&s);
		close(s.fd);
		s.fd = -1;
		reap(&s, QD, order_name[order]);
		break;
	case EXIT_RING:
		/* the ring goes first, its I/O still in flight */
		start(&s);
		io_uring_queue_exit(&s.ring);
		close(s.buf);
		close(s.fd);
		return;
	case CLOSE_ALL:
		/* every fd at once, without reaping anything */
		start(&s);
		close(s.buf);
		close(s.fd);
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
	if (s.buf >= 0)
		close(s.buf);
	if (s.fd >= 0)
		close(s.fd);
}

int main(void)
{
	int rounds = 3;

	t_require_dmabuf_io();
	mover_dev = mover_open();

	for (int r = 0; r < rounds; r++) {
		for (int o = 0; o < NR_ORDERS; o++) {
			struct dmabuf_mover_stats st;

			run(o);
			/* The token is released asynchronously once I/O is done. */
			st = mover_stats(mover_dev, -1);
			for (int i = 0; i < 1000 && (st.buffers || st.mapped ||
						     st.attachments); i++) {
				usleep(10000);
				st = mover_stats(mover_dev, -1);
			}
			if (st.buffers || st.mapped || st.attachments)
				t_fail("%s: left %llu buffers, %llu mappings, %llu attachments",
				       order_name[o], (unsigned long long)st.buffers,
				       (unsigned long long)st.mapped,
				       (unsigned long long)st.attachments);
		}
	}
	printf("%d rounds of %d teardown orders with I/O in flight, nothing left behind\n",
	       rounds, NR_ORDERS);
	return T_EXIT_PASS;
}
