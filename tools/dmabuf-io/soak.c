// SPDX-License-Identifier: MIT
/*
 * dmabuf-io bench --cpu system: the whole system's busy time during a run,
 * measured the way Andrew Morton's cyclesoak does.  One thread per CPU the
 * process may use, pinned to it at SCHED_IDLE priority, counts loop
 * iterations; alone on an otherwise idle system it runs rate iterations a
 * second (calibrated right before the run).  Whatever else runs on that
 * CPU during the run (the benchmark's threads, io_uring's workers, hard
 * and soft interrupts, kernel threads, timers, context switches) takes
 * time from it, so a CPU's busy time is
 *
 *     elapsed - (iterations during the run) / rate.
 *
 * Why not /proc/stat's idle time: with tick-based CPU accounting (the
 * guest's kernel: no IRQ_TIME_ACCOUNTING) an interrupt taken while a CPU
 * is idle, e.g. NVMe's completion with the IOMMU unmap and IOTLB
 * invalidation behind it, is counted as idle; idle periods in which the
 * tick is kept are sampled by the tick, and under QEMU -icount
 * sleep=off, where an idle CPU's clock jumps to its next timer, the tick
 * nearly always lands in idle.  There the counters said a CPU was busy
 * for less time than the benchmark process alone ran.  With the soak
 * threads no CPU ever halts: under -icount the guest's clock then counts
 * executed instructions only, and the busy time is the instructions all
 * the I/O's work took, wherever it ran.
 *
 * The rate includes what an idle system does anyway (the tick, while a
 * soak thread runs), so that is not counted as busy.  Costs: every CPU
 * spins during the run, and a wakeup switches from a soak thread rather
 * than from the idle task (a thread of this process: no address space
 * switch, as from idle, which keeps the last one).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmabuf-io.h"

/* One per CPU, on a cache line of its own: only its thread writes count. */
struct dio_soak_cpu {
	_Atomic uint64_t count;		/* loop iterations so far */
	struct dio_soak *s;
	int cpu;
	int err;			/* its thread could not set itself up */
	pthread_t tid;
	bool started;
	double rate;			/* iterations a second, alone */
	uint64_t count0;		/* at dio_soak_begin() */
	double cpu0;			/* its thread's CPU time then, s */
} __attribute__((aligned(64)));

static void *dio_soak_thread(void *arg)
{
	struct dio_soak_cpu *c = arg;
	struct sched_param sp = { 0 };
	uint64_t n = 0;
	int ret;

	/* pinned by its attributes already; SCHED_IDLE needs no privilege */
	ret = pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	if (ret) {
		c->err = ret;
		return NULL;
	}
	/* a fixed handful of instructions per iteration: the unit of idle time */
	while (!atomic_load_explicit(&c->s->stop, memory_order_relaxed))
		atomic_store_explicit(&c->count, ++n, memory_order_relaxed);
	return NULL;
}

/* Sleep until now + secs on CLOCK_MONOTONIC, through signals. */
static void dio_soak_sleep(double secs)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)secs;
	ts.tv_nsec += (long)((secs - (time_t)secs) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* CPU time of a soak thread, s (its own time, not its CPU's). */
static double dio_soak_thread_cpu(const struct dio_soak_cpu *c)
{
	struct timespec ts;
	clockid_t id;

	if (pthread_getcpuclockid(c->tid, &id) || clock_gettime(id, &ts))
		return 0;
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int dio_soak_start(struct dio_soak *s)
{
	pthread_attr_t attr;
	cpu_set_t allowed, one;
	unsigned int i;
	int cpu, ret;

	memset(s, 0, sizeof(*s));
	if (sched_getaffinity(0, sizeof(allowed), &allowed)) {
		dio_err("sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	s->n = CPU_COUNT(&allowed);
	if (posix_memalign((void **)&s->cpu, 64, s->n * sizeof(*s->cpu))) {
		dio_err("out of memory");
		return -1;
	}
	memset(s->cpu, 0, s->n * sizeof(*s->cpu));
	for (cpu = 0, i = 0; i < s->n && cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		s->cpu[i].s = s;
		s->cpu[i].cpu = cpu;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pthread_attr_init(&attr);
		ret = pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
		if (!ret)
			ret = pthread_create(&s->cpu[i].tid, &attr, dio_soak_thread, &s->cpu[i]);
		pthread_attr_destroy(&attr);
		if (ret) {
			dio_err("--cpu system: a soak thread for CPU %d: %s", cpu, strerror(ret));
			dio_soak_stop(s);
			return -1;
		}
		s->cpu[i++].started = true;
	}
	return 0;
}

int dio_soak_calibrate(struct dio_soak *s, double secs)
{
	uint64_t c0[s->n];
	double t0, t1, cpu0[s->n], share;
	unsigned int i;

	/* the threads get going, the setup's deferred work settles */
	dio_soak_sleep(0.05);
	for (i = 0; i < s->n; i++) {
		if (s->cpu[i].err) {
			dio_err("--cpu system: SCHED_IDLE for the soak thread of CPU %d: %s",
				s->cpu[i].cpu, strerror(s->cpu[i].err));
			return -1;
		}
	}
	t0 = dio_now();
	for (i = 0; i < s->n; i++) {
		c0[i] = atomic_load(&s->cpu[i].count);
		cpu0[i] = dio_soak_thread_cpu(&s->cpu[i]);
	}
	dio_soak_sleep(secs);
	t1 = dio_now();
	for (i = 0; i < s->n; i++) {
		struct dio_soak_cpu *c = &s->cpu[i];

		c->rate = (atomic_load(&c->count) - c0[i]) / (t1 - t0);
		share = (dio_soak_thread_cpu(c) - cpu0[i]) / (t1 - t0);
		if (!(c->rate > 0)) {
			dio_err("--cpu system: the soak thread of CPU %d did not run in %.2f s: "
				"the CPU is busy, and the system's busy time cannot be measured",
				c->cpu, t1 - t0);
			return -1;
		}
		/* someone else ran there: the rate is too low, so is the busy time */
		if (share < 0.9)
			dio_err("warning: --cpu system: CPU %d was busy while the soak threads "
				"calibrated (they had %.0f%% of it): the system's busy time is "
				"too low", c->cpu, share * 100);
	}
	return 0;
}

/*
 * /proc/stat's interrupt and context switch counts: exact, unlike its
 * times, and they say how much the completions were batched.  0 if absent.
 */
static void dio_proc_stat_counts(uint64_t *intr, uint64_t *ctxt)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];

	*intr = *ctxt = 0;
	if (!f)
		return;
	/* the intr line is long: only its start, the total, matters */
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "intr ", 5))
			*intr = strtoull(line + 5, NULL, 10);
		else if (!strncmp(line, "ctxt ", 5))
			*ctxt = strtoull(line + 5, NULL, 10);
		while (!strchr(line, '\n') && fgets(line, sizeof(line), f))
			;
	}
	fclose(f);
}

void dio_soak_begin(struct dio_soak *s)
{
	unsigned int i;

	dio_proc_stat_counts(&s->intr, &s->ctxt);
	s->t0 = dio_now();
	for (i = 0; i < s->n; i++) {
		s->cpu[i].count0 = atomic_load(&s->cpu[i].count);
		s->cpu[i].cpu0 = dio_soak_thread_cpu(&s->cpu[i]);
	}
}

void dio_soak_end(struct dio_soak *s)
{
	double t = dio_now();
	unsigned int i;

	uint64_t intr, ctxt;

	s->busy = 0;
	s->own = 0;
	for (i = 0; i < s->n; i++) {
		struct dio_soak_cpu *c = &s->cpu[i];

		s->busy += (t - s->t0) - (atomic_load(&c->count) - c->count0) / c->rate;
		s->own += dio_soak_thread_cpu(c) - c->cpu0;
	}
	dio_proc_stat_counts(&intr, &ctxt);
	s->intr = intr - s->intr;
	s->ctxt = ctxt - s->ctxt;
}

void dio_soak_stop(struct dio_soak *s)
{
	unsigned int i;

	if (!s->cpu)
		return;
	atomic_store(&s->stop, 1);
	for (i = 0; i < s->n; i++)
		if (s->cpu[i].started)
			pthread_join(s->cpu[i].tid, NULL);
	free(s->cpu);
	s->cpu = NULL;
}
