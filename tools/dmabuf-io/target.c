// SPDX-License-Identifier: MIT
/* dmabuf-io: the block device or file the I/O goes to. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/fs.h>

#include "dmabuf-io.h"

/*
 * The IOMMU domain type of the PCI device behind block device dev (the
 * target, or a file's file system's device), from sysfs: DMA is strict,
 * DMA-FQ lazy (flush queue), identity passthrough.  A device without an
 * iommu_group is not translated at all.
 */
static void dio_target_iommu(struct dio_target *t, dev_t dev)
{
	static const char *const paths[] = {
		"device/device",	/* nvme namespace -> controller -> PCI */
		"device",
		"../device/device",	/* a partition */
	};
	char path[256], type[32] = "";
	unsigned int i;
	FILE *f;

	snprintf(t->iommu, sizeof(t->iommu), "unknown");
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s/iommu_group/type",
			 major(dev), minor(dev), paths[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%31s", type) != 1)
			type[0] = 0;
		fclose(f);
		if (!strcmp(type, "DMA"))
			snprintf(t->iommu, sizeof(t->iommu), "strict");
		else if (!strcmp(type, "DMA-FQ"))
			snprintf(t->iommu, sizeof(t->iommu), "lazy");
		else if (!strcmp(type, "identity"))
			snprintf(t->iommu, sizeof(t->iommu), "passthrough");
		else if (type[0])
			snprintf(t->iommu, sizeof(t->iommu), "%s", type);
		return;
	}
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/device/device",
		 major(dev), minor(dev));
	if (!access(path, F_OK))
		snprintf(t->iommu, sizeof(t->iommu), "none");
}

int dio_target_open(struct dio_target *t, const char *path, bool write,
		    bool require_direct, bool force)
{
	int flags = (write ? O_RDWR : O_RDONLY) | O_CLOEXEC;
	struct statx stx;
	struct stat st;
	char why[256];
	int lbs;

	memset(t, 0, sizeof(*t));
	t->path = path;
	t->fd = -1;
	if (stat(path, &st)) {
		dio_err("%s: %s", path, strerror(errno));
		return -1;
	}
	t->blockdev = S_ISBLK(st.st_mode);
	if (!t->blockdev && !S_ISREG(st.st_mode)) {
		dio_err("%s: not a block device or a regular file", path);
		return -1;
	}
	if (t->blockdev) {
		/*
		 * The I/O descriptor is not O_EXCL: a ring's registered files
		 * are released after the process exits, so the previous run
		 * may still hold it.  dio_blk_in_use() probes with one.
		 */
		if (write && !force && dio_blk_in_use("", path, st.st_rdev, why, sizeof(why))) {
			dio_err("%s is in use: %s; writing would destroy data there. "
				"Refusing (--force overrides)", path, why);
			return -1;
		}
		t->fd = open(path, flags | O_DIRECT);
		if (t->fd < 0) {
			dio_err("%s: %s", path, strerror(errno));
			return -1;
		}
		t->direct = true;
		t->rdev = st.st_rdev;
		if (ioctl(t->fd, BLKGETSIZE64, &t->size) || ioctl(t->fd, BLKSSZGET, &lbs)) {
			dio_err("%s: cannot read the device size: %s", path, strerror(errno));
			goto fail;
		}
		t->lbsize = lbs;
		dio_target_iommu(t, t->rdev);
		return 0;
	}
	t->fd = open(path, flags | O_DIRECT);
	if (t->fd >= 0) {
		t->direct = true;
	} else if (errno == EINVAL && !require_direct) {
		t->fd = open(path, flags);
	} else if (errno == EINVAL) {
		dio_err("%s: the file system does not support O_DIRECT", path);
		return -1;
	}
	if (t->fd < 0) {
		dio_err("%s: %s", path, strerror(errno));
		return -1;
	}
	t->size = st.st_size;
	/*
	 * The file's O_DIRECT alignment (Linux 6.1); st_blksize is only the
	 * preferred I/O size.  Older kernels: st_blksize is a safe bound.
	 */
	t->lbsize = st.st_blksize ? st.st_blksize : 4096;
	if (t->direct && !statx(t->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align)
		t->lbsize = stx.stx_dio_offset_align;
	/*
	 * dma-buf I/O on a file on ext4 or xfs goes to the file system's
	 * block device: its IOMMU mode is the file's.
	 */
	t->fsdev = st.st_dev;
	dio_file_fs(t, NULL, 0);
	if (dio_file_fs_supported(t))
		dio_target_iommu(t, t->fsdev);
	else
		snprintf(t->iommu, sizeof(t->iommu), "n/a");
	return 0;
fail:
	close(t->fd);
	t->fd = -1;
	return -1;
}

void dio_target_close(struct dio_target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
