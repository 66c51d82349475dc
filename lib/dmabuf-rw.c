// SPDX-License-Identifier: MIT
/* dma-buf backed io_uring registered buffers; see dmabuf-rw.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>		/* memfd_create */
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "dmabuf-rw.h"

/*
 * struct io_uring_rsrc_update2 as the kernel reads it: older headers call
 * the flags word 'resv', so spell the layout out instead of naming fields.
 */
struct dmabuf_rw_rsrc_update2 {
	__u32		offset;
	__u32		flags;
	__aligned_u64	data;
	__aligned_u64	tags;
	__u32		nr;
	__u32		resv2;
};
_Static_assert(sizeof(struct dmabuf_rw_rsrc_update2) ==
	       sizeof(struct io_uring_rsrc_update2), "rsrc_update2 layout");

#ifndef IORING_REGISTER_USE_REGISTERED_RING
#define IORING_REGISTER_USE_REGISTERED_RING	(1U << 31)	/* Linux 6.3 */
#endif
/* liburing's struct io_uring::int_flags: the ring fd is registered */
#define DMABUF_RW_INT_FLAG_REG_RING		(1U << 0)

/*
 * io_uring_register() on ring: through its registered ring fd when the
 * application closed the real one (io_uring_close_ring_fd(), liburing 2.4),
 * as liburing's own registration calls do.  -errno on failure.
 */
static int dmabuf_rw_register(struct io_uring *ring, unsigned int opcode,
			      const void *arg, unsigned int nr)
{
	if (ring->ring_fd < 0 && (ring->int_flags & DMABUF_RW_INT_FLAG_REG_RING))
		return io_uring_register(ring->enter_ring_fd,
					 opcode | IORING_REGISTER_USE_REGISTERED_RING,
					 arg, nr);
	return io_uring_register(ring->ring_fd, opcode, arg, nr);
}

int dmabuf_rw_update_buffers(struct io_uring *ring, unsigned int off,
			     const struct io_uring_regbuf_desc *descs,
			     const __u64 *tags, unsigned int nr)
{
	struct dmabuf_rw_rsrc_update2 up = {
		.offset	= off,
		.flags	= IORING_RSRC_UPDATE_EXTENDED,
		.data	= (uintptr_t)descs,
		.tags	= (uintptr_t)tags,
		.nr	= nr,
	};

	return dmabuf_rw_register(ring, IORING_REGISTER_BUFFERS_UPDATE, &up, sizeof(up));
}

/*
 * One descriptor: 0 or -errno.  Mapping a dma-buf takes its reservation
 * lock interruptibly, so a signal (fio's timers, a profiler) can fail the
 * call with -EINTR; the slot is then as it was, and trying again is safe.
 */
static int dmabuf_rw_update_one(struct io_uring *ring, unsigned int slot,
				const struct io_uring_regbuf_desc *desc)
{
	int ret;

	do
		ret = dmabuf_rw_update_buffers(ring, slot, desc, NULL, 1);
	while (ret == -EINTR);

	if (ret == 1)
		return 0;
	return ret < 0 ? ret : -EIO;
}

int dmabuf_rw_register_dmabuf(struct io_uring *ring, unsigned int slot,
			      int dmabuf_fd, int target_fd)
{
	struct io_uring_regbuf_desc desc = {
		.type		= IO_REGBUF_TYPE_DMABUF,
		.dmabuf_fd	= dmabuf_fd,
		.target_fd	= target_fd,
	};

	return dmabuf_rw_update_one(ring, slot, &desc);
}

int dmabuf_rw_register_uaddr(struct io_uring *ring, unsigned int slot,
			     void *addr, size_t len)
{
	struct io_uring_regbuf_desc desc = {
		.type	= IO_REGBUF_TYPE_UADDR,
		.uaddr	= (uintptr_t)addr,
		.size	= len,
	};

	return dmabuf_rw_update_one(ring, slot, &desc);
}

int dmabuf_rw_register_premapped(struct io_uring *ring, unsigned int slot,
				 void *addr, size_t len, int target_fd)
{
	struct io_uring_regbuf_desc desc = {
		.type		= IO_REGBUF_TYPE_UADDR,
		.flags		= IO_REGBUF_F_TARGET,
		.uaddr		= (uintptr_t)addr,
		.size		= len,
		.target_fd	= target_fd,
	};

	return dmabuf_rw_update_one(ring, slot, &desc);
}

/*
 * The ring's fdinfo lists every buffer slot, one line each:
 *	"%5u: 0x<addr>/<len>[ premapped]" or "%5u: <none>"
 * after a "UserBufs:" line.
 */
int dmabuf_rw_buffer_premapped(struct io_uring *ring, unsigned int slot)
{
	char path[64], line[256];
	int ret = -ENOENT, in_bufs = 0;
	FILE *f;

	if (ring->ring_fd < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ring->ring_fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned int n;
		char *rest;

		if (!strncmp(line, "UserBufs:", 9)) {
			in_bufs = 1;
			continue;
		}
		if (!in_bufs)
			continue;
		if (sscanf(line, " %u:", &n) != 1)
			break;		/* past the buffer table */
		if (n != slot)
			continue;
		rest = strchr(line, ':') + 1;
		if (strstr(rest, "<none>"))
			ret = -ENOENT;
		else
			ret = strstr(rest, " premapped") != NULL;
		break;
	}
	fclose(f);
	return ret;
}

int dmabuf_rw_clear_buffer(struct io_uring *ring, unsigned int slot)
{
	struct io_uring_regbuf_desc desc = { .type = IO_REGBUF_TYPE_EMPTY };

	return dmabuf_rw_update_one(ring, slot, &desc);
}

/*
 * A kernel without the extension rejects the non-zero flags word with
 * -EINVAL.  One that knows the flag but not dma-bufs would reject the
 * DMABUF type with -EINVAL too; with the extension, dmabuf_fd -1 is -EBADF.
 */
int dmabuf_rw_probe(void)
{
	struct io_uring_regbuf_desc desc = { .type = IO_REGBUF_TYPE_EMPTY };
	struct io_uring ring;
	int ret;

	ret = io_uring_queue_init(1, &ring, 0);
	if (ret)
		return ret;
	ret = io_uring_register_buffers_sparse(&ring, 1);
	if (ret)
		goto out;
	ret = dmabuf_rw_update_buffers(&ring, 0, &desc, NULL, 1);
	if (ret == -EINVAL) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (ret != 1) {
		ret = ret < 0 ? ret : -EIO;
		goto out;
	}
	desc.type = IO_REGBUF_TYPE_DMABUF;
	desc.dmabuf_fd = -1;
	desc.target_fd = -1;
	ret = dmabuf_rw_update_buffers(&ring, 0, &desc, NULL, 1);
	if (ret == -EBADF)
		ret = 0;
	else if (ret == -EINVAL)
		ret = -EOPNOTSUPP;
	else
		ret = ret < 0 ? ret : -EIO;
out:
	io_uring_queue_exit(&ring);
	return ret;
}

int dmabuf_rw_udmabuf_create(size_t size, int *memfd)
{
	struct udmabuf_create create = {
		.flags	= UDMABUF_FLAGS_CLOEXEC,
		.size	= size,
	};
	int dev, mfd, ret;

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	mfd = memfd_create("dmabuf-rw", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (mfd < 0) {
		ret = -errno;
		goto out_dev;
	}
	/* udmabuf refuses memfds that could shrink under it */
	if (ftruncate(mfd, size) || fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		ret = -errno;
		goto out_memfd;
	}
	create.memfd = mfd;
	ret = ioctl(dev, UDMABUF_CREATE, &create);
	if (ret < 0) {
		ret = -errno;
		goto out_memfd;
	}
	if (memfd) {
		*memfd = mfd;
		goto out_dev;
	}
out_memfd:
	close(mfd);
out_dev:
	close(dev);
	return ret;
}

int dmabuf_rw_heap_alloc(const char *heap, size_t size)
{
	struct dma_heap_allocation_data data = {
		.len		= size,
		.fd_flags	= O_RDWR | O_CLOEXEC,
	};
	char path[128];
	int dev, ret;

	/* a name, not a path: nothing outside /dev/dma_heap */
	if (!*heap || strchr(heap, '/') || !strcmp(heap, ".") || !strcmp(heap, ".."))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "/dev/dma_heap/%s", heap) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	dev = open(path, O_RDONLY | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	ret = ioctl(dev, DMA_HEAP_IOCTL_ALLOC, &data) ? -errno : (int)data.fd;
	close(dev);
	return ret;
}
