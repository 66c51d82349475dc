// SPDX-License-Identifier: MIT
/*
 * dmabuf-io: dma-bufs from other exporters.
 *
 *   fd:N      a dma-buf the caller passes in as descriptor N: what CUDA
 *             (cuMemGetHandleForAddressRange), ROCm
 *             (hsa_amd_portable_export_dmabuf) or any other driver gave a
 *             program that then runs dmabuf-io.  It is not allocated here,
 *             so the jobs share it, each its own slice, in order.
 *   drm:PATH  a GEM buffer of the DRM device PATH, exported with PRIME
 *             (dmabuf_rw_drm_alloc(): amdgpu, i915, xe, nouveau, vgem).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmabuf-io.h"
#include "dmabuf-rw.h"

static pthread_mutex_t dio_fd_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t dio_fd_next;	/* first byte of the passed dma-buf not handed out */

/* The exporter's name from the fd's fdinfo; -1 if fd is not a dma-buf. */
static int dio_fd_exporter(int fd, char *name, size_t len)
{
	char path[64], line[256];
	int found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "exp_name: %63s", name) == 1 && len >= 64)
			found = 0;
	}
	fclose(f);
	return found;
}

int dio_fd_create(struct dio_dmabuf *b, const char *spec, size_t size)
{
	int n = atoi(spec + 3), fd;
	char exp[64] = "";
	off_t total;

	if (fcntl(n, F_GETFD) < 0) {
		dio_err("%s: descriptor %d is not open (pass the dma-buf to dmabuf-io "
			"as that descriptor)", spec, n);
		return -1;
	}
	if (dio_fd_exporter(n, exp, sizeof(exp))) {
		dio_err("%s: descriptor %d is not a dma-buf", spec, n);
		return -1;
	}
	total = lseek(n, 0, SEEK_END);
	if (total < 0) {
		dio_err("%s: cannot tell the dma-buf's size: %s", spec, strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&dio_fd_lock);
	if ((uint64_t)total < dio_fd_next + size) {
		pthread_mutex_unlock(&dio_fd_lock);
		dio_err("%s: the dma-buf (%lld bytes, from %s) is too small: %llu bytes "
			"needed (QD x BS per job)", spec, (long long)total, exp,
			(unsigned long long)(dio_fd_next + size));
		return -1;
	}
	b->base = dio_fd_next;
	dio_fd_next += size;
	pthread_mutex_unlock(&dio_fd_lock);
	fd = fcntl(n, F_DUPFD_CLOEXEC, 3);
	if (fd < 0) {
		dio_err("%s: dup: %s", spec, strerror(errno));
		return -1;
	}
	b->fd = fd;
	snprintf(b->desc, sizeof(b->desc), "fd %d (%s)", n, exp);
	return 0;
}

int dio_drm_create(struct dio_dmabuf *b, const char *spec, size_t size)
{
	const char *path = spec + 4;
	int fd = dmabuf_rw_drm_alloc(path, size);

	if (fd < 0) {
		dio_err("%s: a %zu-byte dumb buffer: %s%s", path, size, strerror(-fd),
			fd == -ENOSYS || fd == -EOPNOTSUPP || fd == -EACCES || fd == -EPERM ?
			" (no dumb buffers on this node: use the card node, /dev/dri/cardN, "
			"not renderD)" : "");
		return -1;
	}
	b->fd = fd;
	snprintf(b->desc, sizeof(b->desc), "drm %.56s", path);
	return 0;
}
