// SPDX-License-Identifier: MIT
/*
 * Memory accounting: after a warm-up round, register and unregister
 * dma-bufs 10,000 times (with an I/O through every tenth registration) and
 * check that nothing is left behind: the test exporter has no attachment
 * or mapping left, the process has the fds it started with, unreclaimable
 * slab has not grown, and, on a kernel with kmemleak, a scan finds no new
 * leak.  On a debug kernel (t_scale()) 1,000 cycles: kmemleak judges
 * there, and it finds a single leaked object.
 */
#include "test.h"
#include "dmabuf-rw.h"
#include "leak-check.h"
#include "../inval/mover.h"

#define CYCLES		10000
#define BUF_SIZE	(256U << 10)
/* 10,000 leaked tokens, attachments or maps would be several MiB */
#define SLAB_SLACK_KB	1024

/*
 * n times: register both buffers, sometimes read through one, clear both.
 * With no I/O in flight, clearing a slot must take its mapping down before
 * it returns: mappings left to be undone later would pile up in a loop like
 * this one (and trip DMA-API debugging's limit on overlapping mappings).
 */
static void cycles(struct io_uring *ring, int n, int dev, int mbuf, int ubuf, int fd)
{
	struct dmabuf_mover_stats st;
	int ret;

	for (int i = 0; i < n; i++) {
		ret = dmabuf_rw_register_dmabuf(ring, 0, mbuf, fd);
		if (ret < 0)
			t_fail("cycle %d: register mover buffer: %s", i, strerror(-ret));
		ret = dmabuf_rw_register_dmabuf(ring, 1, ubuf, fd);
		if (ret < 0)
			t_fail("cycle %d: register udmabuf: %s", i, strerror(-ret));
		if (!(i % 10)) {
			ret = t_io(ring, IORING_OP_READ_FIXED, fd, 0, 4096, 0, i & 1);
			if (ret != 4096)
				t_fail("cycle %d: read: %d", i, ret);
		}
		if (dmabuf_rw_clear_buffer(ring, 0) || dmabuf_rw_clear_buffer(ring, 1))
			t_fail("cycle %d: clear", i);
		st = mover_stats(dev, mbuf);
		if (st.attachments || st.mapped)
			t_fail("cycle %d: slot cleared with no I/O in flight, but the exporter still has %llu attachments and %llu mappings",
			       i, (unsigned long long)st.attachments, (unsigned long long)st.mapped);
	}
}

int main(void)
{
	struct dmabuf_mover_stats st;
	long slab0, slab1;
	int dev, mbuf, ubuf, fd, fds0, fds1, have_kmemleak, n = t_scale(CYCLES);
	struct io_uring ring;

	t_require_dmabuf_io();
	dev = mover_open();
	mbuf = mover_create(dev, BUF_SIZE);
	ubuf = dmabuf_rw_udmabuf_create(BUF_SIZE, NULL);
	if (ubuf < 0)
		t_fail("udmabuf: %s", strerror(-ubuf));
	fd = t_open_nvme(0, 0);
	if (io_uring_queue_init(8, &ring, 0) || io_uring_register_buffers_sparse(&ring, 2))
		t_fail("ring setup");

	/*
	 * A first round brings the slab caches, io_uring's caches and the
	 * reservation object's fence list to their steady state; only the
	 * second round is measured.
	 */
	cycles(&ring, n / 5, dev, mbuf, ubuf, fd);
	have_kmemleak = !leak_kmemleak("clear");
	fds0 = leak_count_fds();
	slab0 = t_proc_kb("/proc/meminfo", "SUnreclaim");
	cycles(&ring, n, dev, mbuf, ubuf, fd);

	st = mover_stats(dev, mbuf);
	fds1 = leak_count_fds();
	slab1 = t_proc_kb("/proc/meminfo", "SUnreclaim");
	printf("%d cycles of two registrations: %llu maps made; slab %+ld KiB, fds %d -> %d\n",
	       n, (unsigned long long)st.maps, slab1 - slab0, fds0, fds1);
	if (st.attachments || st.mapped)
		t_fail("exporter still has %llu attachments and %llu mappings",
		       (unsigned long long)st.attachments, (unsigned long long)st.mapped);
	if (st.maps < (unsigned long long)(n + n / 5))
		t_fail("only %llu maps for %d registrations", (unsigned long long)st.maps,
		       n + n / 5);
	if (fds1 != fds0)
		t_fail("fd count changed: %d -> %d", fds0, fds1);
	/*
	 * Debug kernels (kmemleak, and KASAN's quarantine of freed objects)
	 * grow the slab on their own: there kmemleak is the judge.
	 */
	if (!have_kmemleak && slab1 - slab0 > SLAB_SLACK_KB)
		t_fail("unreclaimable slab grew by %ld KiB over %d cycles", slab1 - slab0, n);

	if (have_kmemleak)
		leak_kmemleak_check();
	io_uring_queue_exit(&ring);
	close(fd);
	close(ubuf);
	close(mbuf);
	return T_EXIT_PASS;
}
