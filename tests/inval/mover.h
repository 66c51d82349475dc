/* SPDX-License-Identifier: MIT */
/*
 * Access to the dmabuf-mover test exporter (tests/modules/dmabuf-mover) for
 * the inval/ and life/ tests: load the module if needed, create buffers that
 * move on demand, read the exporter's statistics.
 */
#ifndef DMABUF_RW_MOVER_H
#define DMABUF_RW_MOVER_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "test.h"
#include "../modules/dmabuf-mover/dmabuf-mover.h"

#define MOVER_DEV	"/dev/dmabuf_mover"
#define MOVER_MODULE	"/modules/dmabuf-mover.ko"

/*
 * Open the exporter, loading its module first.  make check builds it into
 * the guest image (make test-modules): its absence fails the test.
 */
static inline int mover_open(void)
{
	int fd = open(MOVER_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		int mfd = open(MOVER_MODULE, O_RDONLY | O_CLOEXEC);

		if (mfd < 0)
			t_missing("the test exporter %s (make test-modules)", MOVER_MODULE);
		if (syscall(SYS_finit_module, mfd, "", 0) && errno != EEXIST)
			t_fail("loading %s: %s", MOVER_MODULE, strerror(errno));
		close(mfd);
		fd = open(MOVER_DEV, O_RDWR | O_CLOEXEC);
	}
	if (fd < 0)
		t_fail("%s: %s", MOVER_DEV, strerror(errno));
	return fd;
}

/* A moving dma-buf of size bytes; returns its fd. */
static inline int mover_create(int dev, size_t size)
{
	struct dmabuf_mover_create c = { .size = size };

	if (ioctl(dev, DMABUF_MOVER_CREATE, &c))
		t_fail("DMABUF_MOVER_CREATE %zu: %s", size, strerror(errno));
	return c.fd;
}

/* Move once; returns 0 or -errno. */
static inline int mover_move(int dev, int buf, unsigned int timeout_ms)
{
	struct dmabuf_mover_move m = { .fd = buf, .timeout_ms = timeout_ms };

	return ioctl(dev, DMABUF_MOVER_MOVE, &m) ? -errno : 0;
}

static inline struct dmabuf_mover_stats mover_stats(int dev, int buf)
{
	struct dmabuf_mover_stats s = { .fd = buf };

	if (ioctl(dev, DMABUF_MOVER_STATS, &s))
		t_fail("DMABUF_MOVER_STATS: %s", strerror(errno));
	return s;
}

/*
 * Wait until every old page set of buf has been unmapped by the importer
 * (the unmap runs from a work item after the last I/O), at most secs.
 */
static inline struct dmabuf_mover_stats mover_settle(int dev, int buf, int secs)
{
	struct dmabuf_mover_stats s = mover_stats(dev, buf);

	for (int i = 0; s.pending && i < secs * 100; i++) {
		usleep(10000);
		s = mover_stats(dev, buf);
	}
	return s;
}

#endif /* DMABUF_RW_MOVER_H */
