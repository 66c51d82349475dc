// SPDX-License-Identifier: MIT
/*
 * The library on the host's kernel (which lacks dma-buf registered
 * buffers): dmabuf_rw_probe() says -EOPNOTSUPP; updates go through the
 * registered ring fd when the ring's own fd is closed (as after liburing's
 * io_uring_close_ring_fd()), so the kernel sees the request (-EINVAL for
 * the unknown flag here, not -EBADF); dmabuf_rw_heap_alloc() refuses names
 * that leave /dev/dma_heap; the prep helpers put the dma-buf offset, slot
 * and opcode into the SQE.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "dmabuf-rw.h"

static void heap_names(void)
{
	static const char *const bad[] = { "../x", "..", ".", "", "a/b", "/system",
					   "system/../../x" };
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ret = dmabuf_rw_heap_alloc(bad[i], 4096);
		if (ret != -EINVAL)
			t_fail("dmabuf_rw_heap_alloc(\"%s\"): %d, want -EINVAL", bad[i], ret);
	}
	/* a plain name gets as far as the open */
	ret = dmabuf_rw_heap_alloc("no-such-heap-here", 4096);
	if (ret != -ENOENT)
		t_fail("dmabuf_rw_heap_alloc(\"no-such-heap-here\"): %d, want -ENOENT", ret);
}

static void prep(void)
{
	struct io_uring_sqe sqe;

	memset(&sqe, 0xff, sizeof(sqe));
	dmabuf_rw_prep_read(&sqe, 7, 3, 5ULL << 32, 65536, 1ULL << 40);
	t_assert(sqe.opcode == IORING_OP_READ_FIXED && sqe.fd == 7 && sqe.buf_index == 3);
	t_assert(sqe.addr == 5ULL << 32 && sqe.len == 65536 && sqe.off == 1ULL << 40);
	dmabuf_rw_prep_write(&sqe, 8, 1, 4096, 512, 0);
	t_assert(sqe.opcode == IORING_OP_WRITE_FIXED && sqe.fd == 8 && sqe.buf_index == 1);
	t_assert(sqe.addr == 4096 && sqe.len == 512 && sqe.off == 0);
	t_assert(DMABUF_RW_CHECK_VERSION(1, 0) && DMABUF_RW_CHECK_VERSION(1, 1) &&
		 !DMABUF_RW_CHECK_VERSION(1, 99) && !DMABUF_RW_CHECK_VERSION(2, 0));
}

/* io_uring_close_ring_fd() of liburing 2.4, for liburing 2.3. */
static int close_ring_fd(struct io_uring *ring)
{
	int ret = io_uring_register_ring_fd(ring);

	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	close(ring->ring_fd);
	ring->ring_fd = -1;
	return 0;
}

int main(void)
{
	struct io_uring_regbuf_desc desc = { .type = IO_REGBUF_TYPE_EMPTY };
	struct io_uring ring;
	int ret;

	heap_names();
	prep();

	ret = dmabuf_rw_probe();
	if (ret == -ENOSYS || ret == -EPERM)
		t_skip("io_uring is not available on this host: %s", strerror(-ret));
	if (ret != -EOPNOTSUPP)
		t_fail("dmabuf_rw_probe(): %d, want -EOPNOTSUPP on a kernel without the series",
		       ret);

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	ret = io_uring_register_buffers_sparse(&ring, 2);
	if (ret)
		t_fail("io_uring_register_buffers_sparse: %s", strerror(-ret));
	ret = dmabuf_rw_update_buffers(&ring, 0, &desc, NULL, 1);
	if (ret != -EINVAL)
		t_fail("update on the ring fd: %d, want -EINVAL (no extension here)", ret);
	ret = close_ring_fd(&ring);
	if (ret == -EINVAL)
		t_skip("this kernel cannot register ring fds");
	if (ret)
		t_fail("registering the ring fd: %s", strerror(-ret));
	ret = dmabuf_rw_update_buffers(&ring, 0, &desc, NULL, 1);
	if (ret != -EINVAL)
		t_fail("update through the registered ring fd: %d (%s), want -EINVAL from the "
		       "kernel: the library used the closed fd", ret, strerror(-ret));
	ret = dmabuf_rw_clear_buffer(&ring, 1);
	if (ret != -EINVAL)
		t_fail("dmabuf_rw_clear_buffer through the registered ring fd: %d", ret);
	io_uring_queue_exit(&ring);
	return T_EXIT_PASS;
}
