// SPDX-License-Identifier: MIT
/*
 * Invalidation storm: queue depth 32 of mixed READ_FIXED and WRITE_FIXED on
 * a dma-buf from the dmabuf-mover test exporter, while another thread moves
 * the buffer to new pages as fast as it can.  Every move invalidates the
 * importer's mapping; the exporter waits for the importer's fences, copies
 * the contents and poisons the old pages.
 *
 * Every I/O must complete with its full length or -EAGAIN (reissued, and
 * counted).  Reads are verified in the buffer right after they complete,
 * writes by reading the device back; data that went to or came from old
 * pages shows up as poison or missing data.  At the end the exporter must
 * have seen no byte of old pages written after their move.
 *
 * The storm lasts 1,000 moves and 1,000 I/Os (dmabuf_rw.storm_moves=,
 * dmabuf_rw.storm_ios=), a tenth of them on a debug kernel (t_scale()).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

#include "test.h"
#include "dmabuf-rw.h"
#include "mover.h"

#define QD		32
#define BUF_SIZE	(1U << 20)		/* dma-buf size */
#define SRC_SIZE	(BUF_SIZE / 2)		/* first half: write source */
#define SLOT_SIZE	(SRC_SIZE / QD)		/* read target per request */
#define MAX_IO		(16U << 10)
#define READ_AREA	(0ULL)			/* device: pattern for reads */
#define READ_AREA_SIZE	(16ULL << 20)
#define WRITE_AREA	(32ULL << 20)		/* device: QD write windows */
#define SEED_DEV	0x5eed
#define SEED_SRC	0xb0f

struct req {
	int write;
	uint32_t len;
	uint64_t buf_off, dev_off;
};

static int mover_dev, mover_buf;
static unsigned long move_errors, want_moves, want_ios;
static atomic_ulong nr_moves, nr_ios;

/* The storm lasts until there were enough moves and enough I/O. */
static int storm_done(void)
{
	return atomic_load(&nr_moves) >= want_moves &&
	       atomic_load(&nr_ios) >= want_ios;
}

static void *mover_thread(void *arg)
{
	(void)arg;
	while (!storm_done()) {
		int ret = mover_move(mover_dev, mover_buf, 20000);

		if (ret)
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

static unsigned int lbs;
static unsigned char *map;

/* A new random request for queue slot i; reads clear their target first. */
static void next_req(struct req *r, unsigned int i, uint64_t *seed)
{
	r->write = rnd(seed) & 1;
	r->len = (1 + rnd(seed) % (MAX_IO / lbs)) * lbs;
	if (r->write) {
		r->buf_off = rnd(seed) % ((SRC_SIZE - r->len) / lbs) * lbs;
		r->dev_off = WRITE_AREA + (uint64_t)i * MAX_IO;
	} else {
		r->buf_off = SRC_SIZE + (uint64_t)i * SLOT_SIZE;
		r->dev_off = READ_AREA +
			rnd(seed) % ((READ_AREA_SIZE - r->len) / lbs) * lbs;
		memset(map + r->buf_off, 0, r->len);
	}
}

static void submit(struct io_uring *ring, int fd, struct req *r, unsigned int i)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (r->write)
		io_uring_prep_write_fixed(sqe, fd, (void *)(uintptr_t)r->buf_off,
					  r->len, r->dev_off, 0);
	else
		io_uring_prep_read_fixed(sqe, fd, (void *)(uintptr_t)r->buf_off,
					 r->len, r->dev_off, 0);
	sqe->user_data = i;
	io_uring_submit(ring);
}

/* Check a completed request's data; fail the test on any difference. */
static void verify(int fd, struct req *r, unsigned char *tmp, unsigned long n)
{
	char what[64];

	snprintf(what, sizeof(what), "%s %lu", r->write ? "write" : "read", n);
	if (r->write) {
		if (pread(fd, tmp, r->len, r->dev_off) != (ssize_t)r->len)
			t_fail("pread back: %s", strerror(errno));
		if (t_verify(tmp, r->len, r->buf_off, SEED_SRC, what))
			t_fail("write %lu from buffer offset %llu after %lu moves",
			       n, (unsigned long long)r->buf_off, atomic_load(&nr_moves));
	} else if (t_verify(map + r->buf_off, r->len, r->dev_off, SEED_DEV, what)) {
		t_fail("read %lu into buffer offset %llu after %lu moves",
		       n, (unsigned long long)r->buf_off, atomic_load(&nr_moves));
	}
}

int main(void)
{
	unsigned long ios = 0, bytes = 0, eagain = 0;
	unsigned int i, inflight = 0;
	struct dmabuf_mover_stats st;
	struct req reqs[QD];
	struct io_uring ring;
	uint64_t seed = 0x12345678;
	const char *arg;
	unsigned char *tmp;
	pthread_t thr;
	time_t end;
	int fd, ret;

	t_require_dmabuf_io();
	mover_dev = mover_open();
	mover_buf = mover_create(mover_dev, BUF_SIZE);
	fd = t_open_nvme(0, 0);
	lbs = t_dev_lbsize(fd);
	arg = t_cmdline("dmabuf_rw.storm_moves");
	want_moves = arg ? strtoul(arg, NULL, 0) : t_scale(1000);
	arg = t_cmdline("dmabuf_rw.storm_ios");
	want_ios = arg ? strtoul(arg, NULL, 0) : t_scale(1000);

	/* Device pattern for reads, buffer pattern for writes. */
	tmp = t_malloc(READ_AREA_SIZE);
	t_fill(tmp, READ_AREA_SIZE, READ_AREA, SEED_DEV);
	if (pwrite(fd, tmp, READ_AREA_SIZE, READ_AREA) != (ssize_t)READ_AREA_SIZE)
		t_fail("pwrite read area: %s", strerror(errno));
	map = t_mmap(mover_buf, BUF_SIZE, PROT_READ | PROT_WRITE);
	t_fill(map, SRC_SIZE, 0, SEED_SRC);

	if (io_uring_queue_init(QD * 2, &ring, 0))
		t_fail("io_uring_queue_init");
	if (io_uring_register_buffers_sparse(&ring, 1))
		t_fail("sparse buffer table");
	ret = dmabuf_rw_register_dmabuf(&ring, 0, mover_buf, fd);
	if (ret < 0)
		t_fail("register mover dma-buf: %d (%s)", ret, strerror(-ret));

	if (pthread_create(&thr, NULL, mover_thread, NULL))
		t_fail("pthread_create");

	for (i = 0; i < QD; i++) {
		next_req(&reqs[i], i, &seed);
		submit(&ring, fd, &reqs[i], i);
		inflight++;
	}

	end = time(NULL) + 400;
	while (inflight) {
		struct io_uring_cqe *cqe;
		struct req *r;

		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret)
			t_fail("wait_cqe: %s", strerror(-ret));
		i = cqe->user_data;
		r = &reqs[i];
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		inflight--;

		if (ret == -EAGAIN) {
			/* documented after an invalidation: reissue */
			eagain++;
			submit(&ring, fd, r, i);
			inflight++;
			continue;
		}
		if (ret != (int)r->len)
			t_fail("%s %u at dev %llu buf %llu: res %d (%s)",
			       r->write ? "WRITE_FIXED" : "READ_FIXED", r->len,
			       (unsigned long long)r->dev_off,
			       (unsigned long long)r->buf_off, ret,
			       ret < 0 ? strerror(-ret) : "short");
		verify(fd, r, tmp, ios);
		ios++;
		atomic_store(&nr_ios, ios);
		bytes += r->len;
		if (!storm_done()) {
			next_req(r, i, &seed);
			submit(&ring, fd, r, i);
			inflight++;
		}
		if (time(NULL) > end)
			t_fail("storm did not finish in 400 s (%lu I/Os, %lu moves)",
			       ios, atomic_load(&nr_moves));
	}

	pthread_join(thr, NULL);

	/* The write source must have survived all the moves. */
	if (t_verify(map, SRC_SIZE, 0, SEED_SRC, "write source after moves"))
		t_fail("buffer contents lost in a move");

	ret = dmabuf_rw_clear_buffer(&ring, 0);
	if (ret < 0)
		t_fail("clear slot: %d", ret);
	io_uring_queue_exit(&ring);
	st = mover_settle(mover_dev, mover_buf, 10);

	printf("%lu I/Os (%lu bytes) verified, %lu moves, %lu -EAGAIN retried\n",
	       ios, bytes, atomic_load(&nr_moves), eagain);
	printf("exporter: %llu moves, %llu maps, %llu old page sets retired, "
	       "%llu still mapped, %llu stale bytes\n",
	       (unsigned long long)st.moves, (unsigned long long)st.maps,
	       (unsigned long long)st.retired, (unsigned long long)st.pending,
	       (unsigned long long)st.stale_bytes);
	if (move_errors)
		t_fail("%lu moves failed", move_errors);

	if (st.stale_bytes)
		t_fail("%llu bytes written to old pages after their move",
		       (unsigned long long)st.stale_bytes);
	if (st.pending)
		t_fail("%llu old page sets still mapped after unregistering",
		       (unsigned long long)st.pending);
	if (st.maps < 2)
		t_fail("the importer never remapped (%llu maps)",
		       (unsigned long long)st.maps);
	munmap(map, BUF_SIZE);
	close(mover_buf);
	close(fd);
	return T_EXIT_PASS;
}
