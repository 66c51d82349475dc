// SPDX-License-Identifier: MIT
/*
 * dmabuf-io: dma-bufs from udmabuf or a dma-heap (others: exporters.c,
 * vfio.c), their CPU view and their registration.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>

#include "dmabuf-io.h"
#include "dmabuf-rw.h"

#define DIO_PAGE	4096UL

/* The heap name of "heap" or "heap:NAME"; NULL for udmabuf. */
static const char *dio_heap_name(const char *spec)
{
	if (!strcmp(spec, "heap"))
		return "system";
	if (!strncmp(spec, "heap:", 5))
		return spec + 5;
	return NULL;
}

int dio_dmabuf_check_spec(const char *spec)
{
	const char *heap = dio_heap_name(spec);

	char *end;

	if (!strcmp(spec, "udmabuf") || !dio_vfio_check_spec(spec))
		return 0;
	if (!strncmp(spec, "fd:", 3))
		return spec[3] >= '0' && spec[3] <= '9' && strtol(spec + 3, &end, 10) >= 0 &&
		       !*end ? 0 : -1;
	if (!strncmp(spec, "drm:", 4))
		return spec[4] ? 0 : -1;
	return heap && *heap && !strchr(heap, '/') ? 0 : -1;
}

static void dio_udmabuf_limit_hint(size_t size)
{
	unsigned long mb = 0;
	FILE *f = fopen("/sys/module/udmabuf/parameters/size_limit_mb", "r");

	if (!f)
		return;
	if (fscanf(f, "%lu", &mb) == 1 && size > (mb << 20))
		fprintf(stderr, "dmabuf-io: udmabuf allows at most %lu MiB per buffer "
			"(udmabuf.size_limit_mb); use a smaller --bs/--qd or --dmabuf heap\n", mb);
	fclose(f);
}

int dio_dmabuf_create(struct dio_dmabuf *b, const char *spec, size_t size)
{
	const char *heap = dio_heap_name(spec);
	char path[96];
	int fd;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->size = (size + DIO_PAGE - 1) & ~(DIO_PAGE - 1);
	if (!strncmp(spec, "vfio:", 5))
		return dio_vfio_create(b, spec, b->size);
	if (!strncmp(spec, "fd:", 3))
		return dio_fd_create(b, spec, b->size);
	if (!strncmp(spec, "drm:", 4))
		return dio_drm_create(b, spec, b->size);
	if (!heap) {
		if (access("/dev/udmabuf", R_OK | W_OK)) {
			dio_err("/dev/udmabuf: %s (kernel without CONFIG_UDMABUF? try --dmabuf heap)",
				strerror(errno));
			return -1;
		}
		fd = dmabuf_rw_udmabuf_create(b->size, NULL);
		if (fd < 0) {
			dio_err("creating a %zu-byte udmabuf: %s", b->size, strerror(-fd));
			if (fd == -EINVAL)
				dio_udmabuf_limit_hint(b->size);
			return -1;
		}
		snprintf(b->desc, sizeof(b->desc), "udmabuf");
	} else {
		snprintf(path, sizeof(path), "/dev/dma_heap/%s", heap);
		if (access(path, R_OK)) {
			dio_err("%s: %s (no such dma-heap%s)", path, strerror(errno),
				strcmp(heap, "system") ? "" : "; kernel without CONFIG_DMABUF_HEAPS_SYSTEM?");
			return -1;
		}
		fd = dmabuf_rw_heap_alloc(heap, b->size);
		if (fd < 0) {
			dio_err("allocating %zu bytes from %s: %s", b->size, path, strerror(-fd));
			return -1;
		}
		snprintf(b->desc, sizeof(b->desc), "dma-heap %s", heap);
	}
	b->fd = fd;
	return 0;
}

int dio_dmabuf_map(struct dio_dmabuf *b, bool required)
{
	void *p;

	if (b->device && !b->no_map) {
		dio_vfio_map(b);
		return 0;
	}
	if (b->no_map) {
		if (required)
			dio_err("the %s dma-buf is not mapped for the CPU (--no-cpu-map)", b->desc);
		return -1;
	}
	p = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, b->base);
	if (p == MAP_FAILED) {
		if (required)
			dio_err("the %s dma-buf cannot be mapped for the CPU (mmap: %s): "
				"device memory often cannot", b->desc, strerror(errno));
		return -1;
	}
	b->map = p;
	return 0;
}

int dio_dmabuf_sync(const struct dio_dmabuf *b, unsigned long long flags)
{
	struct dma_buf_sync sync = { .flags = flags };
	int ret;

	/*
	 * The CPU view of device memory is VFIO's mapping of the BAR, not the
	 * dma-buf's, and it is uncached: nothing for the dma-buf to sync.
	 */
	if (b->device)
		return 0;
	do {
		ret = ioctl(b->fd, DMA_BUF_IOCTL_SYNC, &sync);
	} while (ret && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

void dio_dmabuf_destroy(struct dio_dmabuf *b)
{
	if (b->device) {
		dio_vfio_release(b);
		return;
	}
	if (b->map)
		munmap(b->map, b->size);
	if (b->fd >= 0)
		close(b->fd);
	b->map = NULL;
	b->fd = -1;
}

int dio_dmabuf_register(struct io_uring *ring, unsigned int slot,
			const struct dio_dmabuf *b, const struct dio_target *t)
{
	int ret = dmabuf_rw_register_dmabuf(ring, slot, b->fd, t->fd);

	if (ret)
		dio_dmabuf_register_err(ret, b, t);
	return ret;
}

bool dio_file_refused(int err, const struct dio_target *t)
{
	return !t->blockdev && (err == -EOPNOTSUPP || err == -ENOTTY ||
				(err == -EINVAL && !t->direct));
}

void dio_dmabuf_register_err(int ret, const struct dio_dmabuf *b, const struct dio_target *t)
{
	char why[512];
	int probe;

	probe = dmabuf_rw_probe();
	if (probe == -EOPNOTSUPP) {
		dio_err("this kernel does not support dma-buf registered buffers "
			"(IORING_RSRC_UPDATE_EXTENDED with IO_REGBUF_TYPE_DMABUF)");
	} else if (probe) {
		dio_err("io_uring is not usable here: %s", strerror(-probe));
	} else if (dio_file_refused(ret, t)) {
		dio_file_unsupported_why(t, why, sizeof(why));
		dio_err("%s cannot take dma-buf I/O: %s (%s)", t->path, why, strerror(-ret));
	} else if (ret == -EOPNOTSUPP || ret == -ENOTTY) {
		dio_blk_unsupported_why("", t->rdev, why, sizeof(why));
		dio_err("%s: %s (%s)", t->path, why, strerror(-ret));
	} else if (ret == -EXDEV) {
		/*
		 * The kernel's own answer for device memory it cannot route to
		 * the drive (PCI P2PDMA found no path); strerror() would say
		 * "cross-device link", which means nothing here.
		 */
		dio_err("registering the %s dma-buf for %s: the kernel has no peer-to-peer "
			"route between the dma-buf's device and the drive (EXDEV). A drive "
			"reaches device memory only below the same PCIe switch, or through a "
			"host bridge the kernel trusts (recent AMD and Intel root complexes), "
			"and only if ACS does not redirect their traffic: put both devices "
			"below one switch, or use host memory (--dmabuf udmabuf or heap)",
			b->desc, t->path);
	} else {
		dio_err("registering the %s dma-buf for %s: %s", b->desc, t->path,
			strerror(-ret));
	}
}
