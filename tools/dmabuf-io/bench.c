// SPDX-License-Identifier: MIT
/* dmabuf-io bench: options, threads, progress line. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "dmabuf-io.h"
#include "dmabuf-rw.h"

const char *const dio_mode_names[] = {
	[DIO_PLAIN]	= "plain",
	[DIO_FIXED]	= "fixed",
	[DIO_DMABUF]	= "dmabuf",
	[DIO_BOUNCE]	= "bounce",
	[DIO_PREMAPPED]	= "premapped",
};

_Atomic int dio_stop;

static const char bench_help[] =
"usage: dmabuf-io bench [options] DEVICE\n"
"\n"
"Measure O_DIRECT I/O between DEVICE (an NVMe block device, or a file on ext4\n"
"or xfs) and memory, one io_uring per job, QD I/Os in flight, each timed from\n"
"submission to completion.  dmabuf and premapped on a file go through the file\n"
"system's direct I/O to its device; a file that cannot take them (another file\n"
"system, inline data, data journalling, encryption, verity, DAX) is refused,\n"
"saying why, and so is a read that meets a hole or an unwritten extent, which\n"
"they cannot fill with zeroes: bench files whose every block is written.\n"
"\n"
"  -m, --mode MODE      where the data goes (default dmabuf):\n"
"                         plain   host memory, IORING_OP_READ/WRITE\n"
"                         fixed   registered host memory, READ/WRITE_FIXED\n"
"                         dmabuf  a dma-buf registered for DEVICE, READ/WRITE_FIXED\n"
"                         bounce  host memory plus a memcpy to/from the dma-buf's\n"
"                                 mmap (what applications do without dmabuf)\n"
"                         premapped  registered host memory mapped once for\n"
"                                 DEVICE (IO_REGBUF_F_TARGET), READ/WRITE_FIXED;\n"
"                                 the output says whether the kernel kept the\n"
"                                 mapping or fell back to mapping per I/O\n"
"  -d, --dmabuf KIND    udmabuf (default), heap (the system dma-heap), heap:NAME,\n"
"                       fd:N (a dma-buf passed in as descriptor N; each job its\n"
"                       own slice), drm:PATH (a GEM buffer of the DRM device\n"
"                       PATH, /dev/dri/card0), or device memory: vfio:BDF[/BAR],\n"
"                       a BAR of a PCI device bound to vfio-pci (default the\n"
"                       largest), each job its own slice; bounce copies into\n"
"                       VFIO's mapping of the BAR\n"
"  -b, --bs SIZE        I/O size (default 4k; a multiple of the block size)\n"
"  -q, --qd N           I/Os in flight per job (default 32)\n"
"  -p, --pattern P      random (default) or sequential (rand, seq)\n"
"  -w, --rw DIR         read (default) or write (DESTROYS DATA on DEVICE; refused\n"
"                       when DEVICE is in use: mounted, swap, held by\n"
"                       device-mapper or md, opened exclusively)\n"
"      --force          write even when DEVICE is in use\n"
"      --no-cpu-map     never map the dma-buf for the CPU (as for device memory\n"
"                       that cannot be); bounce needs the mapping\n"
"  -t, --time DURATION  run for DURATION: 10, 2.5s, 500ms, 1m (default 5s)\n"
"  -n, --ios N          run N I/Os in total instead (100000, 100k = 100000)\n"
"  -j, --jobs N         threads, each with its own ring and buffers (default 1)\n"
"  -o, --offset OFF     start of the area used on DEVICE (default 0)\n"
"  -s, --size SIZE      size of that area (default: to the end of DEVICE)\n"
"      --poll           polled completions (IORING_SETUP_IOPOLL; needs\n"
"                       nvme.poll_queues)\n"
"      --progress       a progress line every second on stderr (default: only\n"
"                       when stderr is a terminal); --no-progress: never\n"
"      --scatter        host memory (plain, fixed, bounce, premapped) and the\n"
"                       udmabuf's memfd laid out so that every page is a DMA\n"
"                       segment of its own (no page is followed by its physical\n"
"                       successor): the CPU per I/O does not depend on how the\n"
"                       allocator happened to hand out pages.  Needs root\n"
"                       (/proc/self/pagemap)\n"
"      --cpu WHAT       CPU per I/O of the process (default), or also of the whole\n"
"                       system: system adds its busy time per I/O, measured by\n"
"                       an idle-priority thread spinning on every CPU (it takes\n"
"                       them all; the system should be otherwise idle)\n"
"      --json           results as one JSON object\n"
"      --csv            results as a CSV header and row; --no-header: row only\n"
"  -h, --help           this text\n"
"\n"
"Numbers are decimal (0x for hex).  Sizes take k, m, g, t suffixes, binary\n"
"(4k = 4KiB = 4096), or with B decimal (4kB = 4000); counts (--ios, --qd,\n"
"--jobs) decimal ones (100k = 100000).\n"
"\n"
"Prints IOPS, MB/s (10^6 bytes), CPU time per I/O (user + system time of the\n"
"process over the I/Os done; with --cpu system also every CPU's busy time,\n"
"wherever the I/O's work ran: interrupts, kernel threads, io_uring's workers)\n"
"and latency percentiles p50/p99/p99.9.  The\n"
"ring uses the flags of fio's io_uring engine (SINGLE_ISSUER, DEFER_TASKRUN,\n"
"COOP_TASKRUN).  Exit status: 0 ok, 1 run-time error, 2 bad usage.\n"
"\n"
"example: dmabuf-io bench -m fixed -b 4k -q 32 -t 10 /dev/nvme0n1\n";

enum {
	OPT_POLL = 256, OPT_PROGRESS, OPT_NO_PROGRESS, OPT_JSON, OPT_CSV, OPT_NO_HEADER,
	OPT_FORCE, OPT_NO_MAP, OPT_CPU, OPT_SCATTER,
};

static const struct option bench_opts[] = {
	{ "mode",	 required_argument, NULL, 'm' },
	{ "dmabuf",	 required_argument, NULL, 'd' },
	{ "bs",		 required_argument, NULL, 'b' },
	{ "qd",		 required_argument, NULL, 'q' },
	{ "pattern",	 required_argument, NULL, 'p' },
	{ "rw",		 required_argument, NULL, 'w' },
	{ "time",	 required_argument, NULL, 't' },
	{ "ios",	 required_argument, NULL, 'n' },
	{ "jobs",	 required_argument, NULL, 'j' },
	{ "offset",	 required_argument, NULL, 'o' },
	{ "size",	 required_argument, NULL, 's' },
	{ "poll",	 no_argument,	    NULL, OPT_POLL },
	{ "progress",	 no_argument,	    NULL, OPT_PROGRESS },
	{ "no-progress", no_argument,	    NULL, OPT_NO_PROGRESS },
	{ "json",	 no_argument,	    NULL, OPT_JSON },
	{ "csv",	 no_argument,	    NULL, OPT_CSV },
	{ "no-header",	 no_argument,	    NULL, OPT_NO_HEADER },
	{ "force",	 no_argument,	    NULL, OPT_FORCE },
	{ "no-cpu-map",	 no_argument,	    NULL, OPT_NO_MAP },
	{ "cpu",	 required_argument, NULL, OPT_CPU },
	{ "scatter",	 no_argument,	    NULL, OPT_SCATTER },
	{ "help",	 no_argument,	    NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define BAD(...)	do { dio_usage_err("bench", __VA_ARGS__); return -1; } while (0)

static int bench_parse(struct dio_bench *b, int argc, char **argv)
{
	bool have_time = false, have_size = false;
	uint64_t v;
	unsigned int i;
	int c;

	*b = (struct dio_bench){
		.mode = DIO_DMABUF, .dmabuf_spec = "udmabuf", .bs = 4096, .qd = 32,
		.jobs = 1, .random = true, .seconds = 5, .progress = -1,
		.csv_header = true, .target.fd = -1,
	};
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:d:b:q:p:w:t:n:j:o:s:h", bench_opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			for (i = 0; i < DIO_NMODES && strcmp(optarg, dio_mode_names[i]); i++)
				;
			if (i == DIO_NMODES)
				BAD("unknown --mode '%s': use plain, fixed, dmabuf, bounce or "
				    "premapped", optarg);
			b->mode = i;
			break;
		case 'd':
			if (dio_dmabuf_check_spec(optarg))
				BAD("unknown --dmabuf '%s': use udmabuf, heap, heap:NAME, fd:N, "
				    "drm:PATH or vfio:BDF[/BAR]", optarg);
			b->dmabuf_spec = optarg;
			break;
		case 'b':
			if (dio_parse_size(optarg, &v) || !v || v > (256U << 20))
				BAD("bad --bs '%s': a size from 512 to 256m (4k, 1m)", optarg);
			b->bs = v;
			break;
		case 'q':
			if (dio_parse_uint(optarg, 1, 4096, &v))
				BAD("bad --qd '%s': a number from 1 to 4096", optarg);
			b->qd = v;
			break;
		case 'p':
			if (!strcmp(optarg, "random") || !strcmp(optarg, "rand"))
				b->random = true;
			else if (!strcmp(optarg, "sequential") || !strcmp(optarg, "seq"))
				b->random = false;
			else
				BAD("unknown --pattern '%s': use random or sequential", optarg);
			break;
		case 'w':
			if (!strcmp(optarg, "read"))
				b->write = false;
			else if (!strcmp(optarg, "write"))
				b->write = true;
			else
				BAD("unknown --rw '%s': use read or write", optarg);
			break;
		case 't':
			if (dio_parse_seconds(optarg, &b->seconds) || b->seconds > 86400)
				BAD("bad --time '%s': seconds, e.g. 10, 2.5s, 500ms, 1m", optarg);
			have_time = true;
			break;
		case 'n':
			if (dio_parse_uint(optarg, 1, 1ULL << 48, &b->ios))
				BAD("bad --ios '%s': a positive count, e.g. 100000 or 100k", optarg);
			break;
		case 'j':
			if (dio_parse_uint(optarg, 1, 64, &v))
				BAD("bad --jobs '%s': a number from 1 to 64", optarg);
			b->jobs = v;
			break;
		case 'o':
			if (dio_parse_size(optarg, &b->offset))
				BAD("bad --offset '%s': a size, e.g. 0, 1m, 4g", optarg);
			break;
		case 's':
			if (dio_parse_size(optarg, &b->size) || !b->size)
				BAD("bad --size '%s': a size, e.g. 64m, 4g", optarg);
			have_size = true;
			break;
		case OPT_POLL:		b->poll = true; break;
		case OPT_PROGRESS:	b->progress = 1; break;
		case OPT_NO_PROGRESS:	b->progress = 0; break;
		case OPT_JSON:		b->json = true; break;
		case OPT_CSV:		b->csv = true; break;
		case OPT_NO_HEADER:	b->csv_header = false; break;
		case OPT_FORCE:		b->force = true; break;
		case OPT_NO_MAP:	b->no_map = true; break;
		case OPT_SCATTER:	b->scatter = true; break;
		case OPT_CPU:
			if (!strcmp(optarg, "system"))
				b->cpu_system = true;
			else if (!strcmp(optarg, "process"))
				b->cpu_system = false;
			else
				BAD("unknown --cpu '%s': use process or system", optarg);
			break;
		case 'h':
			fputs(bench_help, stdout);
			exit(0);
		default:		/* getopt printed what is wrong */
			fprintf(stderr, "Try 'dmabuf-io bench --help'.\n");
			return -1;
		}
	}
	if (optind == argc)
		BAD("no DEVICE given");
	if (optind + 1 < argc)
		BAD("one DEVICE only; unexpected '%s'", argv[optind + 1]);
	if (have_time && b->ios)
		BAD("--time and --ios exclude each other");
	if (b->json && b->csv)
		BAD("--json and --csv exclude each other");
	if (b->ios && b->ios < b->jobs)
		BAD("--ios %llu is less than one I/O per job (--jobs %u)",
		    (unsigned long long)b->ios, b->jobs);
	if (b->no_map && b->mode == DIO_BOUNCE)
		BAD("--mode bounce copies through the dma-buf's CPU mapping: not with --no-cpu-map");
	if (dio_target_open(&b->target, argv[optind], b->write, true, b->force))
		return -2;
	if (b->bs % b->target.lbsize)
		BAD("--bs %u is not a multiple of %s's block size (%u)",
		    b->bs, b->target.path, b->target.lbsize);
	if (b->offset % b->bs)
		BAD("--offset %llu is not a multiple of --bs %u",
		    (unsigned long long)b->offset, b->bs);
	if (b->offset >= b->target.size)
		BAD("--offset %llu is beyond the end of %s (%llu bytes)",
		    (unsigned long long)b->offset, b->target.path,
		    (unsigned long long)b->target.size);
	if (!have_size)
		b->size = b->target.size - b->offset;
	if (b->size > b->target.size - b->offset)
		BAD("--offset + --size reach beyond the end of %s (%llu bytes)",
		    b->target.path, (unsigned long long)b->target.size);
	if (b->size / b->bs < (b->random ? 1 : b->jobs))
		BAD("the area (%llu bytes) is smaller than %s %u-byte I/O%s",
		    (unsigned long long)b->size, b->random ? "one" : "one per job:",
		    b->bs, b->random ? "" : "s");
	/*
	 * A regular file (dmabuf, premapped): the registration says whether
	 * its file system takes dma-buf I/O, and why not; never another path.
	 */
	return 0;
}

static void bench_sigint(int sig)
{
	(void)sig;
	atomic_store(&dio_stop, 1);
}

static uint64_t bench_done(const struct dio_worker *w, unsigned int n)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		sum += atomic_load_explicit(&w[i].done, memory_order_relaxed);
	return sum;
}

/* A line a second while the workers run; \r-updated on a terminal. */
static void bench_progress(struct dio_bench *b, struct dio_worker *w, double t0)
{
	bool tty = isatty(STDERR_FILENO);
	uint64_t last = 0, now_done;
	double last_t = t0, t;
	struct timespec tick = { 1, 0 };
	unsigned int i, running;

	for (;;) {
		nanosleep(&tick, NULL);
		for (i = 0, running = 0; i < b->jobs; i++)
			running += !atomic_load(&w[i].finished);
		if (!running)
			break;
		t = dio_now();
		now_done = bench_done(w, b->jobs);
		fprintf(stderr, "%s[%6.1f s] %8.1f KIOPS %9.1f MB/s, %llu I/Os%s",
			tty ? "\r" : "", t - t0, (now_done - last) / (t - last_t) / 1e3,
			(double)(now_done - last) * b->bs / (t - last_t) / 1e6,
			(unsigned long long)now_done, tty ? "  " : "\n");
		last = now_done;
		last_t = t;
	}
	if (tty)
		fputc('\n', stderr);
}

static int bench_run(struct dio_bench *b)
{
	struct dio_worker *w = calloc(b->jobs, sizeof(*w));
	struct rusage ru0, ru1;
	struct dio_soak soak = { 0 };
	pthread_barrier_t start;
	pthread_t *tid = calloc(b->jobs, sizeof(*tid));
	unsigned int i;
	double t0;
	int ret = 0;

	if (!w || !tid) {
		dio_err("out of memory");
		return -1;
	}
	/* other probe errors (no io_uring at all) show when the rings are set up */
	if (b->mode == DIO_DMABUF && dmabuf_rw_probe() == -EOPNOTSUPP) {
		dio_err("this kernel does not support dma-buf registered buffers "
			"(IORING_RSRC_UPDATE_EXTENDED); --mode fixed and bounce still work");
		return -1;
	}
	if (b->mode == DIO_PREMAPPED && dio_premap_supported() == 0) {
		dio_err("this kernel does not support premapped registered buffers "
			"(IO_REGBUF_F_TARGET); --mode fixed measures the same memory "
			"mapped per I/O");
		return -1;
	}
	signal(SIGINT, bench_sigint);
	pthread_barrier_init(&start, NULL, b->jobs + 1);
	for (i = 0; i < b->jobs; i++) {
		w[i].b = b;
		w[i].id = i;
		w[i].start = &start;
		w[i].dbuf.fd = -1;
		w[i].quota = b->ios ? b->ios / b->jobs + (i < b->ios % b->jobs) : 0;
		ret = pthread_create(&tid[i], NULL, dio_worker_run, &w[i]);
		if (ret) {
			/* the others wait at the barrier for this one */
			dio_err("pthread_create: %s", strerror(ret));
			exit(DIO_EXIT_FAIL);
		}
	}
	/*
	 * Twice: the workers are set up, then they go.  In between (--cpu
	 * system) the soak threads start and calibrate, on a system where the
	 * setup is over and no I/O runs yet.
	 */
	pthread_barrier_wait(&start);
	if (b->cpu_system && !atomic_load(&b->setup_failed)) {
		if (dio_soak_start(&soak) || dio_soak_calibrate(&soak, 0.2)) {
			atomic_store(&b->setup_failed, 1);
			ret = -1;
		}
	}
	getrusage(RUSAGE_SELF, &ru0);
	if (b->cpu_system && !ret)
		dio_soak_begin(&soak);
	pthread_barrier_wait(&start);
	t0 = dio_now();
	if (!atomic_load(&b->setup_failed) &&
	    (b->progress == 1 || (b->progress == -1 && isatty(STDERR_FILENO))))
		bench_progress(b, w, t0);
	for (i = 0; i < b->jobs; i++)
		pthread_join(tid[i], NULL);
	if (b->cpu_system && !ret)
		dio_soak_end(&soak);
	getrusage(RUSAGE_SELF, &ru1);
	dio_soak_stop(&soak);
	signal(SIGINT, SIG_DFL);

	dio_histo_init(&b->lat);
	for (i = 0; i < b->jobs; i++) {
		if (w[i].failed)
			ret = -1;
		dio_histo_merge(&b->lat, &w[i].lat);
		b->eagain += w[i].eagain;
		b->premapped_jobs += w[i].premapped;
		if (w[i].t_end - w[i].t_start > b->elapsed)
			b->elapsed = w[i].t_end - w[i].t_start;
		dio_worker_teardown(&w[i]);
	}
	b->done = b->lat.count;
	b->cpu_user = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
		      (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6;
	b->cpu_sys = (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		     (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	if (b->cpu_system && !ret) {
		/*
		 * The soak threads belong to this process but are not its
		 * work: their time (a user-space loop, plus interrupts that
		 * hit them) comes off the user time first.
		 */
		b->cpu_user -= soak.own;
		if (b->cpu_user < 0) {
			b->cpu_sys += b->cpu_user;
			b->cpu_user = 0;
		}
		if (b->cpu_sys < 0)
			b->cpu_sys = 0;
		b->busy = soak.busy;
		b->busy_cpus = soak.n;
		b->intr = soak.intr;
		b->ctxt = soak.ctxt;
	}
	pthread_barrier_destroy(&start);
	free(w);
	free(tid);
	return ret;
}

int dio_cmd_bench(int argc, char **argv)
{
	struct dio_bench *b = malloc(sizeof(*b));
	int ret;

	if (!b) {
		dio_err("out of memory");
		return DIO_EXIT_FAIL;
	}
	ret = bench_parse(b, argc, argv);
	if (ret) {
		dio_target_close(&b->target);
		free(b);
		return ret == -1 ? DIO_EXIT_USAGE : DIO_EXIT_FAIL;
	}
	ret = bench_run(b);
	/* also for --json and --csv: nobody may take these for premapped I/O */
	if (!ret && b->mode == DIO_PREMAPPED && b->premapped_jobs < b->jobs)
		dio_err("warning: the kernel maps the buffers of %u of %u job%s for %s "
			"per I/O, not once (the platform bounces through swiotlb or needs "
			"cache maintenance): these are fixed-buffer figures, not premapped "
			"ones", b->jobs - b->premapped_jobs, b->jobs, b->jobs > 1 ? "s" : "",
			b->target.path);
	if (!ret && !b->done) {
		dio_err("no I/O completed");
		ret = -1;
	}
	if (!ret)
		dio_report(b);
	else if (atomic_load(&dio_stop) && b->done)
		dio_err("stopped after %llu I/Os", (unsigned long long)b->done);
	dio_target_close(&b->target);
	free(b);
	return ret ? DIO_EXIT_FAIL : 0;
}
