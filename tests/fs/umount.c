// SPDX-License-Identifier: MIT
/*
 * Unmounting a file system with registered files, on ext4 and xfs, with a
 * udmabuf and with a premapped buffer.
 *
 * The registration holds a reference to its file: umount fails -EBUSY
 * while a file is registered, with READ_FIXED in flight, and after the
 * file's last fd is closed; once the slot is cleared it succeeds.  Ring
 * exit with the slot still filled lets it succeed too.  A lazy unmount
 * (MNT_DETACH) with I/O in flight detaches at once; the registered file
 * keeps working, and the file system goes away (its block device can be
 * opened O_EXCL) only when the slot is cleared and the fd closed.  What
 * was written through the slot while detached is there after mounting
 * again (read(2) through the page cache).
 */
#include "fs-buf.h"

#define B		4096U
#define QD		16
#define FILE_SIZE	(QD * 64 * FT_KIB)
#define SEED		0x0b57

static struct io_uring ring;

/* QD reads of 64 KiB in flight (not reaped). */
static void reads_in_flight(int fd, const struct ft_buf *b)
{
	unsigned int i;

	ft_poison(b, 0, FILE_SIZE);
	for (i = 0; i < QD; i++)
		ft_prep(&ring, 0, fd, b, 0, i * 64 * FT_KIB, 64 * FT_KIB, i * 64 * FT_KIB, i);
	dt_submit(&ring);
}

static void reap(const struct ft_buf *b, int fd, uint32_t seed, const char *what)
{
	struct io_uring_cqe *cqe;
	unsigned int i, n = 0;
	int ret;

	while (n < QD) {
		if (io_uring_wait_cqe(&ring, &cqe))
			t_fail("io_uring_wait_cqe");
		i = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (ret == -EAGAIN && b->kind == FT_UDMABUF) {
			ft_prep(&ring, 0, fd, b, 0, i * 64 * FT_KIB, 64 * FT_KIB, i * 64 * FT_KIB, i);
			dt_submit(&ring);
			continue;
		}
		dt_expect_len(ret, 64 * FT_KIB, "%s: read %u", what, i);
		n++;
	}
	if (ft_verify(b, 0, FILE_SIZE, 0, seed, what))
		t_fail("%s: wrong data", what);
}

static void expect_busy(struct ft_fs *f, const char *what)
{
	int ret = ft_umount_call(f->mnt, 0);

	if (!ret) {
		f->mounted = 0;
		t_fail("%s, %s: umount succeeded", f->type, what);
	}
	dt_expect(ret, -EBUSY, "%s, %s: umount", f->type, what);
}

static int new_file(struct ft_fs *f, uint32_t seed)
{
	int fd;

	ft_mount(f);
	fd = ft_create(f, "file", 0);
	dt_dev_fill(fd, 0, FILE_SIZE, seed);
	return fd;
}

/* umount -EBUSY while registered, in flight, with the fd closed; then clear. */
static void busy(struct ft_fs *f, const struct ft_buf *b)
{
	int fd = new_file(f, SEED);

	ft_register(&ring, 0, b, fd);
	expect_busy(f, "a file registered");
	reads_in_flight(fd, b);
	expect_busy(f, "reads in flight");
	reap(b, fd, SEED, "reads during umount -EBUSY");
	close(fd);
	expect_busy(f, "a registered file closed");
	ft_clear(&ring, 0);
	ft_umount(f);
}

/* The ring goes with the slot still filled. */
static void ring_exit(struct ft_fs *f, const struct ft_buf *b)
{
	int fd = new_file(f, SEED);

	ft_register(&ring, 0, b, fd);
	reads_in_flight(fd, b);
	close(fd);
	io_uring_queue_exit(&ring);
	ft_umount(f);
	if (io_uring_queue_init(2 * QD, &ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(&ring, 1);
}

/* 0 when nothing holds the block device any more. */
static int bdev_free(const struct ft_fs *f)
{
	int fd = open(f->dev, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static void lazy(struct ft_fs *f, const struct ft_buf *b)
{
	int fd = new_file(f, SEED), ret, tries = 0;

	ft_register(&ring, 0, b, fd);
	reads_in_flight(fd, b);
	ret = ft_umount_call(f->mnt, FT_MNT_DETACH);
	if (ret)
		t_fail("%s: umount -l with reads in flight: %s", f->type, strerror(-ret));
	f->mounted = 0;
	reap(b, fd, SEED, "reads during umount -l");

	/* still the file's slot: write it anew through it */
	ft_fill(b, 0, FILE_SIZE, 0, SEED + 1);
	dt_expect(ft_io(&ring, 1, fd, b, 0, 0, FILE_SIZE, 0), FILE_SIZE,
		  "%s, %s: WRITE_FIXED after umount -l", f->type, b->name);
	if (bdev_free(f) != -EBUSY)
		t_fail("%s: the block device is free while a detached file is registered", f->type);
	close(fd);
	if (bdev_free(f) != -EBUSY)
		t_fail("%s: the block device is free while the slot holds a detached file", f->type);
	ft_clear(&ring, 0);
	while ((ret = bdev_free(f)) == -EBUSY && ++tries < 200)
		usleep(10000);
	if (ret)
		t_fail("%s: after clearing the slot of a detached file, its block device: %s",
		       f->type, strerror(-ret));

	ft_mount_opts(f, NULL);
	if (ft_file_verify(ft_path(f, "file"), 0, FILE_SIZE, SEED + 1, "written while detached"))
		t_fail("%s: what was written while detached is not there", f->type);
	unlink(ft_path(f, "file"));
	ft_umount(f);
}

int main(void)
{
	int nfs = ft_start(), i, k;
	struct ft_buf b;

	if (io_uring_queue_init(2 * QD, &ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(&ring, 1);
	for (i = 0; i < nfs; i++) {
		for (k = 0; k < FT_NKINDS; k++) {
			ft_buf_alloc(&b, k, FILE_SIZE);
			busy(&ft_fs[i], &b);
			ring_exit(&ft_fs[i], &b);
			lazy(&ft_fs[i], &b);
			ft_buf_free(&b);
			printf("%s: umount -EBUSY while registered; after clearing, ring exit, umount -l: ok\n",
			       ft_where(&ft_fs[i], k));
		}
	}
	io_uring_queue_exit(&ring);
	dt_report();
	return T_EXIT_PASS;
}
