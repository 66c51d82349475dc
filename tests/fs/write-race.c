// SPDX-License-Identifier: MIT
/*
 * WRITE_FIXED in flight while the file's blocks are punched out and
 * truncated away, on ext4 and xfs, with a udmabuf and with a premapped
 * buffer: no write may land in a block the file no longer owns.
 *
 * The main thread keeps 8 random WRITE_FIXED of A's pattern in flight on
 * file A (4 MiB) while a thread punches random ranges of A and truncates
 * it down and back up, and a third fills file B with its own pattern, checks
 * it with a plain O_DIRECT pread and empties it again, so that the blocks
 * A gives up are soon B's: a write that reached a freed block shows up in
 * B.  Free space starts full of a pattern no file holds.  At the end every
 * sector of A, read with read(2) through the page cache after dropping it,
 * holds A's pattern or zeroes (a hole), nothing else.
 */
#include "fs-buf.h"

#include <pthread.h>
#include <stdatomic.h>

#define B		4096U
#define SIZE		(4 * DT_MIB)
#define QD		8
#define WMAX		(128 * FT_KIB)
#define S_A		0xa1a1
#define S_B		0xb1b1

static struct io_uring ring;
static int fd_a;
static const struct ft_fs *cur_fs;
static atomic_int stop;
static const char *where;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Punches and truncates of A, until the writes are done. */
static void *shrinker(void *arg)
{
	uint64_t seed = 0x77aa;
	unsigned long n = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		uint64_t len = (1 + rnd(&seed) % 64) * B, off = rnd(&seed) % ((SIZE - len) / B) * B;

		if (n++ % 2)
			ft_fallocate(fd_a, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len,
				     "punching under writes");
		else if (ftruncate(fd_a, off) || ftruncate(fd_a, SIZE))
			t_fail("%s: truncating under writes: %s", where, strerror(errno));
		usleep(1000);
	}
	return (void *)n;
}

/* B: filled, checked, emptied, again and again. */
static void *foreign(void *arg)
{
	int fd = ft_create(cur_fs, "b", 0);
	unsigned long n = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		dt_dev_fill(fd, 0, DT_MIB, S_B);
		if (dt_dev_verify(fd, 0, DT_MIB, S_B, "file B"))
			t_fail("%s: file B lost its data while A was written and shrunk", where);
		if (ftruncate(fd, 0))
			t_fail("foreign: ftruncate: %s", strerror(errno));
		n++;
	}
	close(fd);
	return (void *)n;
}

struct req {
	unsigned int len;
	uint64_t off;
};

static void issue(const struct ft_buf *b, struct req *r, unsigned int i, uint64_t *seed)
{
	r->len = (1 + rnd(seed) % (WMAX / B)) * B;
	r->off = rnd(seed) % ((SIZE - r->len) / B + 1) * B;
	ft_fill(b, (size_t)i * WMAX, r->len, r->off, S_A);
	ft_prep(&ring, 1, fd_a, b, 0, (size_t)i * WMAX, r->len, r->off, i);
}

static void test(struct ft_fs *f, int kind)
{
	unsigned long n = t_scale(400), done = 0, nshrink, nforeign;
	unsigned char *buf = t_malloc(SIZE), zero[512] = { 0 };
	unsigned int i, inflight = 0;
	uint64_t seed = 0x3141 + kind, o;
	struct req reqs[QD];
	pthread_t sthr, fthr;
	struct ft_buf b;
	void *rv;
	int ret;

	where = ft_where(f, kind);
	cur_fs = f;
	fd_a = ft_create(f, "a", 0);
	dt_dev_fill(fd_a, 0, SIZE, S_A);
	ft_buf_alloc(&b, kind, QD * WMAX);
	ft_register(&ring, 0, &b, fd_a);

	atomic_store(&stop, 0);
	if (pthread_create(&sthr, NULL, shrinker, NULL) ||
	    pthread_create(&fthr, NULL, foreign, NULL))
		t_fail("pthread_create");
	for (i = 0; i < QD; i++, inflight++)
		issue(&b, &reqs[i], i, &seed);
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
			ft_prep(&ring, 1, fd_a, &b, 0, (size_t)i * WMAX, r->len, r->off, i);
			dt_submit(&ring);
			continue;
		}
		dt_expect_len(ret, r->len, "%s: WRITE_FIXED of %u at %llu while shrinking",
			      where, r->len, (unsigned long long)r->off);
		inflight--;
		if (++done + inflight < n) {
			issue(&b, r, i, &seed);
			dt_submit(&ring);
			inflight++;
		}
	}
	atomic_store(&stop, 1);
	pthread_join(sthr, &rv);
	nshrink = (unsigned long)rv;
	pthread_join(fthr, &rv);
	nforeign = (unsigned long)rv;
	ft_clear(&ring, 0);
	ft_buf_free(&b);
	close(fd_a);

	if (ft_file_read(ft_path(f, "a"), buf, 0, SIZE) != SIZE)
		t_fail("%s: A is not %u bytes long", where, SIZE);
	for (o = 0; o < SIZE; o += 512) {
		static const struct ft_cand a = { 0, S_A };

		if (!memcmp(buf + o, zero, 512))
			continue;
		if (ft_accept(buf + o, 512, o, &a, 1, where))
			t_fail("%s: A holds neither its data nor a hole at %llu", where,
			       (unsigned long long)o);
	}
	free(buf);
	unlink(ft_path(f, "a"));
	unlink(ft_path(f, "b"));
	printf("%s: %lu writes during %lu punches and truncates, %lu fills of B checked: ok\n",
	       where, done, nshrink, nforeign);
}

int main(void)
{
	ft_start();
	return ft_run(&ring, 2 * QD, test, FT_NKINDS, 16, NULL);
}
