// SPDX-License-Identifier: MIT
// A C++ program on the installed library: <dmabuf-rw.h> (with liburing
// and the ABI header) compiles as C++, links with -ldmabuf-rw from
// pkg-config, and runs: the probe answers, the prep helper fills an SQE.
#include <dmabuf-rw.h>
#include <dmabuf-rw/uapi.h>
#include <cerrno>
#include <cstdio>

static_assert(DMABUF_RW_CHECK_VERSION(1, 1), "version macro");
static_assert(sizeof(io_uring_regbuf_desc) == 80, "descriptor size");

int main()
{
	io_uring_sqe sqe = {};
	int ret = dmabuf_rw_probe();

	dmabuf_rw_prep_write(&sqe, 3, 2, 1ULL << 33, 4096, 0);
	std::printf("dmabuf_rw_probe: %d; sqe addr %llu\n", ret,
		    (unsigned long long)sqe.addr);
	if (sqe.addr != 1ULL << 33 || sqe.buf_index != 2 || sqe.opcode != IORING_OP_WRITE_FIXED)
		return 1;
	return ret == 0 || ret == -EOPNOTSUPP || ret == -ENOSYS || ret == -EPERM ? 0 : 1;
}
