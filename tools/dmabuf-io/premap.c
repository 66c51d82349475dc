// SPDX-License-Identifier: MIT
/*
 * dmabuf-io: host memory registered with IO_REGBUF_F_TARGET (bench --mode
 * premapped), which the target's driver maps for DMA once instead of on
 * every I/O.  The kernel may accept the registration and still map per I/O
 * (swiotlb bouncing, DMA that needs cache maintenance), so what the slot
 * got is read back: a run must never claim premapped I/O it did not do.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "dmabuf-io.h"
#include "dmabuf-rw.h"

int dio_premap_supported(void)
{
	struct io_uring ring;
	void *page;
	int ret;

	ret = dmabuf_rw_probe();
	if (ret == -EOPNOTSUPP)
		return 0;
	if (ret)
		return ret;
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return -errno;
	ret = io_uring_queue_init(1, &ring, 0);
	if (ret)
		goto out_unmap;
	ret = io_uring_register_buffers_sparse(&ring, 1);
	if (!ret) {
		/*
		 * A kernel with the flag registers the page and then fails on
		 * the target, which is no file (EBADF); one without it refuses
		 * the flag itself (EINVAL).
		 */
		ret = dmabuf_rw_register_premapped(&ring, 0, page, 4096, -1);
		if (ret == -EBADF || ret >= 0)
			ret = 1;
		else if (ret == -EINVAL)
			ret = 0;
	}
	io_uring_queue_exit(&ring);
out_unmap:
	munmap(page, 4096);
	return ret;
}

static void dio_premap_why(int err, size_t len, const struct dio_target *t)
{
	int supported = dio_premap_supported();
	char why[512];

	if (supported == 0) {
		dio_err("this kernel does not support premapped registered buffers "
			"(IO_REGBUF_F_TARGET refused); --mode fixed measures the same "
			"memory mapped per I/O");
	} else if (supported < 0) {
		dio_err("io_uring is not usable here: %s", strerror(-supported));
	} else if (err == -ENOMEM) {
		dio_err("registering %zu bytes of host memory: %s (RLIMIT_MEMLOCK too "
			"low? ulimit -l)", len, strerror(-err));
	} else if (dio_file_refused(err, t)) {
		dio_file_unsupported_why(t, why, sizeof(why));
		dio_err("%s cannot have buffers premapped for it: %s (%s)", t->path, why,
			strerror(-err));
	} else if (err == -EOPNOTSUPP || err == -ENOTTY) {
		dio_blk_unsupported_why("", t->rdev, why, sizeof(why));
		dio_err("%s: %s (%s)", t->path, why, strerror(-err));
	} else {
		dio_err("registering %zu bytes of host memory premapped for %s: %s",
			len, t->path, strerror(-err));
	}
}

int dio_premap_register(struct io_uring *ring, unsigned int slot, void *addr,
			size_t len, const struct dio_target *t)
{
	int ret = dmabuf_rw_register_premapped(ring, slot, addr, len, t->fd);

	if (ret) {
		dio_premap_why(ret, len, t);
		return ret;
	}
	ret = dmabuf_rw_buffer_premapped(ring, slot);
	if (ret < 0)
		dio_err("cannot tell whether buffer slot %u is premapped (the ring's "
			"/proc/self/fdinfo): %s", slot, strerror(-ret));
	return ret;
}
