// SPDX-License-Identifier: MIT
/*
 * dmabuf-io bench's -EAGAIN reissue (tools/dmabuf-io/worker.c): an I/O the
 * kernel completes with -EAGAIN (the exporter moved the dma-buf) is
 * reissued, at most DIO_EAGAIN_MAX times in a row, and then the run fails
 * with a message saying so instead of spinning forever.
 *
 * A real kernel gives -EAGAIN only when a move races an I/O, far too rarely
 * to reach the limit, so this drives the tool's own worker
 * (dio_worker_run(), linked in as run.sh links every host test) on a
 * regular file and rewrites the results of its completions to -EAGAIN:
 * the program's io_uring_submit_and_wait() stands in for liburing's, calls
 * it and edits the CQEs it reaped before the worker looks at them.  With
 * DEFER_TASKRUN (dmabuf-io's rings have it) no completion is posted
 * between that call and the worker's reaping, so the worker sees exactly
 * the edited results.
 *  - DIO_EAGAIN_MAX - 1 -EAGAINs before every completion: each I/O is
 *    reissued that often and the run succeeds (the count is per I/O and
 *    resets when it completes: "in a row");
 *  - -EAGAIN forever: the run fails after DIO_EAGAIN_MAX completions of
 *    one I/O, that one issued once, with the message, within seconds.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "test.h"
#include "dmabuf-io.h"

#define IOS	3

static int (*real_submit_and_wait)(struct io_uring *ring, unsigned int wait_nr);
static unsigned int let_through;	/* every Nth completion keeps its result; 0: none */
static unsigned int completions, rewritten;
static bool no_defer;

int io_uring_submit_and_wait(struct io_uring *ring, unsigned int wait_nr)
{
	struct io_uring_cqe *cqe;
	unsigned int head;
	int ret;

	if (!real_submit_and_wait)
		real_submit_and_wait = dlsym(RTLD_NEXT, "io_uring_submit_and_wait");
	if (!real_submit_and_wait)
		t_fail("liburing's io_uring_submit_and_wait: %s", dlerror());
	ret = real_submit_and_wait(ring, wait_nr);
	if (!(ring->flags & IORING_SETUP_DEFER_TASKRUN))
		no_defer = true;
	/* the worker advances the CQ head past all of these before it waits again */
	io_uring_for_each_cqe(ring, head, cqe) {
		completions++;
		if (let_through && completions % let_through == 0)
			continue;
		cqe->res = -EAGAIN;
		rewritten++;
	}
	return ret;
}

static void on_alarm(int sig)
{
	(void)sig;
	t_fail("the worker still runs after 10 s: -EAGAIN reissued without a limit? "
	       "(%u completions, %u made -EAGAIN)", completions, rewritten);
}

/* One worker, QD 1, IOS reads of 4 KiB from file; its stderr into err. */
static void run(struct dio_worker *w, struct dio_bench *b, int fd, const char *path,
		char *err, size_t errlen)
{
	pthread_barrier_t start;
	FILE *f = tmpfile();
	int saved, tmp;
	ssize_t n;

	*b = (struct dio_bench){
		.mode = DIO_PLAIN, .dmabuf_spec = "udmabuf", .bs = 4096, .qd = 1, .jobs = 1,
		.random = false, .ios = IOS, .size = 1 << 20, .progress = 0,
	};
	b->target.fd = fd;
	b->target.path = path;
	b->target.size = 1 << 20;
	b->target.lbsize = 512;
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->start = &start;
	w->dbuf.fd = -1;
	w->quota = IOS;
	atomic_store(&dio_stop, 0);
	completions = rewritten = 0;
	pthread_barrier_init(&start, NULL, 1);

	if (!f)
		t_fail("tmpfile: %s", strerror(errno));
	tmp = fileno(f);
	fflush(stderr);
	saved = dup(2);
	dup2(tmp, 2);
	alarm(10);
	dio_worker_run(w);
	alarm(0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(tmp, err, errlen - 1, 0);
	err[n > 0 ? n : 0] = 0;
	fclose(f);
	pthread_barrier_destroy(&start);
	if (no_defer)
		t_skip("this kernel's io_uring has no DEFER_TASKRUN: completions may be "
		       "posted while the worker reaps, so they cannot be rewritten reliably");
}

int main(void)
{
	char path[] = "/tmp/dmabuf-rw-eagain.XXXXXX", err[4096];
	static unsigned char block[1 << 20];
	struct dio_bench b;
	struct dio_worker w;
	int fd, ret;

	signal(SIGALRM, on_alarm);
	fd = mkstemp(path);
	if (fd < 0 || write(fd, block, sizeof(block)) != sizeof(block))
		t_fail("%s: %s", path, strerror(errno));
	unlink(path);
	ret = dio_ring_init(&w.ring, 1, false);
	if (ret == -ENOSYS || ret == -EPERM)
		t_skip("io_uring is not available to this user on the host: %s", strerror(-ret));
	if (!ret)
		io_uring_queue_exit(&w.ring);

	/* DIO_EAGAIN_MAX - 1 in a row, then the real result: every I/O completes */
	let_through = DIO_EAGAIN_MAX;
	run(&w, &b, fd, path, err, sizeof(err));
	if (w.failed || w.lat.count != IOS || w.eagain != (uint64_t)IOS * (DIO_EAGAIN_MAX - 1))
		t_fail("%u -EAGAINs before each completion: failed %d, %llu of %d I/Os done, "
		       "%llu reissued (want %llu); stderr: %s", DIO_EAGAIN_MAX - 1, w.failed,
		       (unsigned long long)w.lat.count, IOS, (unsigned long long)w.eagain,
		       (unsigned long long)IOS * (DIO_EAGAIN_MAX - 1), err);
	printf("%d I/Os, each after %u -EAGAINs in a row: done, %llu reissued\n", IOS,
	       DIO_EAGAIN_MAX - 1, (unsigned long long)w.eagain);
	dio_worker_teardown(&w);

	/* -EAGAIN forever: the first I/O gives up after DIO_EAGAIN_MAX */
	let_through = 0;
	run(&w, &b, fd, path, err, sizeof(err));
	if (!w.failed || w.lat.count || w.issued != 1 || completions != DIO_EAGAIN_MAX ||
	    w.eagain != DIO_EAGAIN_MAX - 1)
		t_fail("-EAGAIN forever: failed %d, %llu done, %llu issued, %u completions "
		       "(want %u), %llu reissued; stderr: %s", w.failed,
		       (unsigned long long)w.lat.count, (unsigned long long)w.issued,
		       completions, DIO_EAGAIN_MAX, (unsigned long long)w.eagain, err);
	if (!strstr(err, "-EAGAIN") || !strstr(err, "times in a row") ||
	    !strstr(err, "moving the dma-buf"))
		t_fail("-EAGAIN forever: want a message about the exporter moving the buffer, "
		       "got: %s", err);
	printf("-EAGAIN forever: gave up after %u completions: %s", completions, err);
	dio_worker_teardown(&w);
	close(fd);
	return T_EXIT_PASS;
}
