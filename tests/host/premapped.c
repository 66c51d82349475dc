// SPDX-License-Identifier: MIT
/*
 * dmabuf_rw_buffer_premapped() and dmabuf_rw_register_premapped() on the
 * host's kernel, which has io_uring but not the series: the ring's fdinfo
 * there lists buffers without " premapped", so an ordinary registered
 * buffer is 0 (whether registered as a table or into a sparse one), an
 * empty slot and one beyond the table -ENOENT, and a ring whose own fd was
 * closed (io_uring_close_ring_fd()) -EBADF.  The premapped registration
 * is refused with -EINVAL, as on any kernel without IO_REGBUF_F_TARGET, and
 * leaves the slot as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include "test.h"
#include "dmabuf-rw.h"

#define LEN	8192

static void expect(int got, int want, const char *what)
{
	if (got != want)
		t_fail("%s: %d (%s), want %d", what, got, got < 0 ? strerror(-got) : "-", want);
}

int main(void)
{
	unsigned char *mem = t_malloc(2 * LEN);
	struct iovec iov = { mem, LEN };
	struct io_uring ring, sparse;
	int ret, fd;

	ret = dmabuf_rw_probe();
	if (ret == -ENOSYS || ret == -EPERM)
		t_skip("io_uring is not available on this host: %s", strerror(-ret));
	if (ret != -EOPNOTSUPP)
		t_skip("the host kernel has dma-buf registered buffers (probe: %d): nothing to refuse",
		       ret);

	/* a table registered the classic way */
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	expect(dmabuf_rw_buffer_premapped(&ring, 0), -ENOENT, "a ring without buffers");
	ret = io_uring_register_buffers(&ring, &iov, 1);
	if (ret)
		t_fail("io_uring_register_buffers: %s", strerror(-ret));
	expect(dmabuf_rw_buffer_premapped(&ring, 0), 0, "an ordinary registered buffer");
	expect(dmabuf_rw_buffer_premapped(&ring, 1), -ENOENT, "the slot after the table");
	expect(dmabuf_rw_buffer_premapped(&ring, 99999), -ENOENT, "slot 99999");

	/* a sparse table, updated the classic way */
	ret = io_uring_queue_init(4, &sparse, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	ret = io_uring_register_buffers_sparse(&sparse, 3);
	if (ret)
		t_fail("io_uring_register_buffers_sparse: %s", strerror(-ret));
	expect(dmabuf_rw_buffer_premapped(&sparse, 1), -ENOENT, "an empty slot");
	ret = io_uring_register_buffers_update_tag(&sparse, 1, &iov, NULL, 1);
	if (ret != 1)
		t_fail("io_uring_register_buffers_update_tag: %d", ret);
	expect(dmabuf_rw_buffer_premapped(&sparse, 1), 0, "an ordinary buffer in a sparse table");
	expect(dmabuf_rw_buffer_premapped(&sparse, 0), -ENOENT, "the empty slot before it");
	expect(dmabuf_rw_buffer_premapped(&sparse, 2), -ENOENT, "the empty slot after it");

	/* no extension here: refused, slots as they were */
	fd = open("/dev/null", O_RDWR);
	expect(dmabuf_rw_register_premapped(&sparse, 1, mem + LEN, LEN, fd), -EINVAL,
	       "premapped registration over an ordinary buffer");
	expect(dmabuf_rw_buffer_premapped(&sparse, 1), 0, "the ordinary buffer after the refusal");
	expect(dmabuf_rw_register_premapped(&sparse, 2, mem, LEN, fd), -EINVAL,
	       "premapped registration into an empty slot");
	expect(dmabuf_rw_buffer_premapped(&sparse, 2), -ENOENT, "the empty slot after the refusal");
	close(fd);

	/* the ring's own fd closed: its fdinfo cannot be read */
	ret = io_uring_register_ring_fd(&ring);
	if (ret == -EINVAL)
		t_skip("this kernel cannot register ring fds");
	if (ret != 1)
		t_fail("io_uring_register_ring_fd: %d", ret);
	close(ring.ring_fd);
	ring.ring_fd = -1;
	expect(dmabuf_rw_buffer_premapped(&ring, 0), -EBADF, "a ring whose fd was closed");

	io_uring_queue_exit(&sparse);
	io_uring_queue_exit(&ring);
	free(mem);
	return T_EXIT_PASS;
}
