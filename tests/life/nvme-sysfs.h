/* SPDX-License-Identifier: MIT */
/*
 * sysfs of the NVMe bed drives, for the device-event tests: the controller
 * directory of drive n (reset_controller lives there) and its PCI function
 * (remove), a thread that resets a controller while a test runs I/O, and
 * waiting for a drive to come back after a rescan.
 */
#ifndef DMABUF_RW_NVME_SYSFS_H
#define DMABUF_RW_NVME_SYSFS_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
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

/* The controller directory of bed drive n, which must be there. */
static inline char *nvme_need_ctrl_dir(int n)
{
	char *ctrl;

	t_need_nvme(n);
	ctrl = nvme_ctrl_dir(n);
	if (!ctrl)
		t_fail("no sysfs controller directory for drive %d (%s)", n, t_nvme_path(n));
	return ctrl;
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
 * Resets under load: nvme_resetter(r), run as a thread, writes ctrl's
 * reset_controller n times, 50 ms apart, counting the resets started and
 * the writes refused, and sets stop when it is done, which ends the I/O
 * loop of the test that runs it (as does the test setting stop first).
 */
struct nvme_resets {
	const char *ctrl;
	int n;
	atomic_int stop;
	int done, errors;
};

static inline void *nvme_resetter(void *arg)
{
	struct nvme_resets *r = arg;

	for (int i = 0; i < r->n && !atomic_load(&r->stop); i++) {
		if (sysfs_write(r->ctrl, "reset_controller", "1"))
			r->errors++;
		else
			r->done++;
		usleep(50000);
	}
	atomic_store(&r->stop, 1);
	return NULL;
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
