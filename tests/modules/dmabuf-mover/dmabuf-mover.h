/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dmabuf-mover: a test exporter whose buffers move on demand.
 *
 * /dev/dmabuf_mover creates dma-bufs backed by ordinary pages that support
 * dynamic importers.  MOVE invalidates every importer's mapping, waits for
 * the importers' fences as the dma-buf rules require, copies the contents to
 * new pages and poisons the old ones.  The old pages are kept until the last
 * importer mapping of them is unmapped, then checked: any byte that is no
 * longer poison was written by DMA after the move (counted in STATS).
 */
#ifndef DMABUF_MOVER_H
#define DMABUF_MOVER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define DMABUF_MOVER_POISON	0x6b

struct dmabuf_mover_create {
	__u64	size;		/* in: bytes, multiple of the page size */
	__s32	fd;		/* out: dma-buf fd (O_RDWR | O_CLOEXEC) */
	__u32	flags;		/* in: DMABUF_MOVER_F_* */
};

/*
 * A buffer of DMABUF_MOVER_WRAP_SIZE bytes whose mapping has two DMA ranges:
 * the first one DMABUF_MOVER_WRAP_RANGE bytes long (4 GiB - 4 KiB, the
 * longest an sg entry can be), the second one the rest.  Only the last
 * DMABUF_MOVER_WRAP_WINDOW bytes of the first range and the second range
 * are backed by memory (and can be mmapped); the DMA address of the first
 * range is chosen so that its backed end is real.  It exercises importers'
 * arithmetic on offsets near 4 GiB without 4 GiB of memory: I/O must stay
 * within the backed part.  Such a buffer cannot move.
 */
#define DMABUF_MOVER_F_WRAP		(1U << 0)
#define DMABUF_MOVER_WRAP_RANGE		0xfffff000ULL
#define DMABUF_MOVER_WRAP_WINDOW	(1ULL << 20)
#define DMABUF_MOVER_WRAP_SIZE		(DMABUF_MOVER_WRAP_RANGE + \
					 DMABUF_MOVER_WRAP_WINDOW)

struct dmabuf_mover_move {
	__s32	fd;		/* in: dma-buf from CREATE */
	__u32	timeout_ms;	/* in: how long to wait for importers' fences */
};

/*
 * Statistics of one buffer, or with fd = -1 of the whole module: then only
 * buffers, mapped and attachments are set, summed over all live buffers.
 */
struct dmabuf_mover_stats {
	__s32	fd;		/* in */
	__u32	pad;
	__u64	moves;		/* moves done */
	__u64	retired;	/* old page sets freed after their last unmap */
	__u64	pending;	/* old page sets still mapped by an importer */
	__u64	stale_bytes;	/* bytes of old pages written after their move */
	__u64	maps;		/* map_dma_buf calls */
	__u64	mapped;		/* sg tables mapped now */
	__u64	attachments;	/* importers attached now */
	__u64	buffers;	/* live buffers (fd = -1 only) */
};

#define DMABUF_MOVER_CREATE	_IOWR('M', 1, struct dmabuf_mover_create)
#define DMABUF_MOVER_MOVE	_IOW('M', 2, struct dmabuf_mover_move)
#define DMABUF_MOVER_STATS	_IOWR('M', 3, struct dmabuf_mover_stats)
/*
 * MOVE done by a work item the way a GPU driver's eviction or restore worker
 * does it: the worker holds the reservation lock while it waits for the
 * importers' fences.  The ioctl returns when the worker is done.
 */
#define DMABUF_MOVER_MOVE_WORKER _IOW('M', 4, struct dmabuf_mover_move)

#endif /* DMABUF_MOVER_H */
