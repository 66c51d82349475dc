/* SPDX-License-Identifier: MIT */
/*
 * The two kinds of registered buffer a test body can run on, behind one
 * struct of what differs between them, so that a dmabuf/ test and its
 * premap/ twin share their logic and say only which kind (and seed) they
 * use:
 *
 * - bk_dmabuf: a dma-buf slot (dmabuf-test.h).  The SQE addr is the offset
 *   into the dma-buf, the CPU sees it through its mmap, bracketed with
 *   DMA_BUF_IOCTL_SYNC, and an I/O may complete with -EAGAIN (reissued and
 *   counted: the exporter may have moved it).
 * - bk_premap: user memory registered for a target and mapped once for it
 *   (premap-test.h).  The SQE addr is a pointer, the CPU sees it directly,
 *   and every I/O on the target must take the long-lived mapping (none in
 *   the swiotlb bed), which io() and expect() check.
 *
 * A test has two buffers of its kind, made by bk_make(b, kind, size, i):
 * i = 0 is a udmabuf or memory at a page boundary, i = 1 a system-heap
 * dma-buf or memory 512 bytes into a page, so the same I/O covers what
 * differs between the two exporters, or between the two alignments.
 */
#ifndef DMABUF_RW_BK_H
#define DMABUF_RW_BK_H

#include "../premap/premap-test.h"

struct bk_buf;

struct bk_kind {
	const char *noun;	/* "wrong data in the <noun>" */
	void (*start)(void);	/* a test's first call: the feature, the bed */
	void (*done)(void);	/* its last: the report */
	void (*make)(struct bk_buf *b, size_t size, unsigned int i);
	void (*free)(struct bk_buf *b);
	/* register b in slot for fd; fails the test unless it works as the bed says */
	void (*reg)(struct io_uring *ring, unsigned int slot, const struct bk_buf *b, int fd);
	uint64_t (*addr)(const struct bk_buf *b, size_t off);	/* the SQE addr of byte off */
	/* bracket the CPU's access to b->p; NULL: no bracket needed */
	void (*cpu_begin)(const struct bk_buf *b);
	void (*cpu_end)(const struct bk_buf *b);
	/* one synchronous I/O (dt_io()) through a slot that holds a buffer for fd */
	int (*io)(struct io_uring *ring, int opcode, int fd, uint64_t addr, unsigned int len,
		  uint64_t off, int slot);
	/*
	 * Which path a batch took: mark() before it, expect() after its n
	 * I/Os through slots registered for their files; NULL: not checked.
	 */
	long (*mark)(void);
	void (*expect)(long mark, long n, const char *what);
};

struct bk_buf {
	const struct bk_kind *kind;
	unsigned char *p;	/* the CPU's view: the dma-buf's mmap or the memory */
	size_t size;
	char name[40];		/* "udmabuf", "buffer at page offset 512": for messages */
	struct dt_buf db;	/* bk_dmabuf */
	struct pt_buf pb;	/* bk_premap */
};

static inline void bk_dmabuf_make(struct bk_buf *b, size_t size, unsigned int i)
{
	if (i)
		dt_heapbuf(&b->db, size);
	else
		dt_udmabuf(&b->db, size);
	b->p = b->db.map;
	snprintf(b->name, sizeof(b->name), "%s", b->db.kind);
}

static inline void bk_dmabuf_free(struct bk_buf *b)
{
	dt_buf_free(&b->db);
}

static inline void bk_dmabuf_reg(struct io_uring *ring, unsigned int slot,
				 const struct bk_buf *b, int fd)
{
	dt_register(ring, slot, &b->db, fd);
}

static inline uint64_t bk_dmabuf_addr(const struct bk_buf *b, size_t off)
{
	(void)b;
	return off;
}

static inline void bk_dmabuf_begin(const struct bk_buf *b)
{
	dt_cpu_begin(&b->db);
}

static inline void bk_dmabuf_end(const struct bk_buf *b)
{
	dt_cpu_end(&b->db);
}

static const struct bk_kind bk_dmabuf = {
	.noun = "dma-buf",
	.start = dt_require,
	.done = dt_report,
	.make = bk_dmabuf_make,
	.free = bk_dmabuf_free,
	.reg = bk_dmabuf_reg,
	.addr = bk_dmabuf_addr,
	.cpu_begin = bk_dmabuf_begin,
	.cpu_end = bk_dmabuf_end,
	.io = dt_io,
};

static inline void bk_premap_make(struct bk_buf *b, size_t size, unsigned int i)
{
	pt_alloc(&b->pb, size, i * 512);
	b->p = b->pb.p;
	snprintf(b->name, sizeof(b->name), "buffer at page offset %zu",
		 (size_t)((uintptr_t)b->p % PT_PAGE));
}

static inline void bk_premap_free(struct bk_buf *b)
{
	pt_free(&b->pb);
}

static inline void bk_premap_reg(struct io_uring *ring, unsigned int slot,
				 const struct bk_buf *b, int fd)
{
	pt_register(ring, slot, b->p, b->size, fd);
}

static inline uint64_t bk_premap_addr(const struct bk_buf *b, size_t off)
{
	return pt_addr(&b->pb, off);
}

/* The slot holds the buffer premapped for fd: the I/O must have used the mapping. */
static inline int bk_premap_io(struct io_uring *ring, int opcode, int fd, uint64_t addr,
			       unsigned int len, uint64_t off, int slot)
{
	return pt_io(ring, opcode, fd, addr, len, off, slot, 1);
}

static const struct bk_kind bk_premap = {
	.noun = "buffer",
	.start = pt_require,
	.done = pt_done,
	.make = bk_premap_make,
	.free = bk_premap_free,
	.reg = bk_premap_reg,
	.addr = bk_premap_addr,
	.io = bk_premap_io,
	.mark = pt_bios,
	.expect = pt_expect_bios,
};

static inline void bk_make(struct bk_buf *b, const struct bk_kind *kind, size_t size,
			   unsigned int i)
{
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->size = size;
	kind->make(b, size, i);
}

static inline void bk_free(struct bk_buf *b)
{
	b->kind->free(b);
}

static inline void bk_register(struct io_uring *ring, unsigned int slot,
			       const struct bk_buf *b, int fd)
{
	b->kind->reg(ring, slot, b, fd);
}

static inline uint64_t bk_addr(const struct bk_buf *b, size_t off)
{
	return b->kind->addr(b, off);
}

/* One synchronous I/O between byte off of b, in slot, and offset dev_off of fd. */
static inline int bk_io(struct io_uring *ring, int opcode, int fd, const struct bk_buf *b,
			size_t off, unsigned int len, uint64_t dev_off, int slot)
{
	return b->kind->io(ring, opcode, fd, bk_addr(b, off), len, dev_off, slot);
}

static inline void bk_cpu_begin(const struct bk_buf *b)
{
	if (b->kind->cpu_begin)
		b->kind->cpu_begin(b);
}

static inline void bk_cpu_end(const struct bk_buf *b)
{
	if (b->kind->cpu_end)
		b->kind->cpu_end(b);
}

/* Fill [off, off + len) of b with the pattern of pos. */
static inline void bk_fill(const struct bk_buf *b, size_t off, size_t len, uint64_t pos,
			   uint32_t seed)
{
	bk_cpu_begin(b);
	t_fill(b->p + off, len, pos, seed);
	bk_cpu_end(b);
}

/* Overwrite [off, off + len) of b with a byte no pattern uses much. */
static inline void bk_poison(const struct bk_buf *b, size_t off, size_t len)
{
	bk_cpu_begin(b);
	memset(b->p + off, 0xa5, len);
	bk_cpu_end(b);
}

/* Check [off, off + len) of b against the pattern of pos (t_verify()). */
static inline int bk_verify(const struct bk_buf *b, size_t off, size_t len, uint64_t pos,
			    uint32_t seed, const char *what)
{
	int ret;

	bk_cpu_begin(b);
	ret = t_verify(b->p + off, len, pos, seed, what);
	bk_cpu_end(b);
	return ret;
}

/* A mark to pass to bk_expect() after a batch of I/Os through slots of this kind. */
static inline long bk_mark(const struct bk_kind *kind)
{
	return kind->mark ? kind->mark() : 0;
}

static inline void bk_expect(const struct bk_kind *kind, long mark, long n, const char *what)
{
	if (kind->expect)
		kind->expect(mark, n, what);
}

#endif /* DMABUF_RW_BK_H */
