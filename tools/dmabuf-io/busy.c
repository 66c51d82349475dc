// SPDX-License-Identifier: MIT
/*
 * dmabuf-io: is a block device in use, and why can it not take dma-buf
 * I/O?  Both read sysfs and procfs under a root prefix ("" on a live
 * system), so tests can hand them a tree of their own.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dmabuf-io.h"

#define DIO_MAX_PARTS	128

/* The disk and its partitions: kernel names and "major:minor". */
struct dio_parts {
	unsigned int n;
	char name[DIO_MAX_PARTS][64];
	char dev[DIO_MAX_PARTS][24];
};

static int dio_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static void dio_parts_add(struct dio_parts *p, const char *name, const char *dev)
{
	if (p->n == DIO_MAX_PARTS)
		return;
	snprintf(p->name[p->n], sizeof(p->name[0]), "%.63s", name);
	snprintf(p->dev[p->n], sizeof(p->dev[0]), "%.23s", dev);
	p->n++;
}

/* rdev's sysfs directory: the disk's name, then each partition in it. */
static int dio_parts_get(const char *root, dev_t rdev, struct dio_parts *p)
{
	char dir[PATH_MAX], link[PATH_MAX], path[PATH_MAX + 300], dev[24];
	const char *name;
	struct dirent *e;
	ssize_t n;
	DIR *d;

	p->n = 0;
	snprintf(dir, sizeof(dir), "%s/sys/dev/block/%u:%u", root, major(rdev), minor(rdev));
	n = readlink(dir, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = 0;
	name = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	snprintf(dev, sizeof(dev), "%u:%u", major(rdev), minor(rdev));
	dio_parts_add(p, name, dev);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/partition", dir, e->d_name);
		if (access(path, F_OK))
			continue;
		snprintf(path, sizeof(path), "%s/%s/dev", dir, e->d_name);
		if (!dio_read_line(path, dev, sizeof(dev)))
			dio_parts_add(p, e->d_name, dev);
	}
	closedir(d);
	return 0;
}

/* The index in p of the device a /dev path names (symlinks resolved), or -1. */
static int dio_parts_find_path(const char *root, const struct dio_parts *p, const char *dpath)
{
	char path[PATH_MAX], real[PATH_MAX];
	const char *base;
	unsigned int i;

	if (strncmp(dpath, "/dev/", 5))
		return -1;
	snprintf(path, sizeof(path), "%s%s", root, dpath);
	base = realpath(path, real) ? real : path;
	base = strrchr(base, '/') + 1;
	for (i = 0; i < p->n; i++)
		if (!strcmp(p->name[i], base))
			return i;
	return -1;
}

/* A stacked device (dm, md, bcache) holding the disk or a partition. */
static bool dio_held(const char *root, const struct dio_parts *p, char *why, size_t len)
{
	char path[PATH_MAX];
	struct dirent *e;
	unsigned int i;
	DIR *d;

	for (i = 0; i < p->n; i++) {
		snprintf(path, sizeof(path), "%s/sys/class/block/%s/holders", root, p->name[i]);
		d = opendir(path);
		if (!d)
			continue;
		while ((e = readdir(d)) && e->d_name[0] == '.')
			;
		if (e)
			snprintf(why, len, "%s is held by %s (device-mapper, LVM, md or "
				 "another stacked device)", p->name[i], e->d_name);
		closedir(d);
		if (e)
			return true;
	}
	return false;
}

/*
 * Mounted: mountinfo's third field is the device number, but file systems
 * with several devices or their own anonymous one (btrfs) show major 0;
 * then the mount source names the device.
 */
static bool dio_mounted(const char *root, const struct dio_parts *p, char *why, size_t len)
{
	char path[PATH_MAX], line[4096], dev[32], mnt[1024], *sep;
	char src[1024];
	unsigned int i;
	bool busy = false;
	FILE *f;
	int k;

	snprintf(path, sizeof(path), "%s/proc/self/mountinfo", root);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!busy && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %31s %*s %1023s", dev, mnt) != 2)
			continue;
		k = -1;
		for (i = 0; i < p->n && k < 0; i++)
			if (!strcmp(p->dev[i], dev))
				k = i;
		sep = strstr(line, " - ");
		if (k < 0 && !strncmp(dev, "0:", 2) && sep &&
		    sscanf(sep + 3, "%*s %1023s", src) == 1)
			k = dio_parts_find_path(root, p, src);
		if (k >= 0) {
			snprintf(why, len, "%s is mounted on %s", p->name[k], mnt);
			busy = true;
		}
	}
	fclose(f);
	return busy;
}

static bool dio_swap(const char *root, const struct dio_parts *p, char *why, size_t len)
{
	char path[PATH_MAX], line[1024], dpath[1024];
	bool busy = false;
	FILE *f;
	int k;

	snprintf(path, sizeof(path), "%s/proc/swaps", root);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!busy && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%1023s", dpath) != 1)
			continue;
		k = dio_parts_find_path(root, p, dpath);
		if (k >= 0) {
			snprintf(why, len, "%s is a swap area", p->name[k]);
			busy = true;
		}
	}
	fclose(f);
	return busy;
}

/*
 * The processes other than this one with rdev open: "pid 123 (mkfs)", at
 * most three, into buf; "" if none (the holder is the kernel: a mount,
 * swap, md or dm, or a process this user cannot see).  The kernel does not
 * say who holds a device exclusively, but a user who learns only that
 * "something" does cannot act on it.
 */
static void dio_openers(dev_t rdev, char *buf, size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], comm[64];
	struct dirent *p, *f;
	unsigned int found = 0;
	size_t at = 0;
	struct stat st;
	DIR *procs, *fds;
	pid_t self = getpid();

	buf[0] = 0;
	procs = opendir("/proc");
	if (!procs)
		return;
	while (found < 3 && (p = readdir(procs))) {
		if (p->d_name[0] < '0' || p->d_name[0] > '9' || atoi(p->d_name) == self)
			continue;
		snprintf(dir, sizeof(dir), "/proc/%s/fd", p->d_name);
		fds = opendir(dir);
		if (!fds)
			continue;
		while ((f = readdir(fds))) {
			snprintf(path, sizeof(path), "%s/%s", dir, f->d_name);
			if (f->d_name[0] == '.' || stat(path, &st) || !S_ISBLK(st.st_mode) ||
			    st.st_rdev != rdev)
				continue;
			snprintf(path, sizeof(path), "/proc/%s/comm", p->d_name);
			if (dio_read_line(path, comm, sizeof(comm)))
				snprintf(comm, sizeof(comm), "?");
			if (at < len)
				at += snprintf(buf + at, len - at, "%spid %s (%s)",
					       found ? ", " : "", p->d_name, comm);
			found++;
			break;
		}
		closedir(fds);
	}
	closedir(procs);
}

bool dio_blk_in_use(const char *root, const char *path, dev_t rdev, char *why, size_t len)
{
	char who[160];

	struct dio_parts p;
	int fd;

	if (!dio_parts_get(root, rdev, &p) &&
	    (dio_held(root, &p, why, len) || dio_mounted(root, &p, why, len) ||
	     dio_swap(root, &p, why, len)))
		return true;
	if (*root)
		return false;
	/* what the kernel claims (mounts, md, dm, swap) cannot be opened O_EXCL */
	fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	if (errno != EBUSY)
		return false;
	dio_openers(rdev, who, sizeof(who));
	if (*who)
		snprintf(why, len, "it is open exclusively, and open in %s", who);
	else
		snprintf(why, len, "it is open exclusively (a file system, RAID, "
			 "device-mapper or another program holds it)");
	return true;
}

void dio_blk_unsupported_why(const char *root, dev_t rdev, char *why, size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], buf[128], link[PATH_MAX];
	const char *drv;
	ssize_t n;

	snprintf(dir, sizeof(dir), "%s/sys/dev/block/%u:%u", root, major(rdev), minor(rdev));
	/* a partition: the disk's attributes */
	snprintf(path, sizeof(path), "%s/partition", dir);
	if (!access(path, F_OK))
		strncat(dir, "/..", sizeof(dir) - strlen(dir) - 1);
	snprintf(path, sizeof(path), "%s/integrity/format", dir);
	if (!dio_read_line(path, buf, sizeof(buf)) && strcmp(buf, "none")) {
		snprintf(why, len, "its format carries integrity metadata (%s), which dma-buf I/O "
			 "does not support; use a format without metadata", buf);
		return;
	}
	snprintf(path, sizeof(path), "%s/multipath", dir);
	if (!access(path, F_OK)) {
		snprintf(why, len, "it is an NVMe multipath head, which does not support "
			 "dma-buf I/O; boot with nvme_core.multipath=N to get per-controller "
			 "namespaces");
		return;
	}
	snprintf(path, sizeof(path), "%s/device/device/driver", dir);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		drv = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
		if (strcmp(drv, "nvme")) {
			snprintf(why, len, "its driver (%s) does not support dma-buf I/O; "
				 "only nvme (PCIe) does", drv);
			return;
		}
	}
	snprintf(why, len, "it does not support dma-buf I/O: only NVMe namespaces on PCIe "
		 "do (not device-mapper, md, loop or multipath devices)");
}
