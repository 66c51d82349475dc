/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * User ABI for dma-buf backed io_uring registered buffers, as proposed
 * upstream.  Self-contained: it needs only <linux/types.h>, not liburing,
 * and compiles as C and as C++.
 *
 * When io_uring headers that already carry the extension (they define
 * IORING_RSRC_UPDATE_EXTENDED) were included first, theirs win and
 * nothing here is redefined.  Include this header after <liburing.h> or
 * <linux/io_uring.h> if you use them.
 */
#ifndef DMABUF_RW_UAPI_H
#define DMABUF_RW_UAPI_H

#include <linux/types.h>

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

#ifndef IO_REGBUF_F_TARGET
/*
 * io_uring_regbuf_desc::flags, UADDR only: also map the memory once for I/O
 * to target_fd.  READ_FIXED / WRITE_FIXED on target_fd use that mapping
 * where the platform allows one; every other use maps per I/O as before.
 */
#define IO_REGBUF_F_TARGET		(1U << 0)
#endif

#ifdef __cplusplus
static_assert(sizeof(struct io_uring_regbuf_desc) == 80,
	      "struct io_uring_regbuf_desc must be 80 bytes");
#else
_Static_assert(sizeof(struct io_uring_regbuf_desc) == 80,
	       "struct io_uring_regbuf_desc must be 80 bytes");
#endif

#endif /* DMABUF_RW_UAPI_H */
