// SPDX-License-Identifier: MIT
/*
 * dmabuf-io's in-use check and its "why no dma-buf I/O" hint
 * (tools/dmabuf-io/busy.c) on a made-up sysfs and procfs tree: a disk
 * whose partition is mounted (by number; by source with major 0, as btrfs
 * shows it), is a swap area, is held by device-mapper; a free disk; an
 * integrity format, a multipath head, another driver.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "test.h"
#include "dmabuf-io.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[512], *slash;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(path, 0755);
		*slash = '/';
	}
	if (!text) {
		mkdir(path, 0755);
		return;
	}
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		t_fail("writing %s: %s", path, strerror(errno));
	close(fd);
}

static void link_to(const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
	if (symlink(target, path))
		t_fail("symlink %s: %s", path, strerror(errno));
}

/* A disk 259:0 "nvme0n1" with partitions 259:1 (p1) and 259:2 (p2). */
static void make_disk(void)
{
	put("sys/devices/pci/nvme/nvme0/nvme0n1/dev", "259:0\n");
	put("sys/devices/pci/nvme/nvme0/nvme0n1/nvme0n1p1/partition", "1\n");
	put("sys/devices/pci/nvme/nvme0/nvme0n1/nvme0n1p1/dev", "259:1\n");
	put("sys/devices/pci/nvme/nvme0/nvme0n1/nvme0n1p2/partition", "2\n");
	put("sys/devices/pci/nvme/nvme0/nvme0n1/nvme0n1p2/dev", "259:2\n");
	put("sys/dev/block/x", "");
	link_to("../../devices/pci/nvme/nvme0/nvme0n1", "sys/dev/block/259:0");
	link_to("../../devices/pci/nvme/nvme0/nvme0n1/nvme0n1p1", "sys/dev/block/259:1");
	put("sys/class/block/nvme0n1/holders", NULL);
	put("sys/class/block/nvme0n1p1/holders", NULL);
	put("sys/class/block/nvme0n1p2/holders", NULL);
	put("dev/nvme0n1p2", "");
	put("dev/mapper/x", "");
	put("proc/self/mountinfo",
	    "22 1 0:21 / /proc rw - proc proc rw\n"
	    "23 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
	put("proc/swaps", "Filename Type Size Used Priority\n");
}

static void expect(bool busy, const char *want)
{
	char why[256] = "";
	bool got = dio_blk_in_use(root, "/nonexistent", makedev(259, 0), why, sizeof(why));

	if (got != busy || (want && !strstr(why, want)))
		t_fail("in use: %d \"%s\"; want %d \"%s\"", got, why, busy, want ? want : "");
	printf("%s: %s\n", busy ? "in use" : "free", busy ? why : "ok");
}

static void expect_why(const char *want)
{
	char why[256] = "";

	dio_blk_unsupported_why(root, makedev(259, 0), why, sizeof(why));
	if (!strstr(why, want))
		t_fail("unsupported: \"%s\"; want \"%s\"", why, want);
	printf("unsupported: %s\n", why);
}

int main(void)
{
	char cmd[128];

	snprintf(root, sizeof(root), "/tmp/dmabuf-rw-busy.XXXXXX");
	if (!mkdtemp(root))
		t_fail("mkdtemp: %s", strerror(errno));
	make_disk();
	expect(false, NULL);

	/* a partition mounted, by device number */
	put("proc/self/mountinfo", "23 1 259:1 / /data rw - ext4 /dev/nvme0n1p1 rw\n");
	expect(true, "nvme0n1p1 is mounted on /data");
	/* btrfs: major 0, the source names the device (through a symlink) */
	link_to("../nvme0n1p2", "dev/mapper/x");
	put("proc/self/mountinfo", "24 1 0:35 / /srv rw - btrfs /dev/mapper/x rw\n");
	expect(true, "nvme0n1p2 is mounted on /srv");
	put("proc/self/mountinfo", "24 1 0:35 / /srv rw - btrfs /dev/sdb rw\n");
	expect(false, NULL);
	/* swap on a partition */
	put("proc/swaps", "Filename Type Size Used Priority\n/dev/nvme0n1p2 partition 1 0 -2\n");
	expect(true, "nvme0n1p2 is a swap area");
	put("proc/swaps", "Filename Type Size Used Priority\n");
	/* LVM / device-mapper holding the disk, then a partition */
	put("sys/class/block/nvme0n1/holders/dm-0", "");
	expect(true, "nvme0n1 is held by dm-0");
	snprintf(cmd, sizeof(cmd), "%s/sys/class/block/nvme0n1/holders/dm-0", root);
	unlink(cmd);
	put("sys/class/block/nvme0n1p1/holders/md127", "");
	expect(true, "nvme0n1p1 is held by md127");

	/* why a device cannot take dma-buf I/O */
	put("sys/devices/pci/nvme/nvme0/nvme0n1/device/device/x", "");
	link_to("../../../../../bus/pci/drivers/nvme",
		"sys/devices/pci/nvme/nvme0/nvme0n1/device/device/driver");
	expect_why("only NVMe namespaces on PCIe");
	link_to("../../../../../bus/pci/drivers/virtio-pci",
		"sys/devices/pci/nvme/nvme0/nvme0n1/device/device/driver");
	expect_why("its driver (virtio-pci) does not support");
	put("sys/devices/pci/nvme/nvme0/nvme0n1/multipath", NULL);
	expect_why("NVMe multipath head");
	put("sys/devices/pci/nvme/nvme0/nvme0n1/integrity/format", "T10-DIF-TYPE1-CRC\n");
	expect_why("integrity metadata (T10-DIF-TYPE1-CRC)");

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		t_fail("%s", cmd);
	return T_EXIT_PASS;
}
