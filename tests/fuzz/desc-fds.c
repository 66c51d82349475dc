// SPDX-License-Identifier: MIT
/*
 * Only dma-buf descriptors name files: an EMPTY or UADDR descriptor with a
 * non-zero dmabuf_fd or target_fd is refused with -EINVAL, as the proposal
 * under review upstream does, and the slot keeps what it held.  (A later
 * kernel gives UADDR a meaning for target_fd with a flag; without the flag
 * it must stay an error, so that programs can probe for it.)
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "dmabuf-rw.h"

#define LEN	4096

int main(void)
{
	static const struct { __u32 type; __s32 dmabuf_fd, target_fd; } cases[] = {
		{ IO_REGBUF_TYPE_EMPTY, 0, 1 },
		{ IO_REGBUF_TYPE_EMPTY, 1, 0 },
		{ IO_REGBUF_TYPE_EMPTY, -1, -1 },
		{ IO_REGBUF_TYPE_UADDR, 0, 1 },
		{ IO_REGBUF_TYPE_UADDR, 1, 0 },
		{ IO_REGBUF_TYPE_UADDR, -1, 0 },
		{ IO_REGBUF_TYPE_UADDR, 0, -1 },
	};
	struct io_uring ring;
	void *mem = t_malloc(LEN), *other = t_malloc(LEN);
	int fd, ret;

	t_require_dmabuf_io();
	fd = t_open_nvme(0, 0);
	if (io_uring_queue_init(4, &ring, 0) || io_uring_register_buffers_sparse(&ring, 1))
		t_fail("ring setup");
	ret = dmabuf_rw_register_uaddr(&ring, 0, mem, LEN);
	if (ret < 0)
		t_fail("register user memory: %s", strerror(-ret));

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct io_uring_regbuf_desc d = {
			.type = cases[i].type,
			.dmabuf_fd = cases[i].dmabuf_fd,
			.target_fd = cases[i].target_fd == 1 ? fd : cases[i].target_fd,
		};

		if (d.type == IO_REGBUF_TYPE_UADDR) {
			d.uaddr = (uintptr_t)other;
			d.size = LEN;
		}
		if (d.dmabuf_fd == 1)
			d.dmabuf_fd = fd;
		ret = dmabuf_rw_update_buffers(&ring, 0, &d, NULL, 1);
		if (ret != -EINVAL)
			t_fail("%s descriptor with dmabuf_fd %d, target_fd %d: %d (%s), want -EINVAL",
			       d.type == IO_REGBUF_TYPE_EMPTY ? "EMPTY" : "UADDR",
			       d.dmabuf_fd, d.target_fd, ret, ret < 0 ? strerror(-ret) : "accepted");
		/* the slot still holds mem: a fixed read lands there */
		memset(mem, 0x5a, LEN);
		ret = t_io(&ring, IORING_OP_READ_FIXED, fd, (uintptr_t)mem, LEN, 0, 0);
		if (ret != LEN)
			t_fail("slot lost its buffer after refused case %u: read %d", i, ret);
	}
	io_uring_queue_exit(&ring);
	close(fd);
	return T_EXIT_PASS;
}
