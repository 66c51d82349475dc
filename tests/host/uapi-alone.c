// SPDX-License-Identifier: MIT
/*
 * <dmabuf-rw/uapi.h> on its own: no liburing (tests/host/run.sh puts a
 * liburing.h that fails to compile first on the include path), C and C++.
 */
#include <dmabuf-rw/uapi.h>
#include <stddef.h>

int main(void)
{
	struct io_uring_regbuf_desc d = { IO_REGBUF_TYPE_DMABUF, 0, 0, 0, 3, 4, { 0 } };

	return sizeof(d) == 80 && offsetof(struct io_uring_regbuf_desc, dmabuf_fd) == 24 &&
	       IORING_RSRC_UPDATE_EXTENDED == 2 && d.target_fd == 4 ? 0 : 1;
}
