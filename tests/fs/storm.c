// SPDX-License-Identifier: MIT
/*
 * Invalidation storm on a file target, on ext4 and xfs: queue depth 16 of
 * mixed READ_FIXED and WRITE_FIXED between a file and a dma-buf of the
 * dmabuf-mover test exporter (tests/modules/dmabuf-mover), while another
 * thread moves the buffer to new pages as fast as it can.  Every move
 * invalidates the mapping the file system's bios use; the exporter waits
 * for the importer's fences, copies the contents and poisons the old pages.
 *
 * Every I/O must complete with its full length or -EAGAIN (reissued and
 * counted).  Reads are checked in the buffer on completion, writes by a
 * plain O_DIRECT pread of the file; at the end the file is read with
 * read(2) through the page cache after dropping it, and the exporter must
 * have seen no byte of old pages written after their move and no old page
 * set left mapped.  At least 100 moves and 150 I/Os per file system
 * (t_scale()); the I/Os, slowed by the moves, take longer.
 */
#include "fs-buf.h"

#include <pthread.h>
#include <stdatomic.h>

#include "../inval/mover.h"

#define QD		16
#define BUF_SIZE	(1U << 20)
#define SRC_SIZE	(BUF_SIZE / 2)		/* first half: write source */
#define SLOT_SIZE	(SRC_SIZE / QD)		/* second half: a read target per request */
#define MAX_IO		(16 * FT_KIB)
#define READ_AREA	(4ULL << 20)		/* file: [0, READ_AREA) read */
#define FILE_SIZE	(READ_AREA + QD * MAX_IO)	/* then a write window per request */
#define SEED_FILE	0x5eed
#define SEED_SRC	0xb0f

struct req {
	int write;
	unsigned int len;
	uint64_t buf_off, off;
};

static int mover_dev, mover_buf;
static unsigned long want_moves, want_ios, move_errors;
static atomic_ulong nr_moves, nr_ios;
static unsigned char *map;

static int storm_done(void)
{
	return atomic_load(&nr_moves) >= want_moves && atomic_load(&nr_ios) >= want_ios;
}

static void *mover_thread(void *arg)
{
	(void)arg;
	while (!storm_done()) {
		if (mover_move(mover_dev, mover_buf, 20000))
			move_errors++;
		else
			atomic_fetch_add(&nr_moves, 1);
	}
	return NULL;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void next_req(struct req *r, unsigned int i, uint64_t *seed)
{
	r->write = rnd(seed) & 1;
	r->len = (1 + rnd(seed) % (MAX_IO / 512)) * 512;
	if (r->write) {
		r->buf_off = rnd(seed) % ((SRC_SIZE - r->len) / 512) * 512;
		r->off = READ_AREA + (uint64_t)i * MAX_IO;
	} else {
		r->buf_off = SRC_SIZE + (uint64_t)i * SLOT_SIZE;
		r->off = rnd(seed) % ((READ_AREA - r->len) / 512) * 512;
		memset(map + r->buf_off, 0, r->len);
	}
}

static void submit(struct io_uring *ring, int fd, const struct req *r, unsigned int i)
{
	dt_prep(ring, r->write ? IORING_OP_WRITE_FIXED : IORING_OP_READ_FIXED, fd, r->buf_off,
		r->len, r->off, 0, i);
	dt_submit(ring);
}

static void storm(struct ft_fs *f)
{
	unsigned long ios = 0, eagain = 0;
	unsigned char *shadow = t_malloc(FILE_SIZE);
	struct dmabuf_mover_stats st;
	struct req reqs[QD];
	struct io_uring ring;
	uint64_t seed = 0x2468ace;
	unsigned int i, inflight = 0;
	pthread_t thr;
	char what[128];
	int fd, ret;

	ft_mount(f);
	fd = ft_create(f, "storm", 0);
	t_fill(shadow, FILE_SIZE, 0, SEED_FILE);
	if (pwrite(fd, shadow, FILE_SIZE, 0) != (ssize_t)FILE_SIZE)
		t_fail("pwrite: %s", strerror(errno));
	mover_buf = mover_create(mover_dev, BUF_SIZE);
	map = t_mmap(mover_buf, BUF_SIZE, PROT_READ | PROT_WRITE);
	t_fill(map, SRC_SIZE, 0, SEED_SRC);
	if (io_uring_queue_init(2 * QD, &ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(&ring, 1);
	ret = dmabuf_rw_register_dmabuf(&ring, 0, mover_buf, fd);
	if (ret)
		t_fail("%s: registering the mover's dma-buf for a file: %s", f->type, strerror(-ret));

	atomic_store(&nr_moves, 0);
	atomic_store(&nr_ios, 0);
	if (pthread_create(&thr, NULL, mover_thread, NULL))
		t_fail("pthread_create");
	for (i = 0; i < QD; i++, inflight++) {
		next_req(&reqs[i], i, &seed);
		submit(&ring, fd, &reqs[i], i);
	}
	while (inflight) {
		struct io_uring_cqe *cqe;
		struct req *r;

		if (io_uring_wait_cqe(&ring, &cqe))
			t_fail("io_uring_wait_cqe");
		i = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		r = &reqs[i];
		inflight--;
		if (ret == -EAGAIN) {
			eagain++;
			submit(&ring, fd, r, i);
			inflight++;
			continue;
		}
		snprintf(what, sizeof(what), "%s: %s of %u at %llu, buffer +%llu, after %lu moves",
			 f->type, r->write ? "WRITE_FIXED" : "READ_FIXED", r->len,
			 (unsigned long long)r->off, (unsigned long long)r->buf_off,
			 atomic_load(&nr_moves));
		dt_expect_len(ret, r->len, "%s", what);
		if (r->write) {
			t_fill(shadow + r->off, r->len, r->buf_off, SEED_SRC);
			if (ft_dio_cmp(fd, r->off, shadow + r->off, r->len, what))
				t_fail("%s: wrong data in the file", what);
		} else if (t_verify(map + r->buf_off, r->len, r->off, SEED_FILE, what)) {
			t_fail("%s: wrong data in the buffer", what);
		}
		atomic_store(&nr_ios, ++ios);
		if (!storm_done()) {
			next_req(r, i, &seed);
			submit(&ring, fd, r, i);
			inflight++;
		}
	}
	pthread_join(thr, NULL);
	if (t_verify(map, SRC_SIZE, 0, SEED_SRC, "write source after the moves"))
		t_fail("%s: the buffer's contents were lost in a move", f->type);
	ft_clear(&ring, 0);
	io_uring_queue_exit(&ring);
	close(fd);
	st = mover_settle(mover_dev, mover_buf, 10);
	if (ft_file_cmp(ft_path(f, "storm"), 0, shadow, FILE_SIZE, f->type))
		t_fail("%s: the file does not hold what was written", f->type);
	unlink(ft_path(f, "storm"));
	ft_umount(f);
	printf("%s: %lu I/Os verified during %lu moves, %lu -EAGAIN reissued; exporter: %llu maps, %llu retired, %llu still mapped, %llu stale bytes\n",
	       f->type, ios, atomic_load(&nr_moves), eagain, (unsigned long long)st.maps,
	       (unsigned long long)st.retired, (unsigned long long)st.pending,
	       (unsigned long long)st.stale_bytes);
	if (move_errors)
		t_fail("%s: %lu moves failed", f->type, move_errors);
	if (st.stale_bytes)
		t_fail("%s: %llu bytes written to old pages after their move", f->type,
		       (unsigned long long)st.stale_bytes);
	if (st.pending)
		t_fail("%s: %llu old page sets still mapped after unregistering", f->type,
		       (unsigned long long)st.pending);
	if (st.maps < 2)
		t_fail("%s: the importer never remapped (%llu maps)", f->type,
		       (unsigned long long)st.maps);
	munmap(map, BUF_SIZE);
	close(mover_buf);
	free(shadow);
}

int main(void)
{
	int nfs = ft_start(), i;

	mover_dev = mover_open();
	want_moves = t_scale(100);
	want_ios = t_scale(150);
	for (i = 0; i < nfs; i++)
		storm(&ft_fs[i]);
	dt_report();
	return T_EXIT_PASS;
}
