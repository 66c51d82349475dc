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
 * Is the block device rdev, or a partition of it, mounted?  mountinfo's
 * third field is the mounted device's major:minor; a partition's sysfs
 * directory sits inside its disk's.
 */
static bool dio_mounted(dev_t rdev)
{
	char line[4096], path[128], real[PATH_MAX], want[32], have[32];
	unsigned int maj, min;
	bool busy = false;
	FILE *f = fopen("/proc/self/mountinfo", "r"), *d;

	if (!f)
		return false;
	snprintf(want, sizeof(want), "%u:%u", major(rdev), minor(rdev));
	while (!busy && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %u:%u", &maj, &min) != 2 || !maj)
			continue;
		if (makedev(maj, min) == rdev) {
			busy = true;
			break;
		}
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/partition", maj, min);
		if (access(path, F_OK))
			continue;
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", maj, min);
		if (!realpath(path, real) || strlen(real) + 8 > sizeof(real))
			continue;
		strcat(real, "/../dev");
		d = fopen(real, "r");
		if (!d)
			continue;
		if (fscanf(d, "%31s", have) == 1 && !strcmp(have, want))
			busy = true;
		fclose(d);
	}
	fclose(f);
	return busy;
}

/*
 * The IOMMU domain type of the PCI device behind a block device, from
 * sysfs: DMA is strict, DMA-FQ lazy (flush queue), identity passthrough.
 * A device without an iommu_group is not translated at all.
 */
static void dio_target_iommu(struct dio_target *t)
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
			 major(t->rdev), minor(t->rdev), paths[i]);
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
		 major(t->rdev), minor(t->rdev));
	if (!access(path, F_OK))
		snprintf(t->iommu, sizeof(t->iommu), "none");
}

int dio_target_open(struct dio_target *t, const char *path, bool write,
		    bool require_direct)
{
	int flags = (write ? O_RDWR : O_RDONLY) | O_CLOEXEC;
	struct stat st;
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
		 * Not O_EXCL: a ring's registered files are released after
		 * the process exits, so the previous run may still hold it.
		 */
		if (write && dio_mounted(st.st_rdev)) {
			dio_err("%s: it (or a partition of it) is mounted; refusing to write to it",
				path);
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
		dio_target_iommu(t);
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
	t->lbsize = st.st_blksize ? st.st_blksize : 4096;
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
