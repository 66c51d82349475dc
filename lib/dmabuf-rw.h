/* SPDX-License-Identifier: MIT */
/*
 * dmabuf-rw: dma-buf backed io_uring registered buffers, on top of liburing.
 *
 * A dma-buf registered for one target file (an NVMe block device opened
 * O_DIRECT) becomes an ordinary registered buffer slot: IORING_OP_READ_FIXED
 * and IORING_OP_WRITE_FIXED on that file move data between the device and
 * the dma-buf through a long-lived DMA mapping.  The SQE addr of such an I/O
 * is the byte offset into the dma-buf.
 *
 * Slots are filled in a sparse table (io_uring_register_buffers_sparse())
 * with IORING_REGISTER_BUFFERS_UPDATE and IORING_RSRC_UPDATE_EXTENDED.
 *
 *	io_uring_register_buffers_sparse(&ring, 4);
 *	dmabuf_rw_register_dmabuf(&ring, 0, dmabuf_fd, nvme_fd);
 *	dmabuf_rw_prep_read(sqe, nvme_fd, 0, offset_in_dmabuf, len, dev_offset);
 *
 * Every function returns 0 (or a count) on success and -errno on failure;
 * none of them prints or exits.  See the man pages in man/.
 */
#ifndef DMABUF_RW_H
#define DMABUF_RW_H

#include <stddef.h>
#include <liburing.h>
#include <dmabuf-rw/uapi.h>

/* The library's version: DMABUF_RW_CHECK_VERSION(1, 2) is true from 1.2 on. */
#define DMABUF_RW_VERSION_MAJOR	1
#define DMABUF_RW_VERSION_MINOR	2
#define DMABUF_RW_CHECK_VERSION(major, minor) \
	(DMABUF_RW_VERSION_MAJOR > (major) || \
	 (DMABUF_RW_VERSION_MAJOR == (major) && DMABUF_RW_VERSION_MINOR >= (minor)))

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Raw update: nr descriptors into slots off .. off + nr - 1, with optional
 * tags (NULL: none).  Returns the number of slots updated, which is less
 * than nr when a later descriptor failed, or -errno when the first did.
 */
int dmabuf_rw_update_buffers(struct io_uring *ring, unsigned int off,
			     const struct io_uring_regbuf_desc *descs,
			     const __u64 *tags, unsigned int nr);

/* Register dmabuf_fd in slot for I/O to target_fd (O_DIRECT). */
int dmabuf_rw_register_dmabuf(struct io_uring *ring, unsigned int slot,
			      int dmabuf_fd, int target_fd);

/* Register user memory in slot through the same descriptor path. */
int dmabuf_rw_register_uaddr(struct io_uring *ring, unsigned int slot,
			     void *addr, size_t len);

/*
 * Register user memory in slot and ask target_fd (O_DIRECT) to map it once
 * for its device (IO_REGBUF_F_TARGET).  It stays an ordinary registered
 * buffer (io_uring_prep_read_fixed() with pointers); READ_FIXED and
 * WRITE_FIXED on target_fd use the long-lived mapping when the platform
 * allows one, see dmabuf_rw_buffer_premapped().  -EINVAL from a kernel
 * without the extension.
 */
int dmabuf_rw_register_premapped(struct io_uring *ring, unsigned int slot,
				 void *addr, size_t len, int target_fd);

/*
 * 1 if slot holds memory mapped once for its target, 0 if it is mapped per
 * I/O (no target, or the platform needs bouncing or cache maintenance),
 * -ENOENT for an empty or missing slot, -EBADF when the ring's fd was
 * closed (io_uring_close_ring_fd()), -errno if /proc cannot be read.
 */
int dmabuf_rw_buffer_premapped(struct io_uring *ring, unsigned int slot);

/*
 * READ_FIXED / WRITE_FIXED of len bytes between byte dmabuf_off of the
 * dma-buf in slot and byte dev_off of fd (the file it is registered for).
 * The SQE's addr is the offset into the dma-buf, not a pointer.
 */
static inline void dmabuf_rw_prep_read(struct io_uring_sqe *sqe, int fd,
				       unsigned int slot, __u64 dmabuf_off,
				       unsigned int len, __u64 dev_off)
{
	io_uring_prep_rw(IORING_OP_READ_FIXED, sqe, fd, NULL, len, dev_off);
	sqe->addr = dmabuf_off;		/* not a pointer: 64 bits on any ABI */
	sqe->buf_index = (__u16)slot;
}

static inline void dmabuf_rw_prep_write(struct io_uring_sqe *sqe, int fd,
					unsigned int slot, __u64 dmabuf_off,
					unsigned int len, __u64 dev_off)
{
	io_uring_prep_rw(IORING_OP_WRITE_FIXED, sqe, fd, NULL, len, dev_off);
	sqe->addr = dmabuf_off;		/* not a pointer: 64 bits on any ABI */
	sqe->buf_index = (__u16)slot;
}

/* Empty slot (IO_REGBUF_TYPE_EMPTY); the buffer is released once idle. */
int dmabuf_rw_clear_buffer(struct io_uring *ring, unsigned int slot);

/*
 * 0 when the running kernel supports dma-buf registered buffers,
 * -EOPNOTSUPP when it does not, another -errno when io_uring itself is
 * unavailable (e.g. -ENOSYS, -EPERM).
 */
int dmabuf_rw_probe(void);

/*
 * Test dma-bufs over host memory.  Both return a dma-buf fd (close-on-exec)
 * or -errno.  dmabuf_rw_udmabuf_create(): size bytes of a sealed memfd
 * wrapped by /dev/udmabuf; *memfd (if not NULL) receives the memfd, which
 * maps the same pages.  dmabuf_rw_heap_alloc(): size bytes from
 * /dev/dma_heap/<heap> ("system"); a name with '/' or that is "." or
 * ".." is refused with -EINVAL.
 */
int dmabuf_rw_udmabuf_create(size_t size, int *memfd);
int dmabuf_rw_heap_alloc(const char *heap, size_t size);

/*
 * A dma-buf of at least size bytes from the DRM device card
 * ("/dev/dri/card0"): a GEM dumb buffer exported with PRIME (O_RDWR,
 * close-on-exec).  Its size can exceed size (lseek(fd, 0, SEEK_END) says).
 * Returns the dma-buf fd or -errno.
 */
int dmabuf_rw_drm_alloc(const char *card, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* DMABUF_RW_H */
