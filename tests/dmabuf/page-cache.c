// SPDX-License-Identifier: MIT
/*
 * A dma-buf write to a block device whose page cache is in the way.  Before
 * direct writes the page cache of the range is written back and dropped;
 * pages that are dirtied again in between cannot be dropped (-EBUSY).  A
 * page-based direct write then falls back to a buffered write, which a
 * dma-buf write must never do (the CPU would copy out of the dma-buf): it
 * must fail with -EBUSY, not complete with 0 bytes (which io_uring users
 * see as a short write that moved nothing, and retry forever).
 *
 * One thread keeps dirtying the first page of the range through a shared
 * mapping of the block device while the test writes the range from a
 * dma-buf again and again.  Every write must move all its bytes or fail
 * with -EBUSY.  Not -EAGAIN either: a udmabuf never moves, so there is no
 * invalidation to retry after, and a write that moved nothing comes back
 * from io_uring as -EAGAIN (the rest of a short write) forever.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "dmabuf-test.h"

#define LEN	(64U << 10)
#define OFF	(32ULL << 20)
#define WRITES	2000

static atomic_int stop;
static volatile unsigned char *dev_map;

static void *dirtier(void *arg)
{
	unsigned char v = 0;

	(void)arg;
	while (!atomic_load(&stop))
		dev_map[v % 64] = v, v++;
	return NULL;
}

int main(void)
{
	unsigned long full = 0, busy = 0;
	struct io_uring ring;
	struct dt_buf b;
	pthread_t thr;
	int fd, ret;

	dt_require();
	fd = t_open_nvme(0, 0);
	dt_udmabuf(&b, 1 << 20);
	dev_map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, OFF);
	if (dev_map == MAP_FAILED)
		t_fail("mmap of the block device: %s", strerror(errno));
	if (io_uring_queue_init(4, &ring, 0) || io_uring_register_buffers_sparse(&ring, 1))
		t_fail("ring setup");
	ret = dmabuf_rw_register_dmabuf(&ring, 0, b.fd, fd);
	if (ret < 0)
		t_fail("register: %s", strerror(-ret));
	if (pthread_create(&thr, NULL, dirtier, NULL))
		t_fail("pthread_create");

	for (int i = 0; i < WRITES; i++) {
		ret = t_io(&ring, IORING_OP_WRITE_FIXED, fd, 0, LEN, OFF, 0);
		if (ret == LEN)
			full++;
		else if (ret == -EBUSY)
			busy++;
		else
			t_fail("write %d with the page cache dirtied under it: %d (%s), want %u or -EBUSY",
			       i, ret, ret < 0 ? strerror(-ret) : "short", LEN);
	}
	atomic_store(&stop, 1);
	pthread_join(thr, NULL);
	printf("%d writes: %lu complete, %lu -EBUSY\n", WRITES, full, busy);
	io_uring_queue_exit(&ring);
	munmap((void *)dev_map, 4096);
	dt_buf_free(&b);
	close(fd);
	return T_EXIT_PASS;
}
