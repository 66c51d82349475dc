/* SPDX-License-Identifier: MIT */
/*
 * The bed of the fs/ tests: files on ext4 and xfs, on the NVMe drives
 * make check adds for them (tests/run-check.sh, fs_bed).
 *
 * The host makes both file systems with Debian's e2fsprogs and xfsprogs
 * (tests/fs/images.sh) and checks them with fsck after the boot; the
 * kernel command line says which drive holds which:
 * dmabuf_rw.fs=ext4:2,xfs:3 (drive numbers as in t_nvme_path()).  A boot
 * without dmabuf_rw.fs= has no file system drives: the tests skip there.
 * Where it is given, a drive that is missing or does not mount fails.
 *
 * Each test mounts each file system on /tmp/fs-<type> and works in its own
 * directory there, /tmp/fs-<type>/<test>, emptied first; it unmounts
 * before it ends (a mount left behind is detached at exit, so that the
 * image is clean once the last reference goes, or fsck says why not).
 *
 * Data written through the code under test is checked by another path:
 * ft_file_cmp() and ft_file_verify() drop the page cache and read the file
 * with read(2) through it; ft_dio_cmp() reads it with plain O_DIRECT pread
 * into ordinary memory.
 */
#ifndef DMABUF_RW_FT_H
#define DMABUF_RW_FT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include "../dmabuf/dmabuf-test.h"

#define FT_MAX_FS	2
#define FT_KIB		1024U
/* <sys/mount.h> and <linux/fs.h> do not mix (glibc 2.36) */
#define FT_MNT_DETACH	2
/* Linux 6.14's statx field, newer than the build host's headers */
#define FT_STATX_DIO_READ_ALIGN	0x00020000U
#define FT_STATX_READ_ALIGN_OFF	0xb4
/* FS_IOC_SHUTDOWN (ext4 and xfs: the same ioctl), newer than the headers */
#define FT_IOC_SHUTDOWN		_IOR('X', 125, __u32)
#define FT_SHUTDOWN_NOLOGFLUSH	2	/* as if the power went: log not flushed */

struct ft_fs {
	char type[8];		/* "ext4", "xfs" */
	int drive;		/* bed drive number */
	const char *dev;	/* /dev/nvmeXnY */
	char mnt[64];		/* /tmp/fs-<type> */
	char dir[128];		/* <mnt>/<test> */
	int mounted;
};

static struct ft_fs ft_fs[FT_MAX_FS];
static int ft_nfs;

static inline int ft_mount_call(const char *dev, const char *dir, const char *type,
				const char *opts)
{
	return syscall(SYS_mount, dev, dir, type, 0UL, opts) ? -errno : 0;
}

static inline int ft_umount_call(const char *dir, int flags)
{
	return syscall(SYS_umount2, dir, flags) ? -errno : 0;
}

/* Whatever a failed test left mounted is detached, not left dirty. */
static inline void ft_detach_all(void)
{
	for (int i = 0; i < ft_nfs; i++)
		if (ft_fs[i].mounted)
			ft_umount_call(ft_fs[i].mnt, FT_MNT_DETACH);
}

/* Parse dmabuf_rw.fs= (skip without it) and find each file system's drive. */
static inline int ft_bed(void)
{
	const char *v = t_cmdline("dmabuf_rw.fs");
	char *copy, *tok, *save;

	if (!v || !*v)
		t_skip("the bed has no file system drives (no dmabuf_rw.fs=, see tests/run-check.sh)");
	copy = strdup(v);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct ft_fs *f = &ft_fs[ft_nfs];
		char *colon = strchr(tok, ':');

		if (!colon || ft_nfs == FT_MAX_FS || colon - tok >= (int)sizeof(f->type))
			t_fail("dmabuf_rw.fs=%s: want TYPE:DRIVE[,TYPE:DRIVE]", v);
		*colon = 0;
		strcpy(f->type, tok);
		f->drive = atoi(colon + 1);
		f->dev = strdup(t_need_nvme(f->drive));
		snprintf(f->mnt, sizeof(f->mnt), "/tmp/fs-%s", tok);
		snprintf(f->dir, sizeof(f->dir), "/tmp/fs-%s/%s", tok,
			 program_invocation_short_name);
		ft_nfs++;
	}
	free(copy);
	atexit(ft_detach_all);
	return ft_nfs;
}

/* Mount f with opts (NULL: defaults); fails the test if it does not. */
static inline void ft_mount_opts(struct ft_fs *f, const char *opts)
{
	int ret;

	mkdir(f->mnt, 0755);
	ret = ft_mount_call(f->dev, f->mnt, f->type, opts);
	if (ret)
		t_fail("mount -t %s %s %s%s%s: %s", f->type, f->dev, f->mnt,
		       opts ? " -o " : "", opts ? opts : "", strerror(-ret));
	f->mounted = 1;
}

/* Mount f and give the test an empty directory of its own there. */
static inline void ft_mount(struct ft_fs *f)
{
	struct dirent *d;
	char path[512];
	DIR *dir;

	ft_mount_opts(f, NULL);
	mkdir(f->dir, 0755);
	dir = opendir(f->dir);
	if (!dir)
		t_fail("%s: %s", f->dir, strerror(errno));
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->dir, d->d_name);
		if (unlink(path))
			t_fail("removing what an earlier run left, %s: %s", path, strerror(errno));
	}
	closedir(dir);
}

/*
 * Unmount f; with every file of the test closed and every slot cleared it
 * must succeed.  The last reference to a registered file may go a moment
 * after the slot was cleared (the ring puts it from task work, the token
 * unmaps from a work item, ring exit runs from a work item too), so
 * -EBUSY is retried for up to 5 s.
 */
static inline void ft_umount(struct ft_fs *f)
{
	int ret, tries = 0;

	while ((ret = ft_umount_call(f->mnt, 0)) == -EBUSY && ++tries < 500)
		usleep(10000);
	if (ret)
		t_fail("umount %s (%s)%s: %s", f->mnt, f->type,
		       tries ? ", for 5 s" : "", strerror(-ret));
	f->mounted = 0;
}

/* Path of the test's file name on f (static buffer, one at a time per f). */
static inline const char *ft_path(const struct ft_fs *f, const char *name)
{
	static char path[FT_MAX_FS][512];

	snprintf(path[f - ft_fs], sizeof(path[0]), "%s/%s", f->dir, name);
	return path[f - ft_fs];
}

/* Open (creating, truncating) the test's file name on f, O_DIRECT | flags. */
static inline int ft_create(const struct ft_fs *f, const char *name, int flags)
{
	const char *path = ft_path(f, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC | flags, 0644);

	if (fd < 0)
		t_fail("creating %s: %s", path, strerror(errno));
	return fd;
}

static inline uint64_t ft_size(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		t_fail("fstat: %s", strerror(errno));
	return st.st_size;
}

/* Fail unless the file's size (fstat) is want. */
#define ft_expect_size(fd, want, fmt, ...) do {					\
	uint64_t __s = ft_size(fd), __w = (want);				\
	if (__s != __w)								\
		t_fail(fmt ": file size %llu, want %llu", ##__VA_ARGS__,	\
		       (unsigned long long)__s, (unsigned long long)__w);	\
} while (0)

/* Direct I/O alignment of a file (statx STATX_DIOALIGN, DIO_READ_ALIGN). */
struct ft_align {
	unsigned int mem;	/* buffer address */
	unsigned int off;	/* file offset and length of writes (and reads) */
	unsigned int read_off;	/* of reads, where less (xfs, after a reflink) */
};

static inline struct ft_align ft_dioalign(int fd)
{
	struct statx stx;
	struct ft_align a;
	__u32 read_off;

	/* the read alignment sits 6 words after the write alignment */
	_Static_assert(offsetof(struct statx, stx_dio_offset_align) + 24 == FT_STATX_READ_ALIGN_OFF,
		       "struct statx layout");
	memset(&stx, 0, sizeof(stx));
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN | FT_STATX_DIO_READ_ALIGN, &stx))
		t_fail("statx: %s", strerror(errno));
	if (!(stx.stx_mask & STATX_DIOALIGN) || !stx.stx_dio_offset_align)
		t_fail("statx gives no direct I/O alignment (mask 0x%x)", stx.stx_mask);
	a.mem = stx.stx_dio_mem_align;
	a.off = stx.stx_dio_offset_align;
	memcpy(&read_off, (char *)&stx + FT_STATX_READ_ALIGN_OFF, sizeof(read_off));
	a.read_off = (stx.stx_mask & FT_STATX_DIO_READ_ALIGN) && read_off ? read_off : a.off;
	return a;
}

/* echo 3 > /proc/sys/vm/drop_caches: the next buffered read goes to the drive. */
static inline void ft_drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	sync();
	if (fd < 0 || write(fd, "3", 1) != 1)
		t_fail("drop_caches: %s", strerror(errno));
	close(fd);
}

/*
 * Read [off, off + len) of path with read(2) through the page cache, after
 * dropping it, into buf (at least len bytes).  Returns the bytes read.
 */
static inline size_t ft_file_read(const char *path, void *buf, uint64_t off, size_t len)
{
	size_t done = 0;
	int fd;

	ft_drop_caches();
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		t_fail("open %s: %s", path, strerror(errno));
	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, off + done);

		if (r < 0)
			t_fail("read %s at %llu: %s", path, (unsigned long long)(off + done),
			       strerror(errno));
		if (!r)
			break;
		done += r;
	}
	close(fd);
	return done;
}

/* ft_file_read() of [off, off + len), which must equal want. */
static inline int ft_file_cmp(const char *path, uint64_t off, const void *want, size_t len,
			      const char *what)
{
	unsigned char *buf = t_malloc(len);
	size_t got = ft_file_read(path, buf, off, len), i;
	int ret = 0;

	if (got != len) {
		printf("%s: read(2) gave %zu of %zu bytes at %llu\n", what, got, len,
		       (unsigned long long)off);
		ret = -1;
	} else if (memcmp(buf, want, len)) {
		for (i = 0; buf[i] == ((const unsigned char *)want)[i]; i++)
			;
		printf("%s: read(2) through the page cache differs at file offset %llu: 0x%02x, want 0x%02x\n",
		       what, (unsigned long long)(off + i), buf[i],
		       ((const unsigned char *)want)[i]);
		ret = -1;
	}
	free(buf);
	return ret;
}

/* ft_file_read() of [off, off + len), which must hold the pattern seed. */
static inline int ft_file_verify(const char *path, uint64_t off, size_t len, uint32_t seed,
				 const char *what)
{
	unsigned char *buf = t_malloc(len);
	size_t got = ft_file_read(path, buf, off, len);
	int ret;

	if (got != len) {
		printf("%s: read(2) gave %zu of %zu bytes at %llu\n", what, got, len,
		       (unsigned long long)off);
		ret = -1;
	} else {
		ret = t_verify(buf, len, off, seed, what);
	}
	free(buf);
	return ret;
}

/*
 * Where a race leaves several contents possible: each 512-byte sector of
 * buf, file offset pos, must hold the pattern of one candidate, that is
 * the pattern for position pos + shift with its seed (a shift for data
 * that a collapse moved).  Anything else (zeroes, another file's data,
 * stale blocks, misplaced data) fails: returns -1 and says where.
 */
struct ft_cand {
	int64_t shift;
	uint32_t seed;
};

static inline int ft_accept(const unsigned char *buf, size_t len, uint64_t pos,
			    const struct ft_cand *c, int nc, const char *what)
{
	unsigned char want[512];
	size_t i, n;
	int k;

	for (i = 0; i < len; i += n) {
		n = len - i < 512 ? len - i : 512;
		for (k = 0; k < nc; k++) {
			t_fill(want, n, pos + i + c[k].shift, c[k].seed);
			if (!memcmp(buf + i, want, n))
				break;
		}
		if (k == nc) {
			printf("%s: file offset %llu holds none of the %d possible contents:\n",
			       what, (unsigned long long)(pos + i), nc);
			t_verify(buf + i, n, pos + i + c[0].shift, c[0].seed, what);
			return -1;
		}
	}
	return 0;
}

/* Plain O_DIRECT pread into ordinary memory; [off, off + len) must equal want. */
static inline int ft_dio_cmp(int fd, uint64_t off, const void *want, size_t len,
			     const char *what)
{
	size_t alen = (len + 4095) & ~4095UL;
	unsigned char *buf = t_malloc(alen);
	ssize_t got = pread(fd, buf, len, off);
	int ret = 0;

	if (got != (ssize_t)len) {
		printf("%s: O_DIRECT pread of %zu at %llu: %s\n", what, len,
		       (unsigned long long)off, got < 0 ? strerror(errno) : "short");
		ret = -1;
	} else if (memcmp(buf, want, len)) {
		size_t i;

		for (i = 0; buf[i] == ((const unsigned char *)want)[i]; i++)
			;
		printf("%s: O_DIRECT pread differs at file offset %llu: 0x%02x, want 0x%02x\n",
		       what, (unsigned long long)(off + i), buf[i],
		       ((const unsigned char *)want)[i]);
		ret = -1;
	}
	free(buf);
	return ret;
}

/* The file's extents (FIEMAP, synced): up to max into ext; returns how many. */
static inline unsigned int ft_extents(int fd, struct fiemap_extent *ext, unsigned int max)
{
	size_t sz = sizeof(struct fiemap) + max * sizeof(struct fiemap_extent);
	struct fiemap *fm = calloc(1, sz);
	unsigned int n;

	fm->fm_length = FIEMAP_MAX_OFFSET;
	fm->fm_flags = FIEMAP_FLAG_SYNC;
	fm->fm_extent_count = max;
	if (ioctl(fd, FS_IOC_FIEMAP, fm))
		t_fail("FS_IOC_FIEMAP: %s", strerror(errno));
	n = fm->fm_mapped_extents;
	if (ext)
		memcpy(ext, fm->fm_extents, n * sizeof(*ext));
	free(fm);
	return n;
}

/*
 * What the documented semantics make a dma-buf read of [off, off + len)
 * return, by the file's own extent map (FIEMAP) and size: the bytes up to
 * the first hole or unwritten extent, or the end of the file; -ENODATA if
 * that is none and the read starts before the end; 0 at or after the end.
 * For reads where the file system decides whether a range stays unwritten
 * (ext4 zeroes small unwritten extents next to a write instead of splitting
 * them).
 */
static inline int ft_read_oracle(int fd, uint64_t off, unsigned int len)
{
	struct fiemap_extent ext[64];
	uint64_t size = ft_size(fd), end = off + len < size ? off + len : size, cur = off;
	unsigned int n = ft_extents(fd, ext, 64), i;

	if (off >= size)
		return 0;
	for (i = 0; i < n && cur < end; i++) {
		uint64_t e0 = ext[i].fe_logical, e1 = e0 + ext[i].fe_length;

		if (e1 <= cur)
			continue;
		if (e0 > cur || (ext[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN))
			break;
		cur = e1 < end ? e1 : end;
	}
	return cur > off ? (int)(cur - off) : -ENODATA;
}

static inline void ft_fallocate(int fd, int mode, uint64_t off, uint64_t len, const char *what)
{
	if (fallocate(fd, mode, off, len))
		t_fail("%s: fallocate(mode 0x%x, %llu, %llu): %s", what, mode,
		       (unsigned long long)off, (unsigned long long)len, strerror(errno));
}

/*
 * Leave the file system's free space full of a pattern no test file holds
 * (seed FT_STALE_SEED): a file of mib MiB, written, synced and deleted.
 * Blocks allocated afterwards are likely to be these, so a read that
 * returned what a block held before it was allocated shows up as
 * "not this pattern" instead of zeroes that might pass.
 */
#define FT_STALE_SEED	0x57a1e
static inline void ft_stale_fill(const struct ft_fs *f, unsigned int mib)
{
	int fd = ft_create(f, "stale", 0);

	dt_dev_fill(fd, 0, (uint64_t)mib * DT_MIB, FT_STALE_SEED);
	if (fsync(fd))
		t_fail("fsync: %s", strerror(errno));
	close(fd);
	if (unlink(ft_path(f, "stale")))
		t_fail("unlink: %s", strerror(errno));
	sync();
}

/*
 * The main() most tests share, after ft_start(): test(f, kind) for each kind
 * < nkinds of buffer (fs-buf.h's, not seen here) on each file system, mounted
 * (stale_mib MiB of ft_stale_fill() first, leftover unlinked last; 0, NULL: no).
 */
static inline int ft_run(struct io_uring *ring, unsigned int entries,
			 void (*test)(struct ft_fs *f, int kind), int nkinds,
			 unsigned int stale_mib, const char *leftover)
{
	int i, k;

	if (io_uring_queue_init(entries, ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(ring, 1);
	for (i = 0; i < ft_nfs; i++) {
		ft_mount(&ft_fs[i]);
		if (stale_mib)
			ft_stale_fill(&ft_fs[i], stale_mib);
		for (k = 0; k < nkinds; k++)
			test(&ft_fs[i], k);
		if (leftover)
			unlink(ft_path(&ft_fs[i], leftover));
		ft_umount(&ft_fs[i]);
	}
	io_uring_queue_exit(ring);
	dt_report();
	return T_EXIT_PASS;
}

#endif /* DMABUF_RW_FT_H */
