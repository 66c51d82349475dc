/* SPDX-License-Identifier: MIT */
/*
 * The two kinds of buffer the fs/ tests move file data with, behind one
 * interface: a udmabuf dma-buf (IO_REGBUF_TYPE_DMABUF; the SQE addr is the
 * offset into it) and user memory mapped once for the file
 * (dmabuf_rw_register_premapped(); the SQE addr is a pointer).  On the file
 * they are registered for, both take the file system's dma-buf path: iomap
 * direct I/O building bios from the long-lived mapping, which the test
 * module dmabuf-bios counts (tests/premap/premap-test.h); ft_expect_path()
 * checks that the I/Os really went that way.
 *
 * Every test starts with ft_start(): the feature, the bio counter, the
 * file system drives (fs-test.h).
 */
#ifndef DMABUF_RW_FT_BUF_H
#define DMABUF_RW_FT_BUF_H

#include "../premap/premap-test.h"
#include "fs-test.h"

enum ft_kind { FT_UDMABUF, FT_PREMAP, FT_NKINDS };

struct ft_buf {
	enum ft_kind kind;
	const char *name;
	size_t size;
	unsigned char *p;	/* the CPU's view */
	struct dt_buf db;	/* FT_UDMABUF */
	struct pt_buf pb;	/* FT_PREMAP */
};

/* Returns the number of file systems in the bed. */
static inline int ft_start(void)
{
	dt_require();
	pt_want = !pt_swiotlb_bed();
	pt_arm();
	return ft_bed();
}

static inline void ft_buf_alloc(struct ft_buf *b, enum ft_kind kind, size_t size)
{
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->size = size;
	if (kind == FT_UDMABUF) {
		dt_udmabuf(&b->db, size);
		b->p = b->db.map;
		b->name = "udmabuf";
	} else {
		pt_alloc(&b->pb, size, 0);
		b->p = b->pb.p;
		b->name = "premapped";
	}
}

static inline void ft_buf_free(struct ft_buf *b)
{
	if (b->kind == FT_UDMABUF)
		dt_buf_free(&b->db);
	else
		pt_free(&b->pb);
}

/* The SQE addr of byte off of b. */
static inline uint64_t ft_addr(const struct ft_buf *b, size_t off)
{
	return b->kind == FT_UDMABUF ? off : (uintptr_t)(b->p + off);
}

/* CPU access to a dma-buf is bracketed (DMA_BUF_IOCTL_SYNC). */
static inline void ft_begin(const struct ft_buf *b)
{
	if (b->kind == FT_UDMABUF)
		dt_cpu_begin(&b->db);
}

static inline void ft_end(const struct ft_buf *b)
{
	if (b->kind == FT_UDMABUF)
		dt_cpu_end(&b->db);
}

static inline void ft_fill(const struct ft_buf *b, size_t off, size_t len, uint64_t pos,
			   uint32_t seed)
{
	ft_begin(b);
	t_fill(b->p + off, len, pos, seed);
	ft_end(b);
}

static inline int ft_verify(const struct ft_buf *b, size_t off, size_t len, uint64_t pos,
			    uint32_t seed, const char *what)
{
	int ret;

	ft_begin(b);
	ret = t_verify(b->p + off, len, pos, seed, what);
	ft_end(b);
	return ret;
}

/* [off, off + len) of b must equal want. */
static inline int ft_cmp(const struct ft_buf *b, size_t off, const void *want, size_t len,
			 const char *what)
{
	size_t i = 0;
	int ret = 0;

	ft_begin(b);
	if (memcmp(b->p + off, want, len)) {
		while (b->p[off + i] == ((const unsigned char *)want)[i])
			i++;
		printf("%s: buffer differs at +%zu: 0x%02x, want 0x%02x\n", what, off + i,
		       b->p[off + i], ((const unsigned char *)want)[i]);
		ret = -1;
	}
	ft_end(b);
	return ret;
}

static inline void ft_poison(const struct ft_buf *b, size_t off, size_t len)
{
	ft_begin(b);
	memset(b->p + off, 0xa5, len);
	ft_end(b);
}

/* 0 when [off, off + len) of b still holds the poison. */
static inline int ft_check_poison(const struct ft_buf *b, size_t off, size_t len,
				  const char *what)
{
	int ret;

	ft_begin(b);
	ret = dt_check_poison(b->p + off, len, what);
	ft_end(b);
	return ret;
}

/* Register b in slot for fd; returns 0 or -errno. */
static inline int ft_try_register(struct io_uring *ring, unsigned int slot,
				  const struct ft_buf *b, int fd)
{
	if (b->kind == FT_UDMABUF)
		return dmabuf_rw_register_dmabuf(ring, slot, b->db.fd, fd);
	return dmabuf_rw_register_premapped(ring, slot, b->p, b->size, fd);
}

/* Register b in slot for fd; it must work (premapped: as the bed says). */
static inline void ft_register(struct io_uring *ring, unsigned int slot,
			       const struct ft_buf *b, int fd)
{
	int ret = ft_try_register(ring, slot, b, fd);

	if (ret)
		t_fail("registering %s (%zu bytes) in slot %u for a file: %s", b->name,
		       b->size, slot, strerror(-ret));
	if (b->kind == FT_PREMAP)
		pt_expect_premapped(ring, slot, pt_want, "premapped registration for a file");
}

static inline void ft_clear(struct io_uring *ring, unsigned int slot)
{
	dt_expect(dmabuf_rw_clear_buffer(ring, slot), 0, "clearing slot %u", slot);
}

/* Prepare READ_FIXED/WRITE_FIXED of len bytes between b+boff and file offset off. */
static inline struct io_uring_sqe *ft_prep(struct io_uring *ring, int write, int fd,
					   const struct ft_buf *b, unsigned int slot,
					   size_t boff, unsigned int len, uint64_t off,
					   uint64_t data)
{
	return dt_prep(ring, write ? IORING_OP_WRITE_FIXED : IORING_OP_READ_FIXED, fd,
		       ft_addr(b, boff), len, off, slot, data);
}

/*
 * One synchronous READ_FIXED/WRITE_FIXED with RWF_* flags rwf; returns
 * cqe->res.  A dma-buf's -EAGAIN (documented after an invalidation) is
 * reissued and counted; a premapped buffer never moves, so its -EAGAIN is
 * returned for the caller to fail on.
 */
static inline int ft_io_flags(struct io_uring *ring, int write, int fd, const struct ft_buf *b,
			      unsigned int slot, size_t boff, unsigned int len, uint64_t off,
			      int rwf)
{
	int op = write ? IORING_OP_WRITE_FIXED : IORING_OP_READ_FIXED, ret;

	while ((ret = dt_io_once(ring, op, fd, ft_addr(b, boff), len, off, slot, rwf)) == -EAGAIN &&
	       b->kind == FT_UDMABUF)
		dt_eagain++;
	return ret;
}

static inline int ft_io(struct io_uring *ring, int write, int fd, const struct ft_buf *b,
			unsigned int slot, size_t boff, unsigned int len, uint64_t off)
{
	return ft_io_flags(ring, write, fd, b, slot, boff, len, off, 0);
}

/*
 * Since before (a pt_bios() reading), n I/Os moved data through b's slot on
 * its file: each built at least one bio from the long-lived mapping (one per
 * extent); none in the swiotlb bed for a premapped buffer.
 */
static inline void ft_expect_path(const struct ft_buf *b, long before, long n, const char *what)
{
	long got = pt_bios() - before;

	if (b->kind == FT_PREMAP && !pt_want) {
		if (got)
			t_fail("%s: %ld dma-buf bios for premapped I/O in the swiotlb bed, want none",
			       what, got);
	} else if (got < n) {
		t_fail("%s: %ld dma-buf bios for %ld %s I/Os: not all took the dma-buf path",
		       what, got, n, b->name);
	}
}

static inline const char *ft_kind_name(enum ft_kind k)
{
	return k == FT_UDMABUF ? "udmabuf" : "premapped";
}

/* "ext4, udmabuf": where a test is, for its messages (static buffer). */
static inline const char *ft_where(const struct ft_fs *f, enum ft_kind k)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "%.7s, %s", f->type, ft_kind_name(k));
	return buf;
}

#endif /* DMABUF_RW_FT_BUF_H */
