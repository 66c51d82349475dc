// SPDX-License-Identifier: MIT
/*
 * Reflinks (xfs: FICLONE, FICLONERANGE) of a registered file, with a udmabuf
 * and with a premapped buffer.  ext4 has none: FICLONE must say
 * -EOPNOTSUPP there, and that is all this test does on ext4.
 *
 * Steps: file A is cloned to B; then a block-aligned WRITE_FIXED to A must
 * copy on write (B keeps its data); a write smaller than the block, which
 * xfs would finish through the page cache, fails -EBUSY (statx says writes
 * to A must now be whole blocks; reads still any sector); a range of C is
 * cloned into A and read through the slot.
 *
 * Race: while READ_FIXED and WRITE_FIXED run on A at queue depth 8, a
 * thread clones A to a snapshot file again and again and clones a range of
 * C into A.  Every read must deliver, sector by sector, one of the
 * contents that part of A can have (ft_accept()); at the end A holds
 * exactly what was written, the snapshot taken before the writes is
 * unchanged (no write went through to a shared block) and C too, all
 * read with read(2) through the page cache after dropping it.
 */
#include "fs-buf.h"

#include <pthread.h>
#include <stdatomic.h>

#define B		4096U
#define SIZE		(2 * DT_MIB)
#define W_END		(1 * DT_MIB)		/* [0, W_END): written */
#define RC_START	(1536 * FT_KIB)		/* [RC_START, RC_END): cloned from C */
#define RC_END		(1792 * FT_KIB)
#define QD		8
#define MAX_IO		(64 * FT_KIB)
#define S_A		0x5a5a
#define S_W		0x3e3e
#define S_C		0xc0c0

static struct io_uring ring;
static int fd_a, fd_c, snap_fd;
static atomic_int stop;
static unsigned long clones;

static int clone_file(int src, int dst)
{
	return ioctl(dst, FICLONE, src) ? -errno : 0;
}

static int clone_range(int src, uint64_t off, uint64_t len, int dst)
{
	struct file_clone_range r = {
		.src_fd = src, .src_offset = off, .src_length = len, .dest_offset = off,
	};

	return ioctl(dst, FICLONERANGE, &r) ? -errno : 0;
}

static int pattern_file(struct ft_fs *f, const char *name, uint32_t seed)
{
	int fd = ft_create(f, name, 0);

	dt_dev_fill(fd, 0, SIZE, seed);
	return fd;
}

static void steps(struct ft_fs *f, enum ft_kind kind)
{
	const char *where = ft_where(f, kind);
	unsigned char *want = t_malloc(SIZE);
	struct ft_align a;
	struct ft_buf b;
	int fd_b, ret;

	fd_a = pattern_file(f, "a", S_A);
	fd_c = pattern_file(f, "c", S_C);
	fd_b = ft_create(f, "b", 0);
	ft_buf_alloc(&b, kind, 512 * FT_KIB);
	ft_register(&ring, 0, &b, fd_a);
	ret = clone_file(fd_a, fd_b);
	if (ret)
		t_fail("%s: FICLONE a -> b: %s", where, strerror(-ret));
	a = ft_dioalign(fd_a);
	t_fill(want, SIZE, 0, S_A);

	/* copy on write through the slot */
	ft_fill(&b, 0, 64 * FT_KIB, 64 * FT_KIB, S_W);
	t_fill(want + 64 * FT_KIB, 64 * FT_KIB, 64 * FT_KIB, S_W);
	dt_expect(ft_io(&ring, 1, fd_a, &b, 0, 0, 64 * FT_KIB, 64 * FT_KIB), 64 * FT_KIB,
		  "%s: block-aligned WRITE_FIXED to a reflinked file", where);
	ft_poison(&b, 0, 8 * B);
	dt_expect(ft_io(&ring, 0, fd_a, &b, 0, 0, 8 * B, 64 * FT_KIB - 512), 8 * B,
		  "%s: READ_FIXED across the copied range", where);
	if (ft_cmp(&b, 0, want + 64 * FT_KIB - 512, 8 * B, where))
		t_fail("%s: wrong data after copy on write", where);

	/* smaller than what statx allows for writes: -EBUSY, not the page cache */
	if (a.off > a.read_off) {
		ft_fill(&b, 0, a.read_off, 0, S_W + 1);
		dt_expect(ft_io(&ring, 1, fd_a, &b, 0, 0, a.read_off, 200 * FT_KIB + a.read_off),
			  -EBUSY, "%s: a %u-byte WRITE_FIXED to a reflinked file (writes: %u)",
			  where, a.read_off, a.off);
	} else {
		t_fail("%s: statx gives a reflinked file the same alignment for writes as for reads (%u)",
		       where, a.off);
	}

	/* a range of C cloned into A, read through the slot */
	ret = clone_range(fd_c, RC_START, RC_END - RC_START, fd_a);
	if (ret)
		t_fail("%s: FICLONERANGE c -> a: %s", where, strerror(-ret));
	t_fill(want + RC_START, RC_END - RC_START, RC_START, S_C);
	ft_poison(&b, 0, 72 * FT_KIB);
	dt_expect(ft_io(&ring, 0, fd_a, &b, 0, 0, 72 * FT_KIB, RC_START - 4 * FT_KIB),
		  72 * FT_KIB, "%s: READ_FIXED across a cloned-in range", where);
	if (ft_cmp(&b, 0, want + RC_START - 4 * FT_KIB, 72 * FT_KIB, where))
		t_fail("%s: wrong data across the cloned-in range", where);

	ft_clear(&ring, 0);
	ft_buf_free(&b);
	if (ft_file_cmp(ft_path(f, "a"), 0, want, SIZE, "a") ||
	    ft_file_verify(ft_path(f, "b"), 0, SIZE, S_A, "b, the clone") ||
	    ft_file_verify(ft_path(f, "c"), 0, SIZE, S_C, "c, the clone source"))
		t_fail("%s: a, b or c does not hold what it must", where);
	close(fd_a);
	close(fd_b);
	close(fd_c);
	free(want);
	printf("%s: copy on write, -EBUSY for a %u-byte write (statx: writes %u, reads %u), cloned-in range: ok\n",
	       where, a.read_off, a.off, a.read_off);
}

static void *cloner(void *arg)
{
	int ret;

	(void)arg;
	while (!atomic_load(&stop)) {
		ret = clone_file(fd_a, snap_fd);
		if (!ret)
			ret = clone_range(fd_c, RC_START, RC_END - RC_START, fd_a);
		if (ret)
			t_fail("cloning during I/O: %s", strerror(-ret));
		clones++;
	}
	return NULL;
}

struct req {
	int write;
	unsigned int len;
	uint64_t off;
	size_t boff;
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void issue(const struct ft_buf *b, struct req *r, unsigned int i, unsigned char *written)
{
	unsigned int blocks = 1 + rnd() % (MAX_IO / B);

	r->write = rnd() & 1;
	r->len = blocks * B;
	r->boff = (size_t)i * MAX_IO;
	if (r->write) {
		r->off = rnd() % ((W_END - r->len) / B + 1) * B;
		ft_fill(b, r->boff, r->len, r->off, S_W);
		memset(written + r->off / B, 1, blocks);
	} else {
		r->off = rnd() % ((SIZE - r->len) / 512 + 1) * 512;
		ft_poison(b, r->boff, r->len);
	}
	ft_prep(&ring, r->write, fd_a, b, 0, r->boff, r->len, r->off, i);
}

/* A read's data: sector by sector one of the contents that part of A can have. */
static void check_read(const struct ft_buf *b, const struct req *r, const char *where)
{
	/* written: old or new; cloned in from C: old or C's; elsewhere: old */
	static const struct ft_cand w[] = { { 0, S_A }, { 0, S_W } }, c[] = { { 0, S_A }, { 0, S_C } };
	uint64_t o;
	char what[128];

	snprintf(what, sizeof(what), "%s: a read of %u at %llu while cloning", where, r->len,
		 (unsigned long long)r->off);
	ft_begin(b);
	for (o = r->off; o < r->off + r->len; o += 512) {
		const struct ft_cand *cand = w;
		int nc = 1;

		if (o < W_END)
			nc = 2;
		else if (o >= RC_START && o < RC_END)
			cand = c, nc = 2;
		if (ft_accept(b->p + r->boff + (o - r->off), 512, o, cand, nc, what))
			t_fail("%s: not a content the file can have", what);
	}
	ft_end(b);
}

static void race(struct ft_fs *f, enum ft_kind kind)
{
	const char *where = ft_where(f, kind);
	unsigned long n = t_scale(1000), done = 0;
	unsigned char *written = calloc(SIZE / B, 1), *want = t_malloc(SIZE);
	struct req reqs[QD];
	struct ft_buf b;
	pthread_t thr;
	unsigned int i, inflight = 0;
	int ret, snap0;

	fd_a = pattern_file(f, "a", S_A);
	fd_c = pattern_file(f, "c", S_C);
	snap0 = ft_create(f, "snap0", 0);
	snap_fd = ft_create(f, "snap", 0);
	ret = clone_file(fd_a, snap0);
	if (ret)
		t_fail("%s: FICLONE: %s", where, strerror(-ret));
	ft_buf_alloc(&b, kind, QD * MAX_IO);
	ft_register(&ring, 0, &b, fd_a);

	atomic_store(&stop, 0);
	clones = 0;
	if (pthread_create(&thr, NULL, cloner, NULL))
		t_fail("pthread_create");
	for (i = 0; i < QD; i++, inflight++)
		issue(&b, &reqs[i], i, written);
	dt_submit(&ring);
	while (inflight) {
		struct io_uring_cqe *cqe;
		struct req *r;

		if (io_uring_wait_cqe(&ring, &cqe))
			t_fail("io_uring_wait_cqe");
		i = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		r = &reqs[i];
		if (ret == -EAGAIN && kind == FT_UDMABUF) {
			dt_eagain++;
			ft_prep(&ring, r->write, fd_a, &b, 0, r->boff, r->len, r->off, i);
			dt_submit(&ring);
			continue;
		}
		dt_expect_len(ret, r->len, "%s: %s of %u at %llu while cloning", where,
			      r->write ? "WRITE_FIXED" : "READ_FIXED", r->len,
			      (unsigned long long)r->off);
		if (!r->write)
			check_read(&b, r, where);
		inflight--;
		if (++done + inflight < n) {
			issue(&b, r, i, written);
			dt_submit(&ring);
			inflight++;
		}
	}
	atomic_store(&stop, 1);
	pthread_join(thr, NULL);
	ft_clear(&ring, 0);
	ft_buf_free(&b);

	t_fill(want, SIZE, 0, S_A);
	for (i = 0; i < SIZE / B; i++)
		if (written[i])
			t_fill(want + (size_t)i * B, B, (uint64_t)i * B, S_W);
	t_fill(want + RC_START, RC_END - RC_START, RC_START, S_C);
	if (ft_file_cmp(ft_path(f, "a"), 0, want, SIZE, "a after the race") ||
	    ft_file_verify(ft_path(f, "snap0"), 0, SIZE, S_A, "the snapshot before the writes") ||
	    ft_file_verify(ft_path(f, "c"), 0, SIZE, S_C, "c"))
		t_fail("%s: a write or a clone went where it must not", where);
	close(fd_a);
	close(fd_c);
	close(snap0);
	close(snap_fd);
	free(written);
	free(want);
	printf("%s: %lu I/Os during %lu clones of the file and into it: verified\n", where, done,
	       clones);
}

int main(void)
{
	int nfs = ft_start(), i, k, fd, other, ret;

	if (io_uring_queue_init(2 * QD, &ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(&ring, 1);
	for (i = 0; i < nfs; i++) {
		struct ft_fs *f = &ft_fs[i];

		ft_mount(f);
		if (strcmp(f->type, "xfs")) {
			fd = ft_create(f, "a", 0);
			other = ft_create(f, "b", 0);
			ret = clone_file(fd, other);
			dt_expect(ret, -EOPNOTSUPP, "%s: FICLONE", f->type);
			printf("%s: no reflinks (FICLONE: -EOPNOTSUPP)\n", f->type);
			close(fd);
			close(other);
		} else {
			for (k = 0; k < FT_NKINDS; k++) {
				steps(f, k);
				race(f, k);
			}
		}
		ft_umount(f);
	}
	io_uring_queue_exit(&ring);
	dt_report();
	return T_EXIT_PASS;
}
