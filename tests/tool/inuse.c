// SPDX-License-Identifier: MIT
/*
 * dmabuf-io refuses to write to a drive in use, names what uses it, and
 * --force overrides that (dmabuf-io(1), IN USE), with real holders in the
 * guest rather than made-up sysfs trees (those are tests/host/busy.c):
 *  - a swap area on a partition of drive 1 (an MBR written here, mkswap,
 *    swapon): "bench -w write" on the disk and on the partition is refused
 *    with a message naming the partition as a swap area; reads are not;
 *    with --force a write outside the partition runs and leaves the swap
 *    area alone, one to the partition itself fails cleanly (the kernel
 *    refuses writes to an active swap device) instead of hanging; after
 *    swapoff the same write is accepted without --force;
 *  - a file system mounted from that partition (busybox's mke2fs, the
 *    ext4 driver): refused on the disk and the partition, naming the mount
 *    point;
 *  - another process holding the disk open with O_EXCL: refused, naming
 *    that process; accepted again once it is gone.
 * The first block of the drive is restored and the partition dropped at
 * exit, also when the test fails.  btrfs, md, dm and LVM are not in the
 * guest kernel: their holders are covered by tests/host/busy.c only.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <linux/fs.h>

#include "tool-test.h"

#define PART_START	(1U << 20)	/* the swap partition: 1 MiB ... */
#define PART_SIZE	(8U << 20)	/* ... 9 MiB */
#define AREA_OFF	"32m"		/* where the test writes, outside it */
#define MNT		"/tmp/inuse-mnt"

static const char *disk;		/* /dev/nvmeXnY of drive 1 */
static char part[64], part_name[32];	/* its partition 1: path, kernel name */
static unsigned char *block0;		/* the drive's first block, as found */
static unsigned int lbs;
static bool swap_on, mounted;
static pid_t holder = -1;

static void reread_partitions(int fd)
{
	int i;

	/* EBUSY while udev-less devtmpfs or a last close still settles */
	for (i = 0; ioctl(fd, BLKRRPART) && i < 50; i++) {
		if (errno != EBUSY)
			t_fail("BLKRRPART on %s: %s", disk, strerror(errno));
		usleep(20000);
	}
}

/* Leave drive 1 as it was: no swap, no holder, no partition table. */
static void cleanup(void)
{
	int fd;

	if (holder > 0) {
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
		holder = -1;
	}
	if (swap_on && swapoff(part))
		printf("cleanup: swapoff %s: %s\n", part, strerror(errno));
	swap_on = false;
	if (mounted && umount(MNT))
		printf("cleanup: umount %s: %s\n", MNT, strerror(errno));
	mounted = false;
	if (!block0)
		return;
	fd = open(disk, O_RDWR | O_DIRECT);
	if (fd < 0 || pwrite(fd, block0, lbs, 0) != (ssize_t)lbs)
		printf("cleanup: restoring the first block of %s: %s\n", disk, strerror(errno));
	else
		ioctl(fd, BLKRRPART);
	if (fd >= 0)
		close(fd);
	free(block0);
	block0 = NULL;
}

/* One MBR partition, type 82 (Linux swap), at PART_START of PART_SIZE. */
static void make_partition(void)
{
	int fd = t_open_nvme(1, 0);
	unsigned char *mbr;
	char sys[PATH_MAX];
	uint32_t v;
	int i;

	lbs = t_dev_lbsize(fd);
	block0 = t_malloc(lbs);
	if (pread(fd, block0, lbs, 0) != (ssize_t)lbs)
		t_fail("reading the first block of %s: %s", disk, strerror(errno));
	mbr = t_malloc(lbs);
	mbr[446 + 1] = 0xfe;			/* CHS: unused, LBA only */
	mbr[446 + 2] = 0xff;
	mbr[446 + 3] = 0xff;
	mbr[446 + 4] = 0x82;
	mbr[446 + 5] = 0xfe;
	mbr[446 + 6] = 0xff;
	mbr[446 + 7] = 0xff;
	v = PART_START / lbs;			/* little-endian, logical blocks */
	memcpy(mbr + 446 + 8, &v, 4);
	v = PART_SIZE / lbs;
	memcpy(mbr + 446 + 12, &v, 4);
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	if (pwrite(fd, mbr, lbs, 0) != (ssize_t)lbs)
		t_fail("writing an MBR to %s: %s", disk, strerror(errno));
	free(mbr);
	reread_partitions(fd);
	close(fd);

	/* nvme1n1 -> nvme1n1p1: the kernel's name; devtmpfs makes the node */
	snprintf(part_name, sizeof(part_name), "%sp1", strrchr(disk, '/') + 1);
	snprintf(part, sizeof(part), "/dev/%s", part_name);
	snprintf(sys, sizeof(sys), "/sys/class/block/%s/partition", part_name);
	for (i = 0; (access(sys, F_OK) || access(part, F_OK)) && i < 100; i++)
		usleep(20000);
	if (access(sys, F_OK) || access(part, F_OK))
		t_fail("no %s after writing an MBR (CONFIG_MSDOS_PARTITION is in kernel/config)",
		       part);
}

static void make_swap(void)
{
	struct tt_run r;

	tt_execv(&r, "/sbin/mkswap", (const char *[]){ part, NULL });
	if (r.status)
		tt_fail(&r, "mkswap failed");
	tt_free(&r);
	if (swapon(part, 0)) {
		if (errno == ENOSYS)
			t_missing("swap (CONFIG_SWAP is in kernel/config)");
		t_fail("swapon %s: %s", part, strerror(errno));
	}
	swap_on = true;
}

/* The swap signature at the end of the partition's first page is intact. */
static void check_swap_header(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char sig[10];
	int fd = open(part, O_RDONLY);

	if (fd < 0 || pread(fd, sig, sizeof(sig), page - 10) != sizeof(sig))
		t_fail("reading the swap header of %s: %s", part, strerror(errno));
	close(fd);
	if (memcmp(sig, "SWAPSPACE2", 10))
		t_fail("the swap header of %s was overwritten", part);
}

static bool in_proc_swaps(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/swaps", "r");

	if (!f)
		t_fail("/proc/swaps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		found |= !strncmp(line, part, strlen(part)) && line[strlen(part)] == ' ';
	fclose(f);
	return found;
}

/* A short write run on dev (extra options before it); returns the run. */
static void write_run(struct tt_run *r, const char *dev, const char *opt1, const char *opt2)
{
	const char *args[16] = { "bench", "-w", "write", "-q", "4", "-n", "16" };
	int n = 7;

	if (opt1)
		args[n++] = opt1;
	if (opt2)
		args[n++] = opt2;
	args[n++] = dev;
	args[n] = NULL;
	tt_runv(r, args);
}

static void expect_ok(struct tt_run *r, const char *what)
{
	if (r->status)
		tt_fail(r, "%s: want the run to be accepted", what);
	tt_free(r);
}

/* Refused before any I/O, saying why (want) and how to override it. */
static void expect_refused(struct tt_run *r, const char *want, const char *what)
{
	if (r->status != 1 || !strstr(r->err, "is in use: ") || !strstr(r->err, want) ||
	    !strstr(r->err, "--force"))
		tt_fail(r, "%s: want it refused, naming \"%s\", with --force as the way out",
			what, want);
	printf("%s: refused: %s", what, strstr(r->err, "is in use: ") + 11);
	tt_free(r);
}

/* A child that opens the disk O_EXCL and waits to be killed. */
static pid_t hold_exclusively(void)
{
	int p[2], fd;
	char c;
	pid_t pid;

	if (pipe(p))
		t_fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		t_fail("fork: %s", strerror(errno));
	if (!pid) {
		fd = open(disk, O_RDONLY | O_EXCL);
		c = fd < 0 ? 'E' : 'o';
		if (write(p[1], &c, 1) != 1 || fd < 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1 || c != 'o')
		t_fail("the holder could not open %s with O_EXCL", disk);
	close(p[0]);
	return pid;
}

int main(void)
{
	char want[128], area[] = "-o" AREA_OFF;
	struct tt_run r;

	tt_tool();
	disk = strdup(t_need_nvme(1));
	atexit(cleanup);

	/* the drive is free: a write is accepted, so refusals below are the holders' */
	write_run(&r, disk, area, "-s1m");
	expect_ok(&r, "free drive");

	make_partition();
	make_swap();
	if (!in_proc_swaps())
		t_fail("%s is not in /proc/swaps after swapon", part);
	snprintf(want, sizeof(want), "%s is a swap area", part_name);

	write_run(&r, disk, area, "-s1m");
	expect_refused(&r, want, "write to the disk of a swap partition");
	write_run(&r, part, "-mplain", NULL);
	expect_refused(&r, want, "write to the swap partition");

	/* reading is never refused */
	tt_run(&r, "bench", "-q", "4", "-n", "16", area, "-s1m", disk, NULL);
	expect_ok(&r, "read from the disk of a swap partition");

	/* --force: the user's call, and the kernel still guards the swap area */
	tt_run(&r, "bench", "-w", "write", "--force", "-q", "4", "-n", "16", area, "-s1m", disk,
	       NULL);
	expect_ok(&r, "--force write outside the swap partition");
	check_swap_header();
	if (!in_proc_swaps())
		t_fail("%s left /proc/swaps", part);
	tt_run(&r, "bench", "-m", "plain", "-w", "write", "--force", "-q", "1", "-n", "1", part,
	       NULL);
	if (r.status != 1 || !strstr(r.err, strerror(ETXTBSY)))
		tt_fail(&r, "--force write to an active swap partition: want the kernel's "
			"refusal (%s) reported", strerror(ETXTBSY));
	tt_free(&r);
	check_swap_header();
	printf("--force: a write outside the swap area ran, one into it failed: %s\n",
	       strerror(ETXTBSY));

	if (swapoff(part))
		t_fail("swapoff %s: %s", part, strerror(errno));
	swap_on = false;
	write_run(&r, disk, area, "-s1m");
	expect_ok(&r, "write after swapoff");

	/* a mounted file system: ext2 made by busybox, mounted by the ext4 driver */
	tt_execv(&r, "/sbin/mke2fs", (const char *[]){ "-q", part, NULL });
	if (r.status)
		tt_fail(&r, "mke2fs failed");
	tt_free(&r);
	if (mkdir(MNT, 0755) && errno != EEXIST)
		t_fail("mkdir %s: %s", MNT, strerror(errno));
	if (mount(part, MNT, "ext4", 0, NULL)) {
		if (errno == ENODEV)
			t_missing("ext4 (CONFIG_EXT4_FS is in kernel/config)");
		t_fail("mount %s on %s: %s", part, MNT, strerror(errno));
	}
	mounted = true;
	snprintf(want, sizeof(want), "%s is mounted on %s", part_name, MNT);
	write_run(&r, disk, area, "-s1m");
	expect_refused(&r, want, "write to the disk of a mounted partition");
	write_run(&r, part, "-mplain", NULL);
	expect_refused(&r, want, "write to a mounted partition");
	if (umount(MNT))
		t_fail("umount %s: %s", MNT, strerror(errno));
	mounted = false;

	/* another program holding the disk exclusively */
	holder = hold_exclusively();
	snprintf(want, sizeof(want), "pid %d (", holder);
	write_run(&r, disk, area, "-s1m");
	expect_refused(&r, want, "write to a disk held open with O_EXCL");
	tt_run(&r, "bench", "-w", "write", "--force", "-q", "4", "-n", "16", area, "-s1m", disk,
	       NULL);
	expect_ok(&r, "--force write to a disk held open with O_EXCL");
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	holder = -1;
	write_run(&r, disk, area, "-s1m");
	expect_ok(&r, "write once the O_EXCL holder is gone");

	cleanup();
	snprintf(want, sizeof(want), "/sys/class/block/%s", part_name);
	if (!access(want, F_OK))
		t_fail("%s still exists after restoring the first block", part);
	return T_EXIT_PASS;
}
