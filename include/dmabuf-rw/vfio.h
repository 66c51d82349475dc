/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * VFIO's dma-buf export of PCI BARs (VFIO_DEVICE_FEATURE_DMA_BUF, Linux
 * 6.19): how device memory (a GPU's BAR, or the ivshmem BAR of the test
 * bed) becomes a dma-buf.  Build hosts with older headers lack it; when
 * <linux/vfio.h> has it, that wins and nothing here is redefined.
 */
#ifndef DMABUF_RW_VFIO_H
#define DMABUF_RW_VFIO_H

#include <linux/types.h>
#include <linux/vfio.h>

#ifndef VFIO_DEVICE_FEATURE_DMA_BUF
#define VFIO_DEVICE_FEATURE_DMA_BUF 11

/* A byte range of the region, in the dma-buf's order. */
struct vfio_region_dma_range {
	__u64 offset;
	__u64 length;
};

struct vfio_device_feature_dma_buf {
	__u32 region_index;
	__u32 open_flags;	/* of the dma-buf file: O_RDWR | O_CLOEXEC */
	__u32 flags;		/* must be 0 */
	__u32 nr_ranges;
	struct vfio_region_dma_range dma_ranges[];
};
#endif

#endif /* DMABUF_RW_VFIO_H */
