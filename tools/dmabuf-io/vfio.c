// SPDX-License-Identifier: MIT
/*
 * dmabuf-io: device memory as a dma-buf, the GPU case.  --dmabuf vfio:BDF
 * (or vfio:BDF/BAR) exports a PCI BAR of a device bound to vfio-pci
 * through VFIO_DEVICE_FEATURE_DMA_BUF; the NVMe drive then reads into and
 * writes from that device's memory peer to peer.
 *
 * A VFIO group opens once per process, so the jobs share one device: each
 * job's dma-buf is its own slice of the BAR, handed out in order.  vfio-pci
 * dma-bufs cannot be mmapped; the CPU view (bounce) is the same slice of
 * one mmap of the BAR through the VFIO device, which is what an
 * application without dma-buf I/O copies into.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <dmabuf-rw/vfio.h>

#include "dmabuf-io.h"

#define DIO_PAGE	4096UL

static struct {
	pthread_mutex_t lock;
	unsigned int users;
	char bdf[32];
	int bar;
	int container, group, device;
	uint64_t bar_size, next;	/* next: first BAR byte not handed out */
	unsigned char *map;
} vfio = { .lock = PTHREAD_MUTEX_INITIALIZER, .container = -1, .group = -1, .device = -1 };

/* "vfio:BDF" or "vfio:BDF/BAR": the BDF (DDDD:BB:DD.F) and BAR (-1: any). */
static int vfio_parse(const char *spec, char *bdf, size_t len, int *bar)
{
	unsigned int d, b, s, f;
	const char *p = spec + 5, *slash;
	char *end;
	long n;

	if (strncmp(spec, "vfio:", 5))
		return -1;
	slash = strchr(p, '/');
	if ((size_t)(slash ? slash - p : (long)strlen(p)) != 12 ||
	    sscanf(p, "%4x:%2x:%2x.%1x", &d, &b, &s, &f) != 4)
		return -1;
	snprintf(bdf, len, "%.12s", p);
	*bar = -1;
	if (slash) {
		n = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || n < 0 || n > VFIO_PCI_BAR5_REGION_INDEX)
			return -1;
		*bar = n;
	}
	return 0;
}

int dio_vfio_check_spec(const char *spec)
{
	char bdf[32];
	int bar;

	return vfio_parse(spec, bdf, sizeof(bdf), &bar);
}

static const char *vfio_sysfs(const char *bdf, const char *what, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, what);
	n = readlink(path, buf, len - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return strrchr(buf, '/') + 1;
}

/* The container, group and device of vfio.bdf; vfio.bar picked and mapped. */
static int vfio_open(void)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_region_info reg = { .size = 0 };
	char link[PATH_MAX], path[PATH_MAX], name[32] = "";
	const char *drv, *group;
	bool noiommu;
	FILE *f;
	int i, best = -1;

	drv = vfio_sysfs(vfio.bdf, "driver", link, sizeof(link));
	if (!drv || strcmp(drv, "vfio-pci")) {
		dio_err("%s is %s%s, not to vfio-pci: echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; "
			"echo %s > /sys/bus/pci/drivers/vfio-pci/bind%s", vfio.bdf,
			drv ? "bound to " : "not bound", drv ? drv : "", vfio.bdf, vfio.bdf,
			drv ? " (after unbinding it)" : "");
		return -1;
	}
	group = vfio_sysfs(vfio.bdf, "iommu_group", link, sizeof(link));
	if (!group) {
		dio_err("%s has no IOMMU group", vfio.bdf);
		return -1;
	}
	/* without an IOMMU, vfio-pci makes no-IOMMU groups (enable_unsafe_noiommu_mode) */
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/name", group);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(name, sizeof(name), f))
			name[0] = 0;
		fclose(f);
	}
	noiommu = !strncmp(name, "vfio-noiommu", 12);
	snprintf(path, sizeof(path), "/dev/vfio/%s%s", noiommu ? "noiommu-" : "", group);

	vfio.container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (vfio.container < 0) {
		dio_err("/dev/vfio/vfio: %s", strerror(errno));
		return -1;
	}
	vfio.group = open(path, O_RDWR | O_CLOEXEC);
	if (vfio.group < 0) {
		dio_err("%s: %s%s", path, strerror(errno),
			errno == EBUSY ? " (another process has the group open)" : "");
		return -1;
	}
	if (ioctl(vfio.group, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		dio_err("%s: IOMMU group %s is not usable (%s)", vfio.bdf, group,
			errno ? strerror(errno) : "another device in it has a driver");
		return -1;
	}
	if (ioctl(vfio.group, VFIO_GROUP_SET_CONTAINER, &vfio.container) ||
	    ioctl(vfio.container, VFIO_SET_IOMMU, noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU)) {
		dio_err("%s: setting up the VFIO container: %s", vfio.bdf, strerror(errno));
		return -1;
	}
	vfio.device = ioctl(vfio.group, VFIO_GROUP_GET_DEVICE_FD, vfio.bdf);
	if (vfio.device < 0) {
		dio_err("%s: VFIO_GROUP_GET_DEVICE_FD: %s", vfio.bdf, strerror(errno));
		return -1;
	}

	/* the BAR asked for, or the largest one that can be mapped */
	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		struct vfio_region_info r = { .argsz = sizeof(r), .index = i };

		if ((vfio.bar >= 0 && vfio.bar != i) ||
		    ioctl(vfio.device, VFIO_DEVICE_GET_REGION_INFO, &r) ||
		    !(r.flags & VFIO_REGION_INFO_FLAG_MMAP) || r.size <= reg.size)
			continue;
		reg = r;
		best = i;
	}
	if (best < 0) {
		if (vfio.bar >= 0)
			dio_err("%s: BAR %d is not a memory BAR that can be mapped", vfio.bdf, vfio.bar);
		else
			dio_err("%s: no memory BAR that can be mapped", vfio.bdf);
		return -1;
	}
	vfio.bar = best;
	vfio.bar_size = reg.size;
	vfio.map = mmap(NULL, vfio.bar_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			vfio.device, reg.offset);
	if (vfio.map == MAP_FAILED) {
		vfio.map = NULL;
		dio_err("%s: mmap of BAR %d: %s", vfio.bdf, vfio.bar, strerror(errno));
		return -1;
	}
	return 0;
}

static void vfio_close(void)
{
	if (vfio.map)
		munmap(vfio.map, vfio.bar_size);
	if (vfio.device >= 0)
		close(vfio.device);
	if (vfio.group >= 0)
		close(vfio.group);
	if (vfio.container >= 0)
		close(vfio.container);
	vfio.map = NULL;
	vfio.device = vfio.group = vfio.container = -1;
	vfio.bar_size = vfio.next = 0;
}

int dio_vfio_create(struct dio_dmabuf *b, const char *spec, size_t size)
{
	size_t sz = sizeof(struct vfio_device_feature) +
		    sizeof(struct vfio_device_feature_dma_buf) + sizeof(struct vfio_region_dma_range);
	struct vfio_device_feature *feat;
	struct vfio_device_feature_dma_buf *db;
	char bdf[32];
	int bar, fd = -1;

	if (vfio_parse(spec, bdf, sizeof(bdf), &bar)) {
		dio_err("bad --dmabuf '%s': vfio:DDDD:BB:DD.F or vfio:DDDD:BB:DD.F/BAR", spec);
		return -1;
	}
	pthread_mutex_lock(&vfio.lock);
	if (!vfio.users) {
		snprintf(vfio.bdf, sizeof(vfio.bdf), "%s", bdf);
		vfio.bar = bar;
		if (vfio_open()) {
			vfio_close();
			goto out;
		}
	} else if (strcmp(vfio.bdf, bdf) || (bar >= 0 && bar != vfio.bar)) {
		dio_err("one device memory per process (%s BAR %d in use)", vfio.bdf, vfio.bar);
		goto out;
	}
	if (size > vfio.bar_size - vfio.next) {
		dio_err("BAR %d of %s has %llu bytes; the jobs need more (--qd x --bs x --jobs, "
			"%llu bytes each)", vfio.bar, vfio.bdf, (unsigned long long)vfio.bar_size,
			(unsigned long long)size);
		goto out_last;
	}
	feat = calloc(1, sz);
	if (!feat) {
		dio_err("out of memory");
		goto out_last;
	}
	db = (void *)feat->data;
	feat->argsz = sz;
	feat->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF;
	db->region_index = vfio.bar;
	db->open_flags = O_RDWR | O_CLOEXEC;
	db->nr_ranges = 1;
	db->dma_ranges[0].offset = vfio.next;
	db->dma_ranges[0].length = size;
	fd = ioctl(vfio.device, VFIO_DEVICE_FEATURE, feat);
	free(feat);
	if (fd < 0) {
		dio_err("%s: exporting BAR %d [%llu, +%zu) as a dma-buf: %s%s", vfio.bdf, vfio.bar,
			(unsigned long long)vfio.next, size, strerror(errno),
			errno == ENOTTY || errno == EOPNOTSUPP ?
			" (kernel without CONFIG_VFIO_PCI_DMABUF?)" : "");
		goto out_last;
	}
	b->fd = fd;
	b->device = true;
	b->bar_off = vfio.next;
	vfio.next += size;
	vfio.users++;
	snprintf(b->desc, sizeof(b->desc), "BAR %d of %s", vfio.bar, vfio.bdf);
	pthread_mutex_unlock(&vfio.lock);
	return 0;

out_last:
	if (!vfio.users)
		vfio_close();
out:
	pthread_mutex_unlock(&vfio.lock);
	return -1;
}

void dio_vfio_map(struct dio_dmabuf *b)
{
	b->map = vfio.map + b->bar_off;
}

void dio_vfio_release(struct dio_dmabuf *b)
{
	pthread_mutex_lock(&vfio.lock);
	if (b->fd >= 0)
		close(b->fd);
	if (!--vfio.users)
		vfio_close();
	pthread_mutex_unlock(&vfio.lock);
	b->map = NULL;
	b->fd = -1;
	b->device = false;
}
