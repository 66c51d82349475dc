/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the premap/ tests: ordinary registered buffers that are
 * also mapped once for a target file (IO_REGBUF_F_TARGET,
 * dmabuf_rw_register_premapped()).
 *
 * Two beds, two explicit expectations.  In a normal boot every registration
 * for an O_DIRECT NVMe drive gets the long-lived mapping: the ring's fdinfo
 * says "premapped" (dmabuf_rw_buffer_premapped() is 1) and every
 * READ_FIXED/WRITE_FIXED on the target takes the dma-buf path.  A boot with
 * swiotlb=force (make check's swiotlb bed, tests/run-check.sh) bounces all
 * DMA, where a long-lived mapping would be wrong: registration still
 * succeeds, the slot is an ordinary buffer (0) and no I/O takes the dma-buf
 * path.  pt_want is 1 or 0 accordingly; the tests compare against it, so a
 * kernel without the extension, or one that maps but does not use the
 * mapping, fails them in the normal bed, and one that keeps a mapping under
 * bouncing fails them in the swiotlb bed.
 *
 * Which path an I/O took: the test module dmabuf-bios counts the bios built
 * from a dma-buf I/O map, one per I/O that used it (pt_bios()).  Which
 * mappings exist: every premapped slot has a dma-buf of exporter
 * "dma-buf-io-pages" in /sys/kernel/debug/dma_buf/bufinfo, attached to the
 * drive's PCI device, for as long as the slot (or a clone, or I/O) holds it
 * (pt_pages()).
 *
 * The pages never move: unlike a dma-buf slot, no I/O may complete with
 * -EAGAIN (pt_done() fails the test if one did).
 */
#ifndef DMABUF_RW_PT_H
#define DMABUF_RW_PT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "../dmabuf/dmabuf-test.h"

#define PT_PAGE		4096U
#define PT_BIOS_PARAM	"/sys/module/dmabuf_bios/parameters/"
#define PT_BIOS_MODULE	"/modules/dmabuf-bios.ko"
#define PT_BUFINFO	"/sys/kernel/debug/dma_buf/bufinfo"

/* 1: registrations for an NVMe drive are premapped; 0: the swiotlb bed */
static int pt_want = 1;

/* swiotlb=[N[,M],]force on the command line: all DMA bounces. */
static inline int pt_swiotlb_bed(void)
{
	const char *v = t_cmdline("swiotlb");
	char *copy, *tok, *save;
	int force = 0;

	if (!v)
		return 0;
	copy = strdup(v);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		force |= !strcmp(tok, "force");
	free(copy);
	return force;
}

static inline int pt_param_write(const char *name, const char *val)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), PT_BIOS_PARAM "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* the process that armed the counter: children exiting leave it armed */
static pid_t pt_armed_by;

static inline void pt_disarm(void)
{
	if (getpid() == pt_armed_by)
		pt_param_write("armed", "0");
}

/* Arm the bio counter, loading dmabuf-bios if the boot did not. */
static inline void pt_arm(void)
{
	int ret = pt_param_write("armed", "1");

	if (ret == -ENOENT) {
		int mfd = open(PT_BIOS_MODULE, O_RDONLY | O_CLOEXEC);

		if (mfd < 0)
			t_missing("the test module %s (make test-modules)", PT_BIOS_MODULE);
		if (syscall(SYS_finit_module, mfd, "", 0) && errno != EEXIST)
			t_fail("loading %s: %s", PT_BIOS_MODULE, strerror(errno));
		close(mfd);
		ret = pt_param_write("armed", "1");
	}
	if (ret)
		t_fail("arming dmabuf-bios: %s", strerror(-ret));
	pt_armed_by = getpid();
	atexit(pt_disarm);
}

/* bios built from dma-buf I/O maps so far (while armed). */
static inline long pt_bios(void)
{
	FILE *f = fopen(PT_BIOS_PARAM "bios", "r");
	long v;

	if (!f || fscanf(f, "%ld", &v) != 1)
		t_fail("reading " PT_BIOS_PARAM "bios");
	fclose(f);
	return v;
}

/*
 * Since before, n I/Os were issued on a premapped slot's target: each of
 * them took the premapped path (none in the swiotlb bed).  An I/O builds
 * one bio from the map, or two when its first, non-blocking attempt was
 * refused (a split REQ_NOWAIT bio) and io_uring issued it again: at least
 * n.  pt_io() checks single I/Os exactly.
 */
static inline void pt_expect_bios(long before, long n, const char *what)
{
	long got = pt_bios() - before;

	if (pt_want ? got < n : got != 0)
		t_fail("%s: %ld bios from the long-lived mapping for %ld I/Os, want %s%ld%s",
		       what, got, n, pt_want ? "at least " : "", pt_want ? n : 0,
		       pt_want ? "" : " (swiotlb bed)");
}

/* No I/O since before used a dma-buf map. */
static inline void pt_expect_no_bios(long before, const char *what)
{
	long got = pt_bios() - before;

	if (got)
		t_fail("%s: %ld I/Os used a long-lived mapping, want none (ordinary path)",
		       what, got);
}

/* Start of every test: the feature, the bed, the bio counter. */
static inline void pt_require(void)
{
	dt_require();
	pt_want = !pt_swiotlb_bed();
	pt_arm();
	if (!pt_want)
		printf("swiotlb bed (swiotlb=force): expecting ordinary buffers, no long-lived mappings\n");
}

static inline void pt_done(void)
{
	if (dt_eagain)
		t_fail("%lu I/Os completed with -EAGAIN: a premapped buffer never moves",
		       dt_eagain);
	dt_report();
}

/*
 * dmabuf_rw_buffer_premapped() must say want.  fdinfo lists the buffers
 * only when it gets the ring's lock without waiting: an SQPOLL thread
 * holding it briefly makes the slot look empty, so -ENOENT is asked again.
 */
static inline void pt_expect_premapped(struct io_uring *ring, unsigned int slot, int want,
				       const char *what)
{
	int ret, tries = 0;

	while ((ret = dmabuf_rw_buffer_premapped(ring, slot)) == -ENOENT &&
	       want != -ENOENT && ++tries < 200)
		usleep(1000);
	if (ret != want)
		t_fail("%s: dmabuf_rw_buffer_premapped(slot %u) = %d (%s), want %d", what, slot,
		       ret, ret < 0 ? strerror(-ret) : ret ? "premapped" : "ordinary", want);
}

/*
 * One synchronous I/O (dt_io()) through slot, which holds a premapped
 * buffer for fd when premapped is 1: then an I/O that moved data must have
 * used the mapping (not in the swiotlb bed), one that moved nothing issued
 * no bio.  With premapped 0 (another file, another opcode) none may; with
 * -1 the path is not checked (the data alone is).
 */
static inline int pt_io(struct io_uring *ring, int opcode, int fd, uint64_t addr,
			unsigned int len, uint64_t off, int slot, int premapped)
{
	long before = pt_bios(), got;
	int ret = dt_io(ring, opcode, fd, addr, len, off, slot);

	got = pt_bios() - before;
	if (ret < 0 || premapped < 0)
		return ret;
	if (premapped && pt_want && ret > 0 ? got < 1 : got != 0)
		t_fail("%s of %u bytes at %llu through slot %d: %ld bios from the long-lived mapping, want %s",
		       opcode == IORING_OP_READ_FIXED ? "READ_FIXED" : "WRITE_FIXED", len,
		       (unsigned long long)off, slot, got,
		       premapped && pt_want && ret > 0 ? "at least 1" :
		       premapped && pt_want ? "none (nothing to move)" :
		       premapped ? "none (swiotlb bed)" : "none (ordinary path)");
	return ret;
}

/* Register [p, p + len) in slot for fd; it must succeed and be as the bed says. */
static inline void pt_register(struct io_uring *ring, unsigned int slot, void *p, size_t len,
			       int fd)
{
	char what[96];
	int ret = dmabuf_rw_register_premapped(ring, slot, p, len, fd);

	snprintf(what, sizeof(what), "premapped registration of %zu bytes at %p in slot %u",
		 len, p, slot);
	if (ret)
		t_fail("%s: %s", what, strerror(-ret));
	pt_expect_premapped(ring, slot, pt_want, what);
}

/*
 * User memory: len bytes at lead bytes into a fresh anonymous mapping, with
 * an inaccessible page after the mapping's last page so that overruns fault.
 */
struct pt_buf {
	unsigned char *base;	/* the mapping */
	size_t map_len;
	unsigned char *p;	/* the buffer: base + lead */
	size_t len;
};

static inline void pt_alloc(struct pt_buf *b, size_t len, size_t lead)
{
	size_t span = (lead + len + PT_PAGE - 1) / PT_PAGE * PT_PAGE;

	b->map_len = span + PT_PAGE;
	b->base = mmap(NULL, b->map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (b->base == MAP_FAILED)
		t_fail("mmap of %zu bytes: %s", b->map_len, strerror(errno));
	if (mprotect(b->base + span, PT_PAGE, PROT_NONE))
		t_fail("mprotect of the guard page: %s", strerror(errno));
	b->p = b->base + lead;
	b->len = len;
}

static inline void pt_free(struct pt_buf *b)
{
	munmap(b->base, b->map_len);
}

static inline uint64_t pt_addr(const struct pt_buf *b, size_t off)
{
	return (uintptr_t)(b->p + off);
}

/* Poison [off, off + len) of b (a byte no pattern uses much). */
static inline void pt_poison(const struct pt_buf *b, size_t off, size_t len)
{
	memset(b->p + off, 0xa5, len);
}

/* The dma-bufs that hold premapped registrations, from debugfs. */
struct pt_pages {
	int n;			/* "dma-buf-io-pages" buffers */
	size_t bytes;		/* their sizes */
	int attached;		/* their device attachments */
};

static inline struct pt_pages pt_pages(void)
{
	struct pt_pages r = { 0, 0, 0 };
	char line[512];
	int in = 0, a;
	size_t size;
	FILE *f = fopen(PT_BUFINFO, "r");

	if (!f)
		t_missing("%s (debugfs, CONFIG_DEBUG_FS): %s", PT_BUFINFO, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "\tdma-buf-io-pages\t") && sscanf(line, "%zu", &size) == 1) {
			r.n++;
			r.bytes += size;
			in = 1;
		} else if (in && sscanf(line, "Total %d devices attached", &a) == 1) {
			r.attached += a;
			in = 0;
		}
	}
	fclose(f);
	return r;
}

/*
 * Wait up to 5 s (a token is released once its last I/O is done, by a
 * worker) for n premapped dma-bufs with n attachments.
 */
static inline void pt_wait_pages(int n, const char *what)
{
	struct pt_pages p = pt_pages();

	for (int i = 0; i < 500 && (p.n != n || p.attached != n); i++) {
		usleep(10000);
		p = pt_pages();
	}
	if (p.n != n || p.attached != n)
		t_fail("%s: %d dma-buf-io-pages buffers (%zu bytes) with %d attachments, want %d",
		       what, p.n, p.bytes, p.attached, n);
}

/* The logical block size of drive n's namespace, after opening it. */
static inline int pt_open(int n, unsigned int *lbs)
{
	int fd = t_open_nvme(n, 0);

	if (lbs)
		*lbs = t_dev_lbsize(fd);
	return fd;
}

#endif /* DMABUF_RW_PT_H */
