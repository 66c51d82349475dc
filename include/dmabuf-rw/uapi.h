/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * User ABI for dma-buf backed io_uring registered buffers, as proposed
 * upstream.  It builds on the io_uring definitions liburing carries; when
 * those already have the extension (they define IORING_RSRC_UPDATE_EXTENDED)
 * they win and nothing here is redefined.
 */
#ifndef DMABUF_RW_UAPI_H
#define DMABUF_RW_UAPI_H

#include <linux/types.h>
#include <liburing.h>

#ifndef IORING_RSRC_UPDATE_EXTENDED

/* In io_uring_rsrc_update2::flags (the former 'resv' field). */
#define IORING_RSRC_UPDATE_EXTENDED	(1U << 1)

enum io_uring_regbuf_type {
	IO_REGBUF_TYPE_EMPTY	= 0,	/* clear the slot; uaddr, size must be 0 */
	IO_REGBUF_TYPE_UADDR	= 1,	/* ordinary user memory (uaddr, size) */
	IO_REGBUF_TYPE_DMABUF	= 2,	/* dma-buf bound to target_fd */
};

struct io_uring_regbuf_desc {
	__u32	type;
	__u32	flags;
	__u64	size;
	__u64	uaddr;
	__s32	dmabuf_fd;
	__s32	target_fd;
	__u64	__resv[6];
};

#endif /* IORING_RSRC_UPDATE_EXTENDED */

/*
 * struct io_uring_rsrc_update2 keeps its layout; the kernel reads the
 * former 'resv' word as 'flags'.  Old headers call it resv.
 */
_Static_assert(sizeof(struct io_uring_regbuf_desc) == 80,
	       "struct io_uring_regbuf_desc must be 80 bytes");
_Static_assert(sizeof(struct io_uring_rsrc_update2) == 32,
	       "struct io_uring_rsrc_update2 must be 32 bytes");

#endif /* DMABUF_RW_UAPI_H */
