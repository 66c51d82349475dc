/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the dmabuf/ tests, on top of test.h and lib/dmabuf-rw.h.
 *
 * Every test starts with dt_require(): it fails, with one line saying what
 * is missing, when the kernel lacks dma-buf registered buffers (the bed
 * has them).  dt_io() and the tests'
 * batch loops reissue a request that completed with -EAGAIN (documented:
 * the exporter may have invalidated the mapping) and count it in dt_eagain;
 * dt_report() prints the count and the test's run time.
 */
#ifndef DMABUF_RW_DT_H
#define DMABUF_RW_DT_H

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>

#include "test.h"
#include "dmabuf-rw.h"

#define DT_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define DT_MIB			(1U << 20)

/* -EAGAIN completions reissued so far */
static unsigned long dt_eagain;
static struct timespec dt_start;

static inline void dt_require(void)
{
	clock_gettime(CLOCK_MONOTONIC, &dt_start);
	t_require_dmabuf_io();
}

static inline void dt_report(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	printf("-EAGAIN completions retried: %lu; %.1f s\n", dt_eagain,
	       (now.tv_sec - dt_start.tv_sec) + (now.tv_nsec - dt_start.tv_nsec) / 1e9);
}

/* A dma-buf, its CPU mapping and where it came from. */
struct dt_buf {
	int fd;
	int memfd;		/* udmabuf: the memfd behind it, else -1 */
	size_t size;
	unsigned char *map;	/* mmap of the dma-buf fd, read/write */
	const char *kind;
};

static inline void dt_buf_map(struct dt_buf *b)
{
	off_t size = lseek(b->fd, 0, SEEK_END);

	if (size != (off_t)b->size)
		t_fail("%s: dma-buf size %lld, want %zu", b->kind, (long long)size, b->size);
	b->map = t_mmap(b->fd, b->size, PROT_READ | PROT_WRITE);
}

static inline void dt_udmabuf(struct dt_buf *b, size_t size)
{
	b->fd = dmabuf_rw_udmabuf_create(size, &b->memfd);
	if (b->fd == -ENOENT)
		t_missing("/dev/udmabuf (CONFIG_UDMABUF)");
	if (b->fd < 0)
		t_fail("udmabuf of %zu bytes: %s", size, strerror(-b->fd));
	b->size = size;
	b->kind = "udmabuf";
	dt_buf_map(b);
}

static inline void dt_heapbuf(struct dt_buf *b, size_t size)
{
	b->fd = dmabuf_rw_heap_alloc("system", size);
	if (b->fd == -ENOENT)
		t_missing("/dev/dma_heap/system (CONFIG_DMABUF_HEAPS_SYSTEM)");
	if (b->fd < 0)
		t_fail("system heap, %zu bytes: %s", size, strerror(-b->fd));
	b->memfd = -1;
	b->size = size;
	b->kind = "system heap";
	dt_buf_map(b);
}

static inline void dt_buf_free(struct dt_buf *b)
{
	munmap(b->map, b->size);
	close(b->fd);
	if (b->memfd >= 0)
		close(b->memfd);
}

/* Bracket CPU access to the mapping (DMA_BUF_IOCTL_SYNC). */
static inline void dt_cpu_begin(const struct dt_buf *b)
{
	int ret = t_dmabuf_sync(b->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);

	if (ret)
		t_fail("%s: DMA_BUF_IOCTL_SYNC start: %s", b->kind, strerror(-ret));
}

static inline void dt_cpu_end(const struct dt_buf *b)
{
	int ret = t_dmabuf_sync(b->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);

	if (ret)
		t_fail("%s: DMA_BUF_IOCTL_SYNC end: %s", b->kind, strerror(-ret));
}

/* Overwrite [off, off + len) of the dma-buf with a byte no pattern uses much. */
static inline void dt_poison(const struct dt_buf *b, size_t off, size_t len)
{
	dt_cpu_begin(b);
	memset(b->map + off, 0xa5, len);
	dt_cpu_end(b);
}

/* 0 when [off, off + len) of the mapping still holds the poison. */
static inline int dt_check_poison(const unsigned char *p, size_t len, const char *what)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != 0xa5) {
			printf("%s: overwritten at +%zu (0x%02x)\n", what, i, p[i]);
			return -1;
		}
	}
	return 0;
}

/* Fill / check [off, off + len) of the dma-buf with the pattern of pos. */
static inline void dt_fill(const struct dt_buf *b, size_t off, size_t len,
			   uint64_t pos, uint32_t seed)
{
	dt_cpu_begin(b);
	t_fill(b->map + off, len, pos, seed);
	dt_cpu_end(b);
}

static inline int dt_verify(const struct dt_buf *b, size_t off, size_t len,
			    uint64_t pos, uint32_t seed, const char *what)
{
	int ret;

	dt_cpu_begin(b);
	ret = t_verify(b->map + off, len, pos, seed, what);
	dt_cpu_end(b);
	return ret;
}

/* Sparse table of nr slots on ring. */
static inline void dt_sparse(struct io_uring *ring, unsigned int nr)
{
	int ret = io_uring_register_buffers_sparse(ring, nr);

	if (ret)
		t_fail("io_uring_register_buffers_sparse(%u): %s", nr, strerror(-ret));
}

static inline void dt_register(struct io_uring *ring, unsigned int slot,
			       const struct dt_buf *b, int target_fd)
{
	int ret = dmabuf_rw_register_dmabuf(ring, slot, b->fd, target_fd);

	if (ret)
		t_fail("registering %s (%zu bytes) in slot %u: %s", b->kind,
		       b->size, slot, strerror(-ret));
}

/* Prepare one read/write; addr is the dma-buf offset for a dma-buf slot. */
/* The ring kinds the rings tests run on (dmabuf/, premap/, fs/), with their setup flags. */
static const struct {
	const char *name;
	unsigned int flags;
} dt_ring_kinds[] = {
	{ "plain", 0 },
	{ "SINGLE_ISSUER|DEFER_TASKRUN", IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN },
	{ "SQPOLL", IORING_SETUP_SQPOLL },
	{ "IOPOLL", IORING_SETUP_IOPOLL },
};

static inline struct io_uring_sqe *dt_prep(struct io_uring *ring, int opcode, int fd,
					   uint64_t addr, unsigned int len, uint64_t off,
					   int slot, uint64_t data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		t_fail("no free SQE");
	io_uring_prep_rw(opcode, sqe, fd, (void *)(uintptr_t)addr, len, off);
	if (opcode == IORING_OP_READ_FIXED || opcode == IORING_OP_WRITE_FIXED)
		sqe->buf_index = slot;
	sqe->user_data = data;
	return sqe;
}

static inline void dt_submit(struct io_uring *ring)
{
	int ret = io_uring_submit(ring);

	if (ret < 0)
		t_fail("io_uring_submit: %s", strerror(-ret));
}

/* One synchronous I/O with RWF_* flags rwf.  Returns cqe->res. */
static inline int dt_io_once(struct io_uring *ring, int opcode, int fd, uint64_t addr,
			     unsigned int len, uint64_t off, int slot, int rwf)
{
	struct io_uring_cqe *cqe;
	int ret;

	dt_prep(ring, opcode, fd, addr, len, off, slot, 0)->rw_flags = rwf;
	dt_submit(ring);
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		t_fail("io_uring_wait_cqe: %s", strerror(-ret));
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

/* One synchronous I/O, reissued on -EAGAIN.  Returns cqe->res. */
static inline int dt_io(struct io_uring *ring, int opcode, int fd, uint64_t addr,
			unsigned int len, uint64_t off, int slot)
{
	int ret;

	while ((ret = dt_io_once(ring, opcode, fd, addr, len, off, slot, 0)) == -EAGAIN)
		dt_eagain++;
	return ret;
}

/* Fail unless an I/O moved exactly len bytes. */
#define dt_expect_len(ret, len, fmt, ...) do {					\
	int __r = (ret);							\
	if (__r != (int)(len))							\
		t_fail(fmt ": res %d (%s), want %u", ##__VA_ARGS__, __r,	\
		       __r < 0 ? strerror(-__r) : "short", (unsigned int)(len)); \
} while (0)

/* Fail unless a call returned want (a count or -errno). */
#define dt_expect(ret, want, fmt, ...) do {					\
	int __r = (ret), __w = (want);						\
	if (__r != __w)								\
		t_fail(fmt ": got %d (%s), want %d (%s)", ##__VA_ARGS__, __r,	\
		       __r < 0 ? strerror(-__r) : "ok", __w,			\
		       __w < 0 ? strerror(-__w) : "ok");			\
} while (0)

/* Plain O_DIRECT I/O on the device, through an aligned bounce buffer. */
static inline void dt_dev_fill(int fd, uint64_t off, uint64_t len, uint32_t seed)
{
	size_t chunk = len < 4 * DT_MIB ? len : 4 * DT_MIB;
	void *buf = t_malloc(chunk);
	uint64_t done;

	for (done = 0; done < len; done += chunk) {
		size_t n = len - done < chunk ? len - done : chunk;
		ssize_t ret;

		t_fill(buf, n, off + done, seed);
		ret = pwrite(fd, buf, n, off + done);
		if (ret != (ssize_t)n)
			t_fail("pwrite %zu at %llu: %s", n, (unsigned long long)(off + done),
			       ret < 0 ? strerror(errno) : "short");
	}
	free(buf);
}

static inline int dt_dev_verify(int fd, uint64_t off, uint64_t len, uint32_t seed,
				const char *what)
{
	void *buf = t_malloc(len);
	ssize_t ret;
	int bad;

	memset(buf, 0x5a, len);
	ret = pread(fd, buf, len, off);
	if (ret != (ssize_t)len)
		t_fail("pread %llu at %llu: %s", (unsigned long long)len,
		       (unsigned long long)off, ret < 0 ? strerror(errno) : "short");
	bad = t_verify(buf, len, off, seed, what);
	free(buf);
	return bad;
}

#endif /* DMABUF_RW_DT_H */
