// SPDX-License-Identifier: GPL-2.0-only
/*
 * fio's dmabuf engine (fio/dmabuf-engine.c) honours getevents' timeout:
 * a wait for more completions than can arrive in time returns when the
 * timeout passes, with what did arrive.
 *
 * fio itself (3.33) passes getevents a timeout only as a zero-length poll
 * with min 0, so no job file can make a completion late enough to show
 * this; the test calls the engine's getevents directly.  The engine is
 * compiled into a harness (fio's headers, as fio/build-engine.sh compiles
 * it; hence GPL like the engine), its ring set up by the engine's own
 * dmabuf_ring_init(), and the harness puts in the ring what stands for
 * io_us: an IORING_OP_TIMEOUT of 10 s is an I/O whose completion cannot
 * arrive in time, a NOP one that completes at once:
 *  - min 1, 300 ms, only the late I/O in flight: 0 events, after ~300 ms;
 *  - min 2, 300 ms, the late I/O and one that completes: 1 event (that
 *    one), after ~300 ms;
 *  - min 0 with a zero timeout (what fio calls): 0 events at once;
 *  - min 1, no timeout, an I/O that completes after 200 ms: it waits for
 *    it (1 event) and not for the late one.
 * A getevents that ignores its timeout waits 10 s for the late I/O and
 * fails the first case.  No dma-buf and no kernel support are needed:
 * getevents only waits for completions, which any io_uring gives.
 *
 * This file is both programs.  Built by tests/host/run.sh (without fio's
 * headers) it is the driver: it compiles itself with FIO_HARNESS against
 * the fio tree make fio-engine unpacked (build/fio/src, or the tree named
 * in build/fio/dmabuf-engine.so.src) and runs the harness.  Without that
 * tree it skips.  FIO_ENGINE_SRC=path compiles another copy of the engine
 * (to see the test fail on a broken one).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#ifdef FIO_HARNESS

#include ENGINE_SRC

#include <stdarg.h>

#include <signal.h>

/* What the engine calls in fio and the harness never exercises. */
ssize_t log_err(const char *format, ...)
{
	va_list ap;
	int n;

	va_start(ap, format);
	n = vfprintf(stdout, format, ap);
	va_end(ap);
	return n;
}

ssize_t log_info(const char *format, ...)
{
	va_list ap;
	int n;

	va_start(ap, format);
	n = vfprintf(stdout, format, ap);
	va_end(ap);
	return n;
}

void fio_gettime(struct timespec *ts, void *unused)
{
	(void)unused;
	clock_gettime(CLOCK_MONOTONIC, ts);
}

void io_u_queued(struct thread_data *td, struct io_u *io_u) { (void)td; (void)io_u; }
void io_u_mark_submit(struct thread_data *td, unsigned int n) { (void)td; (void)n; }
void io_u_mark_complete(struct thread_data *td, unsigned int n) { (void)td; (void)n; }
int do_io_u_trim(const struct thread_data *td, struct io_u *io_u)
{
	(void)td; (void)io_u;
	return 0;
}
int generic_open_file(struct thread_data *td, struct fio_file *f)
{
	(void)td; (void)f;
	return -1;
}
int generic_close_file(struct thread_data *td, struct fio_file *f)
{
	(void)td; (void)f;
	return -1;
}
int generic_get_file_size(struct thread_data *td, struct fio_file *f)
{
	(void)td; (void)f;
	return -1;
}

#define DEPTH	4

static struct thread_data td;
static struct io_u io_us[DEPTH];

static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* io_us[i], in flight: a timeout op of ms milliseconds (0: a NOP). */
static void issue(struct dmabuf_data *dd, int i, unsigned int ms)
{
	static struct __kernel_timespec ts[DEPTH];
	struct io_uring_sqe *sqe = io_uring_get_sqe(&dd->ring);
	struct io_u *io_u = &io_us[i];

	memset(io_u, 0, sizeof(*io_u));
	io_u->index = i;
	io_u->ddir = DDIR_WRITE;	/* no CPU sync after it */
	if (ms) {
		ts[i].tv_sec = ms / 1000;
		ts[i].tv_nsec = (ms % 1000) * 1000000LL;
		io_uring_prep_timeout(sqe, &ts[i], 0, 0);
	} else {
		io_uring_prep_nop(sqe);
	}
	io_uring_sqe_set_data(sqe, io_u);
	if (io_uring_submit(&dd->ring) != 1)
		fail("io_uring_submit");
}

/* getevents(min, max, timeout ms or -1); returns the events, *secs the time */
static int getevents(unsigned int min, int ms, double *secs)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	double t0 = now();
	int ret = ioengine.getevents(&td, min, DEPTH, ms < 0 ? NULL : &t);

	*secs = now() - t0;
	if (ret < 0)
		fail("getevents(min %u): %s (%s)", min, strerror(-ret), td.verror);
	return ret;
}

static void on_alarm(int sig)
{
	(void)sig;
	printf("FAIL: getevents still waits after 30 s\n");
	_exit(1);
}

int main(void)
{
	struct dmabuf_options o = { 0 };
	struct dmabuf_data *dd = calloc(1, sizeof(*dd));
	double secs;
	int n;

	signal(SIGALRM, on_alarm);
	alarm(30);
	/* what dmabuf_init() sets up, but its probe for the kernel feature */
	td.eo = &o;
	td.o.iodepth = DEPTH;
	td.o.nr_files = 1;
	dd->dmabuf_fd = -1;
	dd->depth = DEPTH;
	dd->events = calloc(DEPTH, sizeof(*dd->events));
	dd->pending = calloc(DEPTH, sizeof(*dd->pending));
	dd->retry = calloc(DEPTH, sizeof(*dd->retry));
	dd->again = calloc(DEPTH, sizeof(*dd->again));
	td.io_ops_data = dd;
	n = dmabuf_ring_init(&td, dd);
	if (n == -ENOSYS || n == -EPERM) {
		printf("SKIP: io_uring is not available to this user on the host: %s\n",
		       strerror(-n));
		return 77;
	}
	if (n)
		fail("the engine's dmabuf_ring_init: %s", strerror(-n));

	issue(dd, 0, 10000);		/* late: completes after the test */
	n = getevents(1, 300, &secs);
	if (n != 0 || secs < 0.25 || secs > 3)
		fail("min 1, timeout 300 ms, nothing can complete: %d events after %.3f s", n,
		     secs);
	printf("min 1, timeout 300 ms, nothing completes: 0 events after %.3f s\n", secs);

	issue(dd, 1, 0);		/* completes at once */
	n = getevents(2, 300, &secs);
	if (n != 1 || secs < 0.25 || secs > 3 || ioengine.event(&td, 0) != &io_us[1])
		fail("min 2, timeout 300 ms, one completes: %d events after %.3f s", n, secs);
	printf("min 2, timeout 300 ms, one completes: 1 event after %.3f s\n", secs);

	n = getevents(0, 0, &secs);
	if (n != 0 || secs > 0.1)
		fail("a poll (min 0, zero timeout): %d events after %.3f s", n, secs);
	printf("poll (min 0, zero timeout): 0 events after %.3f s\n", secs);

	issue(dd, 2, 200);		/* completes in 200 ms */
	n = getevents(1, -1, &secs);
	if (n != 1 || secs < 0.15 || secs > 3 || ioengine.event(&td, 0) != &io_us[2])
		fail("min 1, no timeout, one completes after 200 ms: %d events after %.3f s",
		     n, secs);
	printf("min 1, no timeout, one completes after 200 ms: 1 event after %.3f s\n", secs);

	ioengine.cleanup(&td);		/* io_uring_queue_exit cancels the late one */
	return 0;
}

#else /* the driver */

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

/* asprintf() or fail */
static char *str(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		printf("FAIL: out of memory\n");
		exit(1);
	}
	return s;
}

int main(void)
{
	const char *env = getenv("FIO_ENGINE_SRC");
	char exe[PATH_MAX], line[PATH_MAX], *top, *src = NULL, *path, *bin, *cmd;
	ssize_t n;
	FILE *f;
	int st, i;

	/* top/build/host/tests/fio-getevents */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		printf("FAIL: /proc/self/exe: %s\n", strerror(errno));
		return 1;
	}
	exe[n] = 0;
	top = str("%s", exe);
	for (i = 0; i < 4; i++)
		*strrchr(top, '/') = 0;

	/* the fio tree the engine was built against, else make fio-engine's */
	path = str("%s/build/fio/dmabuf-engine.so.src", top);
	f = fopen(path, "r");
	if (f) {
		if (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			src = str("%s", line);
		}
		fclose(f);
	}
	if (!src || access(str("%s/fio.h", src), F_OK))
		src = str("%s/build/fio/src", top);
	if (access(str("%s/config-host.h", src), F_OK)) {
		printf("SKIP: no configured fio source tree in %s (make fio-engine unpacks it)\n",
		       src);
		return 77;
	}
	bin = str("%s-harness", exe);
	/* fio/build-engine.sh's flags for the engine */
	cmd = str("${CC:-cc} -std=gnu11 -O2 -g -Wall -D_GNU_SOURCE -D_LARGEFILE_SOURCE "
		  "-D_FILE_OFFSET_BITS=64 -DFIO_INTERNAL -DFIO_INC_DEBUG "
		  "-include '%s/config-host.h' -I'%s' -I'%s/include' -I'%s/lib' "
		  "-DFIO_HARNESS -DENGINE_SRC='\"%s\"' -o '%s' '%s/tests/host/fio-getevents.c' "
		  "'%s/build/host/libdmabuf-rw.a' -luring -lpthread -lm",
		  src, src, top, top, env ? env : str("%s/fio/dmabuf-engine.c", top), bin,
		  top, top);
	fflush(stdout);
	st = system(cmd);
	if (st) {
		printf("FAIL: compiling the engine into the harness failed: %s\n", cmd);
		return 1;
	}
	st = system(bin);
	if (!WIFEXITED(st)) {
		printf("FAIL: the harness died (status %#x)\n", st);
		return 1;
	}
	return WEXITSTATUS(st);
}

#endif
