/* SPDX-License-Identifier: MIT */
/*
 * sysfs of the NVMe bed drives, for the device-event tests: the controller
 * directory of drive n (reset_controller lives there) and its PCI function
 * (remove), and waiting for a drive to come back after a rescan.
 */
#ifndef DMABUF_RW_NVME_SYSFS_H
#define DMABUF_RW_NVME_SYSFS_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

/* /sys/devices/.../nvme/nvmeX of bed drive n, or NULL (malloc'ed). */
static inline char *nvme_ctrl_dir(int n)
{
	const char *dev = t_nvme_path(n);
	char link[PATH_MAX];

	if (!dev)
		return NULL;
	snprintf(link, sizeof(link), "/sys/block/%s/device", dev + strlen("/dev/"));
	return realpath(link, NULL);
}

static inline int sysfs_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * Wait up to secs for bed drive n to exist, in sysfs and in /dev; returns
 * its path or NULL.  The namespace shows in sysfs before devtmpfs has made
 * its node (device_add), a window a debug kernel makes wide enough to hit.
 */
static inline const char *nvme_wait_drive(int n, int secs)
{
	const char *p = t_nvme_path(n);

	for (int i = 0; (!p || access(p, F_OK)) && i < secs * 10; i++) {
		usleep(100000);
		p = t_nvme_path(n);
	}
	return p && !access(p, F_OK) ? p : NULL;
}

#endif /* DMABUF_RW_NVME_SYSFS_H */
