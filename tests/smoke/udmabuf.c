// SPDX-License-Identifier: MIT
/*
 * Smoke: udmabuf, the test bed's host-memory dma-buf exporter.  Wrap a
 * sealed memfd, mmap the dma-buf fd and check both views show the same
 * bytes in both directions (memfd -> dma-buf, dma-buf -> memfd).  A memfd
 * without F_SEAL_SHRINK must be refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>
#include <linux/udmabuf.h>

#include "test.h"
#include "dmabuf-rw.h"

#define SIZE	(2U << 20)

static void check_unsealed_refused(void)
{
	struct udmabuf_create create = { .size = SIZE };
	int dev, mfd, fd;

	dev = open("/dev/udmabuf", O_RDWR);
	mfd = memfd_create("unsealed", MFD_ALLOW_SEALING);
	if (dev < 0 || mfd < 0 || ftruncate(mfd, SIZE))
		t_fail("setup: %s", strerror(errno));
	create.memfd = mfd;
	fd = ioctl(dev, UDMABUF_CREATE, &create);
	if (fd >= 0)
		t_fail("UDMABUF_CREATE accepted a memfd without F_SEAL_SHRINK");
	if (errno != EINVAL)
		t_fail("UDMABUF_CREATE without F_SEAL_SHRINK: %s, want EINVAL", strerror(errno));
	close(mfd);
	close(dev);
}

int main(void)
{
	char *mem, *dbuf, *copy;
	int memfd, fd, ret;
	off_t size;

	fd = dmabuf_rw_udmabuf_create(SIZE, &memfd);
	if (fd == -ENOENT)
		t_missing("/dev/udmabuf (CONFIG_UDMABUF)");
	if (fd < 0)
		t_fail("udmabuf of %u bytes: %s", SIZE, strerror(-fd));
	size = lseek(fd, 0, SEEK_END);
	if (size != SIZE)
		t_fail("dma-buf size %lld, want %u", (long long)size, SIZE);

	mem = t_mmap(memfd, SIZE, PROT_READ | PROT_WRITE);
	dbuf = t_mmap(fd, SIZE, PROT_READ | PROT_WRITE);

	/* memfd -> dma-buf */
	t_fill(mem, SIZE, 0, 1);
	ret = t_dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	if (ret)
		t_fail("DMA_BUF_IOCTL_SYNC start: %s", strerror(-ret));
	if (t_verify(dbuf, SIZE, 0, 1, "dma-buf view of memfd data"))
		t_fail("dma-buf mapping does not show the memfd contents");
	ret = t_dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	if (ret)
		t_fail("DMA_BUF_IOCTL_SYNC end: %s", strerror(-ret));

	/* dma-buf -> memfd, checked through both the mapping and pread() */
	ret = t_dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	if (ret)
		t_fail("DMA_BUF_IOCTL_SYNC start: %s", strerror(-ret));
	t_fill(dbuf + 4096, SIZE - 8192, 4096, 2);
	ret = t_dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	if (ret)
		t_fail("DMA_BUF_IOCTL_SYNC end: %s", strerror(-ret));
	if (t_verify(mem, 4096, 0, 1, "first page (not written)") ||
	    t_verify(mem + 4096, SIZE - 8192, 4096, 2, "memfd view of dma-buf data") ||
	    t_verify(mem + SIZE - 4096, 4096, SIZE - 4096, 1, "last page (not written)"))
		t_fail("memfd mapping does not show what was written to the dma-buf");
	copy = t_malloc(SIZE);
	if (pread(memfd, copy, SIZE, 0) != SIZE)
		t_fail("pread memfd: %s", strerror(errno));
	if (t_verify(copy + 4096, SIZE - 8192, 4096, 2, "memfd pread of dma-buf data"))
		t_fail("memfd contents differ from what was written to the dma-buf");
	free(copy);

	check_unsealed_refused();
	munmap(dbuf, SIZE);
	munmap(mem, SIZE);
	close(fd);
	close(memfd);
	return T_EXIT_PASS;
}
