// SPDX-License-Identifier: MIT
/*
 * What files refuse, each with its documented errno, for a udmabuf and a
 * premapped buffer:
 *   registration for a file not opened O_DIRECT          -EINVAL
 *   registration for a file on tmpfs                     -EOPNOTSUPP
 *   ext4: a file with inline data                         -EOPNOTSUPP
 *   ext4: a file on a data=journal mount                  -EOPNOTSUPP
 *   ext4: chattr +j (FS_JOURNAL_DATA_FL) on a registered file (mounted
 *         nodelalloc: with delayed allocation ext4 ignores the flag): its
 *         requests fail -EOPNOTSUPP, the buffer and the file untouched,
 *         a new registration too; chattr -j and they work again
 *   a request at a misaligned file offset, of a misaligned length or at
 *   a misaligned buffer offset (statx STATX_DIOALIGN)     -EINVAL
 *   a dma-buf slot used on another file of the same file system or on
 *   its block device                                      -EBADF
 * A premapped buffer is an ordinary registered buffer everywhere but on
 * its file: on another file it must work, through the ordinary path (no
 * dma-buf bio).
 */
#include "fs-buf.h"

#define B		4096U
#define SEED		0x4ef5
#define FILE_SIZE	(64 * B)
#define BUF_SIZE	(16 * B)

static struct io_uring ring;

static void expect_reg(const struct ft_buf *b, int fd, int want, const char *what)
{
	int ret = ft_try_register(&ring, 1, b, fd);

	if (!ret)
		ft_clear(&ring, 1);
	dt_expect(ret, want, "%s: registering %s", what, b->name);
}

/* A file of the pattern, O_DIRECT (or not: flags). */
static int pattern_file(const struct ft_fs *f, const char *name, int flags)
{
	int fd = ft_create(f, name, 0);

	dt_dev_fill(fd, 0, FILE_SIZE, SEED);
	if (flags != O_DIRECT) {
		close(fd);
		fd = open(ft_path(f, name), O_RDWR | O_CLOEXEC | flags);
		if (fd < 0)
			t_fail("reopening %s: %s", name, strerror(errno));
	}
	return fd;
}

/* A read and a write of [off, off + len) at buffer offset boff must fail want. */
static void expect_io(const struct ft_buf *b, int fd, size_t boff, unsigned int len,
		      uint64_t off, int want, const char *what)
{
	unsigned char *before = t_malloc(FILE_SIZE);

	ft_poison(b, 0, BUF_SIZE);
	dt_expect(ft_io(&ring, 0, fd, b, 0, boff, len, off), want,
		  "%s: READ_FIXED of %u at %llu into +%zu", what, len, (unsigned long long)off, boff);
	if (ft_check_poison(b, 0, BUF_SIZE, "the buffer after a refused read"))
		t_fail("%s: a refused read wrote to the buffer", what);
	t_fill(before, FILE_SIZE, 0, SEED);
	ft_fill(b, 0, BUF_SIZE, 0, SEED + 1);
	dt_expect(ft_io(&ring, 1, fd, b, 0, boff, len, off), want,
		  "%s: WRITE_FIXED of %u at %llu from +%zu", what, len, (unsigned long long)off, boff);
	if (ft_dio_cmp(fd, 0, before, FILE_SIZE, what))
		t_fail("%s: a refused write changed the file", what);
	free(before);
}

static void misaligned(struct ft_fs *f, const struct ft_buf *b)
{
	const char *where = ft_where(f, b->kind);
	int fd = pattern_file(f, "refuse", O_DIRECT);
	struct ft_align a = ft_dioalign(fd);

	ft_register(&ring, 0, b, fd);
	if (a.off > 1) {
		expect_io(b, fd, 0, B, B + a.off / 2, -EINVAL, where);
		expect_io(b, fd, 0, a.off / 2, B, -EINVAL, where);
		expect_io(b, fd, 0, B + a.off / 2, B, -EINVAL, where);
	}
	if (a.mem > 1)
		expect_io(b, fd, a.mem / 2, B, B, -EINVAL, where);
	ft_clear(&ring, 0);
	close(fd);
	printf("%s: misaligned file offset, length and buffer offset (alignment %u, %u): -EINVAL\n",
	       where, a.off, a.mem);
}

/* The slot used on another file and on the block device. */
static void other_file(struct ft_fs *f, const struct ft_buf *b)
{
	const char *where = ft_where(f, b->kind);
	int fd = pattern_file(f, "refuse", O_DIRECT);
	int other = pattern_file(f, "other", O_DIRECT);
	int bdev = open(f->dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	long bios;

	if (bdev < 0)
		t_fail("%s: %s", f->dev, strerror(errno));
	ft_register(&ring, 0, b, fd);
	if (b->kind == FT_UDMABUF) {
		expect_io(b, other, 0, B, 0, -EBADF, "another file");
		ft_poison(b, 0, B);
		dt_expect(ft_io(&ring, 0, bdev, b, 0, 0, B, 0), -EBADF,
			  "%s: READ_FIXED on the block device %s", where, f->dev);
		printf("%s: another file, the block device: -EBADF\n", where);
	} else {
		/* an ordinary registered buffer there: works, without a dma-buf bio */
		ft_poison(b, 0, 2 * B);
		bios = pt_bios();
		dt_expect(ft_io(&ring, 0, other, b, 0, 0, 2 * B, 4 * B), 2 * B,
			  "%s: READ_FIXED on another file", where);
		if (pt_bios() != bios)
			t_fail("%s: a read on another file used the long-lived mapping", where);
		if (ft_verify(b, 0, 2 * B, 4 * B, SEED, "another file's data"))
			t_fail("%s: wrong data from another file", where);
		printf("%s: another file: an ordinary registered buffer there\n", where);
	}
	ft_clear(&ring, 0);
	close(bdev);
	close(other);
	close(fd);
}

static void set_flags(int fd, int set, int clear, const char *what)
{
	int flags;

	if (ioctl(fd, FS_IOC_GETFLAGS, &flags))
		t_fail("%s: FS_IOC_GETFLAGS: %s", what, strerror(errno));
	flags = (flags | set) & ~clear;
	if (ioctl(fd, FS_IOC_SETFLAGS, &flags))
		t_fail("%s: FS_IOC_SETFLAGS 0x%x: %s", what, flags, strerror(errno));
}

/*
 * ext4: chattr +j on a registered file, then -j.  With delayed allocation
 * (the default) ext4 ignores the flag, so this runs on a nodelalloc mount.
 */
static void journal_flag(struct ft_fs *f, const struct ft_buf *b)
{
	const char *where = ft_where(f, b->kind);
	int fd;

	ft_umount(f);
	ft_mount_opts(f, "nodelalloc");
	fd = pattern_file(f, "refuse", O_DIRECT);

	ft_register(&ring, 0, b, fd);
	set_flags(fd, FS_JOURNAL_DATA_FL, 0, "chattr +j");
	expect_io(b, fd, 0, 4 * B, 4 * B, -EOPNOTSUPP, "chattr +j after registering");
	expect_reg(b, fd, -EOPNOTSUPP, "chattr +j");
	set_flags(fd, 0, FS_JOURNAL_DATA_FL, "chattr -j");
	ft_poison(b, 0, 4 * B);
	dt_expect(ft_io(&ring, 0, fd, b, 0, 0, 4 * B, 4 * B), 4 * B, "%s: read after chattr -j",
		  where);
	if (ft_verify(b, 0, 4 * B, 4 * B, SEED, "after chattr -j"))
		t_fail("%s: wrong data after chattr -j", where);
	ft_clear(&ring, 0);
	close(fd);
	ft_umount(f);
	ft_mount_opts(f, NULL);
	printf("%s: chattr +j on a registered file: requests -EOPNOTSUPP; -j: they work\n", where);
}

/* ext4: a file whose data is inline in its inode. */
static void inline_data(struct ft_fs *f, const struct ft_buf *b)
{
	int fd = open(ft_path(f, "inline"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int flags = 0;

	if (fd < 0 || write(fd, "inline", 6) != 6 || fsync(fd))
		t_fail("a small file: %s", strerror(errno));
	close(fd);
	fd = open(ft_path(f, "inline"), O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		t_fail("opening the small file O_DIRECT: %s", strerror(errno));
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) || !(flags & FS_INLINE_DATA_FL))
		t_missing("inline data on the bed's ext4 (tests/fs/images.sh: -O inline_data): flags 0x%x",
			  flags);
	expect_reg(b, fd, -EOPNOTSUPP, "a file with inline data");
	close(fd);
}

/* ext4 mounted data=journal: every file journals its data. */
static void data_journal(struct ft_fs *f, const struct ft_buf *bufs)
{
	int fd, k;

	ft_umount(f);
	ft_mount_opts(f, "data=journal");
	fd = open(ft_path(f, "refuse"), O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		t_fail("opening a file O_DIRECT on data=journal: %s", strerror(errno));
	for (k = 0; k < FT_NKINDS; k++)
		expect_reg(&bufs[k], fd, -EOPNOTSUPP, "ext4 mounted data=journal");
	close(fd);
	ft_umount(f);
	ft_mount(f);
	printf("ext4: inline data, mounted data=journal: -EOPNOTSUPP\n");
}

static void test_fs(struct ft_fs *f, const struct ft_buf *bufs)
{
	int fd, k;

	ft_mount(f);
	for (k = 0; k < FT_NKINDS; k++) {
		fd = pattern_file(f, "buffered", 0);
		expect_reg(&bufs[k], fd, -EINVAL, "a file without O_DIRECT");
		close(fd);
		misaligned(f, &bufs[k]);
		other_file(f, &bufs[k]);
		if (!strcmp(f->type, "ext4")) {
			journal_flag(f, &bufs[k]);
			inline_data(f, &bufs[k]);
		}
	}
	if (!strcmp(f->type, "ext4"))
		data_journal(f, bufs);
	ft_umount(f);
}

int main(void)
{
	int nfs = ft_start(), i, k, fd;
	struct ft_buf bufs[FT_NKINDS];

	if (io_uring_queue_init(8, &ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(&ring, 2);
	for (k = 0; k < FT_NKINDS; k++)
		ft_buf_alloc(&bufs[k], k, BUF_SIZE);

	fd = open("/tmp/refuse-tmpfs", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0644);
	if (fd < 0)
		t_fail("a file on tmpfs, O_DIRECT: %s", strerror(errno));
	for (k = 0; k < FT_NKINDS; k++)
		expect_reg(&bufs[k], fd, -EOPNOTSUPP, "a file on tmpfs");
	close(fd);
	unlink("/tmp/refuse-tmpfs");
	printf("tmpfs: -EOPNOTSUPP; without O_DIRECT: -EINVAL\n");

	for (i = 0; i < nfs; i++)
		test_fs(&ft_fs[i], bufs);
	for (k = 0; k < FT_NKINDS; k++)
		ft_buf_free(&bufs[k]);
	io_uring_queue_exit(&ring);
	dt_report();
	return T_EXIT_PASS;
}
