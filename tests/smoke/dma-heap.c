// SPDX-License-Identifier: MIT
/*
 * Smoke: dma-heap "system" allocations.  Allocate a buffer, check its size,
 * mmap it, write a pattern and read it back through a second mapping of the
 * same dma-buf, bracketed by DMA_BUF_IOCTL_SYNC.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>

#include "test.h"
#include "dmabuf-rw.h"

static void check_size(size_t size)
{
	char *a, *b;
	off_t got;
	int fd, ret;

	fd = dmabuf_rw_heap_alloc("system", size);
	if (fd == -ENOENT)
		t_missing("/dev/dma_heap/system (CONFIG_DMABUF_HEAPS_SYSTEM)");
	if (fd < 0)
		t_fail("system heap, %zu bytes: %s", size, strerror(-fd));
	got = lseek(fd, 0, SEEK_END);
	if (got != (off_t)size)
		t_fail("dma-buf size %lld, want %zu", (long long)got, size);

	a = t_mmap(fd, size, PROT_READ | PROT_WRITE);
	b = t_mmap(fd, size, PROT_READ);
	ret = t_dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	if (ret)
		t_fail("DMA_BUF_IOCTL_SYNC start: %s", strerror(-ret));
	t_fill(a, size, 0, size);
	if (t_verify(b, size, 0, size, "second mapping"))
		t_fail("%zu-byte heap buffer: mappings disagree", size);
	ret = t_dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	if (ret)
		t_fail("DMA_BUF_IOCTL_SYNC end: %s", strerror(-ret));
	munmap(a, size);
	munmap(b, size);
	close(fd);
}

int main(void)
{
	static const size_t sizes[] = { 4096, 65536, 1 << 20, 3 << 20, 16 << 20 };
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_size(sizes[i]);
	printf("system heap: %u sizes up to %zu MiB ok\n", i, sizes[i - 1] >> 20);
	return T_EXIT_PASS;
}
