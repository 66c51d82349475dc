// SPDX-License-Identifier: MIT
/*
 * Punch, truncate and collapse of a registered file under load, on ext4 and
 * xfs, with a udmabuf and with a premapped buffer: no stale data, ever.
 *
 * File A (4 MiB of a pattern) is registered twice: in the main ring and in
 * a loader thread's ring, which keeps 8 random READ_FIXED in flight for the
 * whole test.  A third thread fills and empties a file B of its own pattern
 * again and again, so that the blocks A gives up are soon B's.  Free space
 * starts full of a pattern no file holds (ft_stale_fill()).
 *
 * The main thread runs rounds of one operation each and, right after it,
 * checks the documented semantics through its own slot against its model
 * of A (which blocks are data, where the pattern is after collapses):
 *   punch (FALLOC_FL_PUNCH_HOLE) a range: a read starting there fails
 *     -ENODATA, one reaching it ends short before it; then the range is
 *     written again through the slot;
 *   truncate down: reads end at the new end, at the end they return 0;
 *     truncate back up: the old range is a hole (-ENODATA), never the old
 *     bytes; then written again;
 *   collapse (FALLOC_FL_COLLAPSE_RANGE) at 0: the data moved down, reads
 *     show it; the end is written again to keep the size.
 * The loader cannot know when an operation happens: each of its reads
 * must deliver, sector by sector, A's pattern as some collapse left it
 * (ft_accept()), or end short or with -ENODATA at a hole; B's data, stale
 * blocks or zeroes fail it.  At the end A, read with read(2) through the
 * page cache after dropping it, must equal the model.
 */
#include "fs-buf.h"

#include <pthread.h>
#include <stdatomic.h>

#define B		4096U
#define SIZE		(4 * DT_MIB)
#define NBLK		(SIZE / B)
#define LQD		8
#define LMAX		(128 * FT_KIB)
#define RMAX		(256 * FT_KIB)	/* the main thread's I/O */
#define S_A		0xa0a0
#define S_B		0xb0b0
#define MAX_SHIFTS	512

static struct io_uring ring;
static int fd_a;
static const struct ft_fs *cur_fs;
static atomic_int stop;
static const char *where;

/* The model: which blocks hold data, and by how much collapses moved it. */
static unsigned char data[NBLK];
static uint64_t size;
static int64_t shift;
/* every shift so far and the next one, published before the collapse */
static _Atomic int64_t shifts[MAX_SHIFTS];
static atomic_int nshifts;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* --- the loader: reads whose result it can only bound --- */

struct lreq {
	unsigned int len;
	uint64_t off;
};

static void loader_check(const struct ft_buf *b, const struct lreq *r, size_t boff, int ret,
			 unsigned long n)
{
	struct ft_cand c[MAX_SHIFTS];
	int i, nc = atomic_load(&nshifts);
	char what[128];

	snprintf(what, sizeof(what), "%s: loader read %lu, %u bytes at %llu", where, n, r->len,
		 (unsigned long long)r->off);
	if (ret == -ENODATA || ret == 0)
		return;
	if (ret < 0 || ret > (int)r->len || ret % 512)
		t_fail("%s: res %d (%s)", what, ret, ret < 0 ? strerror(-ret) : "not whole sectors");
	for (i = 0; i < nc; i++)
		c[i] = (struct ft_cand){ atomic_load(&shifts[nc - 1 - i]), S_A };
	ft_begin(b);
	if (ft_accept(b->p + boff, ret, r->off, c, nc, what))
		t_fail("%s: data A never held there", what);
	ft_end(b);
}

static void *loader(void *arg)
{
	const struct ft_buf *b = arg;
	struct io_uring lring;
	struct lreq reqs[LQD] = { { 0 } };
	uint64_t seed = 0x1234567;
	unsigned long n = 0;
	unsigned int i, inflight = 0;

	if (io_uring_queue_init(2 * LQD, &lring, 0))
		t_fail("loader: io_uring_queue_init");
	dt_sparse(&lring, 1);
	ft_register(&lring, 0, b, fd_a);
	for (;;) {
		struct io_uring_cqe *cqe;
		int ret;

		while (!atomic_load(&stop) && inflight < LQD) {
			for (i = 0; i < LQD; i++)
				if (!reqs[i].len)
					break;
			reqs[i].len = (1 + rnd(&seed) % (LMAX / B)) * B;
			reqs[i].off = rnd(&seed) % ((SIZE + LMAX) / 512) * 512;
			ft_poison(b, (size_t)i * LMAX, reqs[i].len);
			ft_prep(&lring, 0, fd_a, b, 0, (size_t)i * LMAX, reqs[i].len, reqs[i].off, i);
			inflight++;
		}
		if (!inflight)
			break;
		if (io_uring_submit_and_wait(&lring, 1) < 0 || io_uring_peek_cqe(&lring, &cqe))
			t_fail("loader: io_uring_submit_and_wait");
		i = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(&lring, cqe);
		if (ret == -EAGAIN && b->kind == FT_UDMABUF) {
			ft_prep(&lring, 0, fd_a, b, 0, (size_t)i * LMAX, reqs[i].len, reqs[i].off, i);
			continue;
		}
		loader_check(b, &reqs[i], (size_t)i * LMAX, ret, n++);
		reqs[i].len = 0;
		inflight--;
	}
	ft_clear(&lring, 0);
	io_uring_queue_exit(&lring);
	return (void *)n;
}

/* --- another file that takes the freed blocks --- */

static void *foreign(void *arg)
{
	int fd = ft_create(cur_fs, "b", 0);
	unsigned long rounds = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		dt_dev_fill(fd, 0, DT_MIB, S_B);
		if (ftruncate(fd, 0))
			t_fail("foreign: ftruncate: %s", strerror(errno));
		rounds++;
		usleep(2000);
	}
	close(fd);
	return (void *)rounds;
}

/* --- the main thread's checks against the model --- */

/* What a read of [off, off + len) must return by the model. */
static int model_res(uint64_t off, unsigned int len)
{
	uint64_t end = off + len < size ? off + len : size, cur = off;

	if (off >= size)
		return 0;
	while (cur < end && data[cur / B])
		cur = (cur / B + 1) * B < end ? (cur / B + 1) * B : end;
	return cur > off ? (int)(cur - off) : -ENODATA;
}

static void check(const struct ft_buf *b, uint64_t off, unsigned int len, const char *after)
{
	int want = model_res(off, len), ret;
	char what[160];

	snprintf(what, sizeof(what), "%s: after %s, a read of %u at %llu", where, after, len,
		 (unsigned long long)off);
	ft_poison(b, 0, len);
	ret = ft_io(&ring, 0, fd_a, b, 0, 0, len, off);
	dt_expect(ret, want, "%s", what);
	if (ret > 0 && ft_verify(b, 0, ret, off + shift, S_A, what))
		t_fail("%s: wrong data", what);
	if (ret < (int)len && ft_check_poison(b, ret > 0 ? ret : 0, len - (ret > 0 ? ret : 0),
					      "after the bytes reported"))
		t_fail("%s: the buffer was written beyond the bytes reported", what);
}

/* Write [off, off + len) again through the slot, in A's current pattern. */
static void refill(const struct ft_buf *b, uint64_t off, uint64_t len)
{
	uint64_t done, n;
	int ret;

	for (done = 0; done < len; done += n) {
		n = len - done < RMAX ? len - done : RMAX;
		ft_fill(b, 0, n, off + done + shift, S_A);
		ret = ft_io(&ring, 1, fd_a, b, 0, 0, n, off + done);
		dt_expect_len(ret, n, "%s: writing %llu bytes at %llu again", where,
			      (unsigned long long)n, (unsigned long long)(off + done));
	}
	memset(data + off / B, 1, len / B);
	if (off + len > size)
		size = off + len;
}

static void punch(const struct ft_buf *b, uint64_t *seed)
{
	uint64_t len = (1 + rnd(seed) % 32) * B;
	uint64_t off = rnd(seed) % ((size - len) / B) * B;

	ft_fallocate(fd_a, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len, "punch");
	memset(data + off / B, 0, len / B);
	check(b, off, len, "a punch");
	if (off >= 2 * B)
		check(b, off - 2 * B, len + 4 * B, "a punch");
	refill(b, off, len);
	check(b, off, len, "refilling a punched range");
}

static void truncate_(const struct ft_buf *b, uint64_t *seed)
{
	uint64_t old = size, t = size / 2 + rnd(seed) % (size / 2 / B) * B;

	if (ftruncate(fd_a, t))
		t_fail("%s: ftruncate to %llu: %s", where, (unsigned long long)t, strerror(errno));
	size = t;
	check(b, t - 4 * B, 8 * B, "truncating");
	check(b, t, B, "truncating");
	if (ftruncate(fd_a, old))
		t_fail("%s: ftruncate to %llu: %s", where, (unsigned long long)old, strerror(errno));
	memset(data + t / B, 0, (old - t) / B);
	size = old;
	check(b, t, 8 * B, "truncating up again");
	check(b, t - 4 * B, 8 * B, "truncating up again");
	refill(b, t, old - t);
}

static void collapse(const struct ft_buf *b, uint64_t *seed)
{
	uint64_t len = (1 + rnd(seed) % 16) * B;
	int n = atomic_load(&nshifts);

	if (n == MAX_SHIFTS)
		return;
	/* the loader may see the new layout as soon as the call starts */
	atomic_store(&shifts[n], shift + len);
	atomic_store(&nshifts, n + 1);
	ft_fallocate(fd_a, FALLOC_FL_COLLAPSE_RANGE, 0, len, "collapse");
	shift += len;
	memmove(data, data + len / B, NBLK - len / B);
	size -= len;
	check(b, 0, 64 * FT_KIB, "a collapse");
	check(b, size - 8 * B, 16 * B, "a collapse");
	refill(b, size, len);
}

static void test(struct ft_fs *f, int kind)
{
	unsigned long rounds = t_scale(45), i, nload, nforeign;
	struct ft_buf b, lb;
	pthread_t lthr, fthr;
	uint64_t seed = 0xfeed + kind;
	unsigned char *want;
	void *rv;

	where = ft_where(f, kind);
	cur_fs = f;
	fd_a = ft_create(f, "a", 0);
	dt_dev_fill(fd_a, 0, SIZE, S_A);
	memset(data, 1, NBLK);
	size = SIZE;
	shift = 0;
	atomic_store(&shifts[0], 0);
	atomic_store(&nshifts, 1);
	ft_buf_alloc(&b, kind, RMAX);
	ft_buf_alloc(&lb, kind, LQD * LMAX);
	ft_register(&ring, 0, &b, fd_a);

	atomic_store(&stop, 0);
	if (pthread_create(&lthr, NULL, loader, &lb) ||
	    pthread_create(&fthr, NULL, foreign, NULL))
		t_fail("pthread_create");
	for (i = 0; i < rounds; i++) {
		switch (i % 3) {
		case 0:
			punch(&b, &seed);
			break;
		case 1:
			truncate_(&b, &seed);
			break;
		default:
			collapse(&b, &seed);
			break;
		}
	}
	atomic_store(&stop, 1);
	pthread_join(lthr, &rv);
	nload = (unsigned long)rv;
	pthread_join(fthr, &rv);
	nforeign = (unsigned long)rv;
	ft_clear(&ring, 0);
	ft_buf_free(&b);
	ft_buf_free(&lb);
	ft_expect_size(fd_a, size, "%s: at the end", where);
	close(fd_a);

	want = t_malloc(size);
	t_fill(want, size, shift, S_A);
	for (i = 0; i < size / B; i++)
		if (!data[i])
			memset(want + i * B, 0, B);
	if (ft_file_cmp(ft_path(f, "a"), 0, want, size, where))
		t_fail("%s: the file does not hold what the model says", where);
	free(want);
	unlink(ft_path(f, "a"));
	unlink(ft_path(f, "b"));
	printf("%s: %lu punches, truncates and collapses checked; %lu loader reads, %lu foreign fills\n",
	       where, rounds, nload, nforeign);
}

int main(void)
{
	ft_start();
	return ft_run(&ring, 8, test, FT_NKINDS, 16, NULL);
}
