// SPDX-License-Identifier: MIT
/*
 * dma-bufs from a DRM device: a GEM "dumb" buffer exported with PRIME, as
 * every KMS driver and vgem offer.  The DRM uapi structures are spelled
 * out here (they are stable ABI) so that building needs no libdrm.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/types.h>

#include "dmabuf-rw.h"

struct dmabuf_rw_drm_create_dumb {	/* struct drm_mode_create_dumb */
	__u32 height;
	__u32 width;
	__u32 bpp;
	__u32 flags;
	__u32 handle;
	__u32 pitch;
	__u64 size;
};

struct dmabuf_rw_drm_prime_handle {	/* struct drm_prime_handle */
	__u32 handle;
	__u32 flags;
	__s32 fd;
};

struct dmabuf_rw_drm_destroy_dumb {	/* struct drm_mode_destroy_dumb */
	__u32 handle;
};

#define DMABUF_RW_DRM_PRIME_HANDLE_TO_FD \
	_IOWR('d', 0x2d, struct dmabuf_rw_drm_prime_handle)
#define DMABUF_RW_DRM_MODE_CREATE_DUMB \
	_IOWR('d', 0xb2, struct dmabuf_rw_drm_create_dumb)
#define DMABUF_RW_DRM_MODE_DESTROY_DUMB \
	_IOWR('d', 0xb4, struct dmabuf_rw_drm_destroy_dumb)

static int dmabuf_rw_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

int dmabuf_rw_drm_alloc(const char *card, size_t size)
{
	/* rows of 4096 bytes: 1024 pixels of 32 bits */
	struct dmabuf_rw_drm_create_dumb create = {
		.width	= 1024,
		.bpp	= 32,
	};
	struct dmabuf_rw_drm_prime_handle prime = {
		.flags	= O_CLOEXEC | O_RDWR,
		.fd	= -1,
	};
	struct dmabuf_rw_drm_destroy_dumb destroy;
	int dev, ret;

	if (!size || size / 4096 > UINT32_MAX - 1)
		return -EINVAL;
	create.height = (size + 4095) / 4096;
	dev = open(card, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	ret = dmabuf_rw_ioctl(dev, DMABUF_RW_DRM_MODE_CREATE_DUMB, &create);
	if (ret)
		goto out;
	prime.handle = create.handle;
	ret = dmabuf_rw_ioctl(dev, DMABUF_RW_DRM_PRIME_HANDLE_TO_FD, &prime);
	/* the dma-buf holds its own reference to the buffer */
	destroy.handle = create.handle;
	dmabuf_rw_ioctl(dev, DMABUF_RW_DRM_MODE_DESTROY_DUMB, &destroy);
	if (!ret)
		ret = prime.fd;
out:
	close(dev);
	return ret;
}
