// SPDX-License-Identifier: MIT
/*
 * dmabuf-io bench: one thread.  It owns a ring and qd buffer slots of bs
 * bytes, keeps qd I/Os in flight and times each from submission to
 * completion (for bounce: until the data is in the dma-buf).
 *
 *   plain   IORING_OP_READ/WRITE into host memory: mapped for DMA per I/O
 *   fixed   READ_FIXED/WRITE_FIXED on a registered host buffer: pinned
 *           once, still mapped for DMA per I/O
 *   dmabuf  READ_FIXED/WRITE_FIXED on a dma-buf registered for the target:
 *           mapped once, SQE addr = offset into the dma-buf
 *   bounce  plain I/O into host memory plus a CPU copy to (reads) or from
 *           (writes) the dma-buf's mmap, bracketed by DMA_BUF_IOCTL_SYNC
 *   premapped  READ_FIXED/WRITE_FIXED on host memory registered with
 *           IO_REGBUF_F_TARGET for the target: pinned and mapped once,
 *           SQE addr a pointer as for fixed (where the kernel could not
 *           keep the mapping, w->premapped says so)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <linux/dma-buf.h>

#include "dmabuf-io.h"
#include "dmabuf-rw.h"

static void *dio_host_alloc(size_t size)
{
	void *p;

	if (posix_memalign(&p, 4096, size))
		return NULL;
	memset(p, 0xa5, size);		/* written data is not all zeroes */
	return p;
}

/* The dma-buf's CPU view gets the host buffers' pattern. */
static int dio_dmabuf_fill(struct dio_worker *w)
{
	int ret = dio_dmabuf_sync(&w->dbuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);

	if (!ret) {
		memset(w->dbuf.map, 0xa5, w->dbuf.size);
		ret = dio_dmabuf_sync(&w->dbuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	}
	if (ret)
		dio_err("DMA_BUF_IOCTL_SYNC: %s", strerror(-ret));
	return ret;
}

static int dio_worker_setup(struct dio_worker *w)
{
	struct dio_bench *b = w->b;
	size_t area = (size_t)b->qd * b->bs;
	uint64_t span, per_job;
	struct iovec iov;
	int ret;

	dio_histo_init(&w->lat);
	w->rng = 0x9e3779b97f4a7c15ULL * (w->id + 1) ^ dio_now_ns();
	/* sequential jobs each walk their own part of the area */
	span = b->size / b->bs;
	per_job = b->random ? span : span / b->jobs;
	w->area_start = b->offset + (b->random ? 0 : per_job * w->id * b->bs);
	w->area_end = w->area_start + per_job * b->bs;
	w->next_seq = w->area_start;
	w->issued_ns = calloc(b->qd, sizeof(*w->issued_ns));
	w->slot_off = calloc(b->qd, sizeof(*w->slot_off));
	w->again = calloc(b->qd, sizeof(*w->again));
	if (!w->issued_ns || !w->slot_off || !w->again) {
		dio_err("out of memory");
		return -1;
	}

	ret = dio_ring_init(&w->ring, b->qd, b->poll);
	if (ret) {
		dio_err("io_uring_queue_init(%u%s): %s", b->qd,
			b->poll ? ", IOPOLL" : "", strerror(-ret));
		return -1;
	}
	if (b->mode != DIO_DMABUF && b->scatter) {
		w->host = dio_scatter_alloc(area, 0xa5);
		if (!w->host)
			return -1;
		w->host_scattered = area;
	} else if (b->mode != DIO_DMABUF) {
		w->host = dio_host_alloc(area);
		if (!w->host) {
			dio_err("cannot allocate %zu bytes of host memory", area);
			return -1;
		}
	}
	if (b->mode == DIO_FIXED) {
		iov = (struct iovec){ w->host, area };
		ret = io_uring_register_buffers(&w->ring, &iov, 1);
		if (ret) {
			dio_err("io_uring_register_buffers (%zu bytes): %s%s", area,
				strerror(-ret), ret == -ENOMEM ?
				" (RLIMIT_MEMLOCK too low? ulimit -l)" : "");
			return -1;
		}
	}
	if (dio_mode_dmabuf(b->mode) && b->scatter && !strcmp(b->dmabuf_spec, "udmabuf")) {
		if (dio_scatter_udmabuf(&w->dbuf, area))
			return -1;
		w->dbuf.no_map = b->no_map;
	} else if (dio_mode_dmabuf(b->mode)) {
		if (dio_dmabuf_create(&w->dbuf, b->dmabuf_spec, area))
			return -1;
		w->dbuf.no_map = b->no_map;
	}
	if (b->mode == DIO_BOUNCE && dio_dmabuf_map(&w->dbuf, true))
		return -1;
	/*
	 * Written data is a pattern in every mode, not zeroes, which a
	 * compressing or deduplicating drive would store for free.  A dma-buf
	 * without a CPU view goes to the drive as its exporter left it.
	 */
	if ((b->mode == DIO_BOUNCE || b->write) && w->dbuf.fd >= 0 &&
	    (w->dbuf.map || !dio_dmabuf_map(&w->dbuf, false)) && dio_dmabuf_fill(w))
		return -1;
	if (b->mode == DIO_DMABUF) {
		ret = io_uring_register_buffers_sparse(&w->ring, 1);
		if (ret) {
			dio_err("io_uring_register_buffers_sparse: %s", strerror(-ret));
			return -1;
		}
		if (dio_dmabuf_register(&w->ring, 0, &w->dbuf, &b->target))
			return -1;
	}
	if (b->mode == DIO_PREMAPPED) {
		ret = io_uring_register_buffers_sparse(&w->ring, 1);
		if (ret) {
			dio_err("io_uring_register_buffers_sparse: %s", strerror(-ret));
			return -1;
		}
		/* the same memory as fixed: only the registration differs */
		ret = dio_premap_register(&w->ring, 0, w->host, area, &b->target);
		if (ret < 0)
			return -1;
		w->premapped = ret;
	}
	return 0;
}

void dio_worker_teardown(struct dio_worker *w)
{
	if (w->ring.ring_fd > 0)
		io_uring_queue_exit(&w->ring);
	dio_dmabuf_destroy(&w->dbuf);
	if (w->host_scattered)
		dio_scatter_free(w->host, w->host_scattered);
	else
		free(w->host);
	free(w->issued_ns);
	free(w->slot_off);
	free(w->again);
}

static uint64_t dio_next_offset(struct dio_worker *w)
{
	const struct dio_bench *b = w->b;
	uint64_t off, x;

	if (!b->random) {
		off = w->next_seq;
		w->next_seq += b->bs;
		if (w->next_seq >= w->area_end)
			w->next_seq = w->area_start;
		return off;
	}
	/* xorshift64*, scaled to the number of blocks */
	x = w->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	x *= 0x2545f4914f6cdd1dULL;
	return w->area_start +
	       (uint64_t)(((unsigned __int128)x * ((w->area_end - w->area_start) / b->bs)) >> 64) * b->bs;
}

/* CPU copy between slot i's host memory and the dma-buf; to_dmabuf: reads */
static int dio_bounce_copy(struct dio_worker *w, unsigned int i, bool to_dmabuf)
{
	const struct dio_bench *b = w->b;
	unsigned long long dir = to_dmabuf ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ;
	size_t off = (size_t)i * b->bs;
	int ret;

	ret = dio_dmabuf_sync(&w->dbuf, DMA_BUF_SYNC_START | dir);
	if (ret)
		return ret;
	if (to_dmabuf)
		memcpy(w->dbuf.map + off, w->host + off, b->bs);
	else
		memcpy(w->host + off, w->dbuf.map + off, b->bs);
	return dio_dmabuf_sync(&w->dbuf, DMA_BUF_SYNC_END | dir);
}

/* Prepare the I/O of slot i at its offset; the SQE is there (qd entries). */
static void dio_prep(struct dio_worker *w, unsigned int i)
{
	const struct dio_bench *b = w->b;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
	int fd = b->target.fd;
	uint64_t off = w->slot_off[i];
	unsigned char *buf = w->host + (size_t)i * b->bs;

	switch (b->mode) {
	case DIO_PLAIN:
	case DIO_BOUNCE:
		if (b->write)
			io_uring_prep_write(sqe, fd, buf, b->bs, off);
		else
			io_uring_prep_read(sqe, fd, buf, b->bs, off);
		break;
	case DIO_FIXED:
	case DIO_PREMAPPED:
		if (b->write)
			io_uring_prep_write_fixed(sqe, fd, buf, b->bs, off, 0);
		else
			io_uring_prep_read_fixed(sqe, fd, buf, b->bs, off, 0);
		break;
	case DIO_DMABUF:
		/* a dma-buf slot's address space starts at 0 */
		if (b->write)
			dmabuf_rw_prep_write(sqe, fd, 0, w->dbuf.base + (uint64_t)i * b->bs,
					     b->bs, off);
		else
			dmabuf_rw_prep_read(sqe, fd, 0, w->dbuf.base + (uint64_t)i * b->bs,
					    b->bs, off);
		break;
	}
	io_uring_sqe_set_data64(sqe, i);
}

/* Start a new I/O in slot i. */
static int dio_issue(struct dio_worker *w, unsigned int i)
{
	w->issued_ns[i] = dio_now_ns();
	w->slot_off[i] = dio_next_offset(w);
	if (w->b->mode == DIO_BOUNCE && w->b->write) {
		int ret = dio_bounce_copy(w, i, false);

		if (ret) {
			dio_err("DMA_BUF_IOCTL_SYNC: %s", strerror(-ret));
			return -1;
		}
	}
	dio_prep(w, i);
	w->issued++;
	return 0;
}

static bool dio_more(struct dio_worker *w, uint64_t now_ns)
{
	if (atomic_load_explicit(&dio_stop, memory_order_relaxed))
		return false;
	if (w->quota)
		return w->issued < w->quota;
	return now_ns / 1e9 < w->deadline;
}

/* One completion: 1 if slot i is free again, 0 if reissued, -1 on error. */
static int dio_complete(struct dio_worker *w, unsigned int i, int res)
{
	const struct dio_bench *b = w->b;
	int ret;

	if (res == -EAGAIN && ++w->again[i] < DIO_EAGAIN_MAX) {
		/* documented: the mapping was invalidated under the I/O */
		w->eagain++;
		dio_prep(w, i);
		return 0;
	}
	if (res == -EAGAIN) {
		dio_err("an I/O failed with -EAGAIN %u times in a row: the exporter keeps "
			"moving the dma-buf", DIO_EAGAIN_MAX);
		return -1;
	}
	w->again[i] = 0;
	if (res != (int)b->bs) {
		char buf[512];
		/* a file: holes, unwritten extents, the page cache in the way */
		const char *why = b->mode == DIO_DMABUF || b->mode == DIO_PREMAPPED ?
			dio_file_io_why(&b->target, b->write, res, b->bs, buf, sizeof(buf)) : NULL;

		dio_err("%s of %u bytes at offset %llu on %s: %s", b->write ? "write" : "read",
			b->bs, (unsigned long long)w->slot_off[i], b->target.path,
			why ? why : res < 0 ? strerror(-res) : "short transfer");
		return -1;
	}
	if (b->mode == DIO_BOUNCE && !b->write) {
		ret = dio_bounce_copy(w, i, true);
		if (ret) {
			dio_err("DMA_BUF_IOCTL_SYNC: %s", strerror(-ret));
			return -1;
		}
	}
	dio_histo_add(&w->lat, dio_now_ns() - w->issued_ns[i]);
	atomic_store_explicit(&w->done, w->lat.count, memory_order_relaxed);
	return 1;
}

static int dio_loop(struct dio_worker *w)
{
	const struct dio_bench *b = w->b;
	unsigned int i, inflight = 0;
	struct io_uring_cqe *cqe;
	unsigned int head, seen;
	int ret;

	for (i = 0; i < b->qd && dio_more(w, dio_now_ns()); i++, inflight++)
		if (dio_issue(w, i))
			return -1;
	while (inflight) {
		ret = io_uring_submit_and_wait(&w->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			dio_err("io_uring_submit_and_wait: %s", strerror(-ret));
			return -1;
		}
		seen = 0;
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			seen++;
			i = cqe->user_data;
			ret = dio_complete(w, i, cqe->res);
			if (ret < 0)
				return -1;
			if (!ret)
				continue;
			if (dio_more(w, dio_now_ns())) {
				if (dio_issue(w, i))
					return -1;
			} else {
				inflight--;
			}
		}
		io_uring_cq_advance(&w->ring, seen);
	}
	return 0;
}

/*
 * The thread sets up its own ring (SINGLE_ISSUER and DEFER_TASKRUN tie a
 * ring to the task that created it), waits until every thread is ready,
 * runs, and leaves teardown to the caller.
 */
void *dio_worker_run(void *arg)
{
	struct dio_worker *w = arg;
	struct dio_bench *b = w->b;

	if (dio_worker_setup(w)) {
		w->failed = 1;
		atomic_store(&b->setup_failed, 1);
	}
	/* all set up; then go (bench.c calibrates --cpu system in between) */
	pthread_barrier_wait(w->start);
	pthread_barrier_wait(w->start);
	if (atomic_load(&b->setup_failed)) {
		atomic_store(&w->finished, 1);
		return NULL;
	}
	w->t_start = dio_now();
	if (!b->ios)
		w->deadline = w->t_start + b->seconds;
	if (dio_loop(w)) {
		w->failed = 1;
		atomic_store(&dio_stop, 1);
	}
	w->t_end = dio_now();
	atomic_store(&w->finished, 1);
	return NULL;
}
