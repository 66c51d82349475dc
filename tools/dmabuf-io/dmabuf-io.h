/* SPDX-License-Identifier: MIT */
/*
 * dmabuf-io: move data between block devices (or files) and dma-bufs with
 * io_uring, and measure it.  Declarations shared by the tool's files:
 *
 *   main.c    command dispatch, top-level help
 *   cli.c     messages, number/size/duration parsing
 *   target.c  the device or file I/O goes to (open, size, IOMMU mode)
 *   dmabuf.c  dma-bufs: udmabuf or a dma-heap, CPU mapping and sync
 *   exporters.c  dma-bufs from elsewhere: fd:N, drm:PATH
 *   busy.c    is a block device in use; why it cannot take dma-buf I/O
 *   fsfile.c  files on ext4 and xfs: why one cannot take dma-buf I/O, what
 *             a short read or an error there means
 *   vfio.c    device memory: a PCI BAR exported by vfio-pci as a dma-buf
 *   premap.c  host memory mapped once for the target (IO_REGBUF_F_TARGET)
 *   ring.c    io_uring setup, the same flags as fio's io_uring engine
 *   copy.c    the copy command
 *   bench.c   the bench command: options, threads, progress
 *   worker.c  one bench thread: its ring, buffers and I/O loop
 *   histo.c   latency histogram and percentiles
 *   soak.c    bench --cpu system: the whole system's busy time (soak threads)
 *   scatter.c bench --scatter: host memory whose every page is a DMA segment
 *   report.c  bench results as text, JSON or CSV
 */
#ifndef DMABUF_IO_H
#define DMABUF_IO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <liburing.h>

#define DIO_VERSION	"1.0"

/* Exit status: 0 success, 1 failure at run time, 2 bad usage. */
#define DIO_EXIT_FAIL	1
#define DIO_EXIT_USAGE	2

/* cli.c */
void dio_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dio_usage_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Sizes: 4096, 4k = 4KiB = 4096, 1MB = 10^6; decimal, or 0x hex. 0 or -1. */
int dio_parse_size(const char *s, uint64_t *out);
/* Counts from min to max: 100000, 100k = 100000 (decimal multiples). */
int dio_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int dio_parse_seconds(const char *s, double *out);	/* 5, 2.5, 500ms, 1m */
/* "4 KiB", "1.5 MiB": human size into buf */
const char *dio_fmt_size(uint64_t bytes, char *buf, size_t len);
double dio_now(void);					/* CLOCK_MONOTONIC, s */
uint64_t dio_now_ns(void);

/* target.c: a block device (opened O_DIRECT) or a regular file */
struct dio_target {
	const char *path;
	int fd;
	bool blockdev;
	bool direct;		/* opened O_DIRECT */
	uint64_t size;		/* bytes */
	unsigned int lbsize;	/* logical block size: I/O alignment */
	dev_t rdev;		/* block devices: the device number */
	dev_t fsdev;		/* regular files: the file system's device (st_dev) */
	char fstype[16];	/* regular files: "ext4", "xfs", "tmpfs" (mountinfo) */
	char fssrc[64];		/* regular files: what is mounted, "/dev/nvme2n1" */
	char iommu[16];		/* strict, lazy, passthrough, none, ...; a file:
				 * its file system's device's, or "n/a" */
};

/*
 * Open path for reading (write == false) or reading and writing.  Block
 * devices are opened O_DIRECT, and refused for writing when they are in
 * use (dio_blk_in_use()) unless force; regular files O_DIRECT when
 * require_direct, else O_DIRECT if the file system allows it, aligned to
 * their STATX_DIOALIGN offset alignment.  Prints the error and returns -1
 * on failure.
 */
int dio_target_open(struct dio_target *t, const char *path, bool write,
		    bool require_direct, bool force);

/*
 * busy.c: is the block device rdev (at path), or a partition of it, in use:
 * mounted (also where the mount shows major 0, as btrfs does), a swap
 * area, held by a stacked device (device-mapper, LVM, md: sysfs holders),
 * or opened exclusively (O_EXCL probe; only when root is "")?  Says why in
 * why.  root prefixes /sys and /proc ("" on a live system, a tree in
 * tests).
 */
bool dio_blk_in_use(const char *root, const char *path, dev_t rdev,
		    char *why, size_t len);
/*
 * Why the block device rdev cannot take dma-buf I/O, for the -EOPNOTSUPP
 * message: an integrity format, an NVMe multipath head, a driver other
 * than nvme.  root as above.
 */
void dio_blk_unsupported_why(const char *root, dev_t rdev, char *why, size_t len);
void dio_target_close(struct dio_target *t);

/*
 * fsfile.c.  dio_file_fs(): t->fstype and t->fssrc of the regular file t
 * from /proc/self/mountinfo, and its super block options into opts.
 * dio_file_fs_supported(): ext4 or xfs, the file systems that can take
 * dma-buf I/O.  dio_file_unsupported_why(): why the kernel refused t
 * (EOPNOTSUPP, or EINVAL without O_DIRECT): the file system, a property of
 * the file (inline data, data journalling, encryption, verity, DAX, xfs
 * realtime) or the file system's device, said so that the user knows
 * what to change.  dio_file_io_why(): what a dma-buf or premapped I/O of
 * len bytes on the file t that ended with res means (a short read before
 * a hole, -ENODATA, -EBUSY, ...), in buf; NULL for block devices and for
 * results that strerror() says well enough.
 */
void dio_file_fs(struct dio_target *t, char *opts, size_t optlen);
bool dio_file_fs_supported(const struct dio_target *t);
void dio_file_unsupported_why(const struct dio_target *t, char *why, size_t len);
const char *dio_file_io_why(const struct dio_target *t, bool write, int res,
			    unsigned int len, char *buf, size_t buflen);

/* dmabuf.c */
struct dio_dmabuf {
	int fd;
	size_t size;		/* of this user's area */
	uint64_t base;		/* where it starts in the dma-buf (fd:N, jobs) */
	unsigned char *map;	/* CPU view of the area, or NULL */
	char desc[64];		/* "udmabuf", "dma-heap system", "BAR 2 of ..." */
	bool device;		/* device memory (vfio.c): a slice of a BAR */
	bool no_map;		/* never map it for the CPU (--no-cpu-map) */
	uint64_t bar_off;	/* where that slice starts */
};

/*
 * spec: "udmabuf", "heap" (the system heap), "heap:NAME", a dma-buf the
 * caller passes in, "fd:N", a GEM buffer of a DRM device, "drm:PATH", or
 * device memory, "vfio:BDF[/BAR]".  0 or -1.
 */
int dio_dmabuf_check_spec(const char *spec);
/* Allocate size bytes (rounded up to pages); prints why on failure (-1). */
int dio_dmabuf_create(struct dio_dmabuf *b, const char *spec, size_t size);
/*
 * The CPU view in b->map.  Some dma-bufs have none (device memory, VRAM;
 * or b->no_map): -1, and with required a message saying so.
 */
int dio_dmabuf_map(struct dio_dmabuf *b, bool required);
/* DMA_BUF_IOCTL_SYNC around CPU access: flags DMA_BUF_SYNC_*.  */
int dio_dmabuf_sync(const struct dio_dmabuf *b, unsigned long long flags);
void dio_dmabuf_destroy(struct dio_dmabuf *b);
/*
 * Register b in slot of ring for I/O on target t.  Prints a message saying
 * what is wrong (kernel without the feature, target without support, ...)
 * and returns -errno on failure.
 */
int dio_dmabuf_register(struct io_uring *ring, unsigned int slot,
			const struct dio_dmabuf *b, const struct dio_target *t);
/* The message of dio_dmabuf_register() for its error ret. */
void dio_dmabuf_register_err(int ret, const struct dio_dmabuf *b, const struct dio_target *t);
/*
 * Did the kernel refuse dma-buf I/O for the regular file t, err being its
 * answer to a registration (EOPNOTSUPP; EINVAL when t is not O_DIRECT)?
 * dio_file_unsupported_why() says why.
 */
bool dio_file_refused(int err, const struct dio_target *t);

/*
 * exporters.c: "fd:N" (a slice of a dma-buf the caller passes in, handed
 * out in order to the jobs) and "drm:PATH".  0 or -1 (printed).
 */
int dio_fd_create(struct dio_dmabuf *b, const char *spec, size_t size);
int dio_drm_create(struct dio_dmabuf *b, const char *spec, size_t size);

/* Consecutive -EAGAIN completions of one I/O before giving up. */
#define DIO_EAGAIN_MAX	1000

/*
 * vfio.c: --dmabuf vfio:BDF[/BAR], a slice of size bytes of a BAR of a
 * device bound to vfio-pci.  dio_vfio_map() points b->map at that slice of
 * the BAR's mapping.
 */
int dio_vfio_check_spec(const char *spec);
int dio_vfio_create(struct dio_dmabuf *b, const char *spec, size_t size);
void dio_vfio_map(struct dio_dmabuf *b);
void dio_vfio_release(struct dio_dmabuf *b);

/*
 * premap.c: 1 when the kernel knows IO_REGBUF_F_TARGET, 0 when it does not,
 * -errno when io_uring itself is not usable.
 */
int dio_premap_supported(void);
/*
 * Register len bytes of host memory at addr in slot of ring, mapped once
 * for target t.  Returns 1 when the slot holds the long-lived mapping, 0
 * when the kernel registered it but maps it per I/O (the platform bounces
 * or needs cache maintenance), or -errno after printing what is wrong.
 */
int dio_premap_register(struct io_uring *ring, unsigned int slot, void *addr,
			size_t len, const struct dio_target *t);

/* ring.c: entries SQEs (and CQEs); poll: IORING_SETUP_IOPOLL.  -errno. */
int dio_ring_init(struct io_uring *ring, unsigned int entries, bool poll);

/* histo.c: log-linear latency histogram, nanoseconds, ~1.6% resolution */
#define DIO_HISTO_SUB		64
#define DIO_HISTO_BUCKETS	(DIO_HISTO_SUB + 58 * (DIO_HISTO_SUB / 2))
struct dio_histo {
	uint64_t count, sum, min, max;
	uint64_t bucket[DIO_HISTO_BUCKETS];
};
void dio_histo_init(struct dio_histo *h);
void dio_histo_add(struct dio_histo *h, uint64_t ns);
void dio_histo_merge(struct dio_histo *into, const struct dio_histo *h);
/* The value at quantile q (0..1): the middle of its bucket, ns. */
uint64_t dio_histo_quantile(const struct dio_histo *h, double q);

/*
 * soak.c: bench --cpu system.  A SCHED_IDLE thread pinned to every CPU the
 * process may use counts loop iterations; calibrated alone, the
 * iterations it loses during a run are the time everything else took.
 * dio_soak_start() starts the threads, dio_soak_calibrate() measures their
 * rate alone for secs, dio_soak_begin() and dio_soak_end() bracket the run
 * and set busy and own, dio_soak_stop() ends the threads.  -1 after
 * printing why.
 */
struct dio_soak_cpu;
struct dio_soak {
	struct dio_soak_cpu *cpu;
	unsigned int n;		/* CPUs, one thread each */
	_Atomic int stop;
	double t0;		/* dio_soak_begin() */
	double busy;		/* CPU-seconds not spent soaking, all CPUs */
	double own;		/* the soak threads' own CPU time, s */
	uint64_t intr, ctxt;	/* interrupts, context switches (/proc/stat) */
};
int dio_soak_start(struct dio_soak *s);
int dio_soak_calibrate(struct dio_soak *s, double secs);
void dio_soak_begin(struct dio_soak *s);
void dio_soak_end(struct dio_soak *s);
void dio_soak_stop(struct dio_soak *s);

/*
 * scatter.c: len bytes (rounded up to pages) of host memory filled with
 * fill, no page followed by its physical successor: every page a DMA
 * segment of its own.  Needs the page frame numbers of /proc/self/pagemap
 * (CAP_SYS_ADMIN).  NULL after printing why.  dio_phys_segments(): the
 * physically contiguous runs of pages in [addr, addr + len), 0 when
 * pagemap does not say (printed).
 */
void *dio_scatter_alloc(size_t len, int fill);
void dio_scatter_free(void *buf, size_t len);
/*
 * A udmabuf of len bytes (rounded up to pages) over a memfd whose pages
 * are laid out the same way, into b (as dio_dmabuf_create() would, freed
 * by dio_dmabuf_destroy()).  -1 after printing why.
 */
int dio_scatter_udmabuf(struct dio_dmabuf *b, size_t len);
size_t dio_phys_segments(const void *addr, size_t len);

/* bench */
enum dio_mode { DIO_PLAIN, DIO_FIXED, DIO_DMABUF, DIO_BOUNCE, DIO_PREMAPPED };
#define DIO_NMODES	(DIO_PREMAPPED + 1)

struct dio_bench {
	/* options */
	enum dio_mode mode;
	const char *dmabuf_spec;
	unsigned int bs, qd, jobs;
	bool random, write, poll;
	bool force;		/* write to a device in use */
	bool no_map;		/* --no-cpu-map */
	bool scatter;		/* --scatter: host memory, every page a segment */
	double seconds;		/* time-based run ... */
	uint64_t ios;		/* ... or this many I/Os in total (0: time) */
	uint64_t offset, size;	/* area of the target used */
	int progress;		/* -1: when stderr is a tty */
	bool json, csv, csv_header;
	bool cpu_system;	/* --cpu system: also the whole system's busy time */
	struct dio_target target;
	_Atomic int setup_failed;	/* a thread could not set up */

	/* results */
	uint64_t done;		/* I/Os completed */
	uint64_t eagain;	/* -EAGAIN completions reissued */
	double elapsed;		/* s, first submission to last completion */
	double cpu_user, cpu_sys;	/* s, the whole process (less soak threads) */
	double busy;		/* --cpu system: s, every CPU's busy time */
	unsigned int busy_cpus;	/* --cpu system: CPUs measured */
	uint64_t intr, ctxt;	/* --cpu system: interrupts, context switches */
	struct dio_histo lat;
	unsigned int premapped_jobs;	/* --mode premapped: jobs whose slot got the mapping */
};

extern const char *const dio_mode_names[];
/* Set by SIGINT or a failing thread: stop issuing, finish in-flight I/O. */
extern _Atomic int dio_stop;

/* One bench thread; worker.c */
struct dio_worker {
	struct dio_bench *b;
	unsigned int id;
	pthread_barrier_t *start;	/* all set up: go */
	struct io_uring ring;
	unsigned char *host;		/* plain, fixed, bounce: host memory */
	size_t host_scattered;		/* --scatter: its length (munmap, not free) */
	struct dio_dmabuf dbuf;		/* dmabuf, bounce */
	bool premapped;			/* premapped: the slot got the mapping */
	uint64_t *issued_ns;		/* per in-flight slot */
	uint64_t *slot_off;		/* per in-flight slot: device offset */
	unsigned int *again;		/* per slot: consecutive -EAGAIN */
	uint64_t rng, next_seq, area_start, area_end;
	uint64_t quota;			/* I/Os to issue, 0: until the deadline */
	uint64_t issued;
	double deadline;
	_Atomic uint64_t done;		/* read by the progress line */
	uint64_t eagain;
	double t_start, t_end;
	_Atomic int finished;		/* t_end is set */
	struct dio_histo lat;
	int failed;			/* the thread printed why */
};

/* Thread function: sets up, waits at *start, runs. */
void *dio_worker_run(void *arg);
void dio_worker_teardown(struct dio_worker *w);

/* report.c */
void dio_report(const struct dio_bench *b);
/* Modes that use a dma-buf (--dmabuf applies). */
static inline bool dio_mode_dmabuf(enum dio_mode m)
{
	return m == DIO_DMABUF || m == DIO_BOUNCE;
}

/* commands */
int dio_cmd_copy(int argc, char **argv);
int dio_cmd_bench(int argc, char **argv);

#endif /* DMABUF_IO_H */
