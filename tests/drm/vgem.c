// SPDX-License-Identifier: MIT
/*
 * A DRM exporter's dma-buf for NVMe: a vgem GEM buffer exported with PRIME
 * (dmabuf_rw_drm_alloc(), what amdgpu, i915 or nouveau buffers look like to
 * the series) is registered for drive 0 and for drive 1 (small MDTS: large
 * I/O is split), and data moves both ways at several dma-buf offsets and
 * sizes: written from the dma-buf, checked by plain O_DIRECT reads of the
 * drive; read into the dma-buf, checked through its CPU mapping after
 * DMA_BUF_IOCTL_SYNC.
 */
#include <sys/mman.h>
#include <linux/dma-buf.h>

#include "drm-test.h"

#define BUF_SIZE	(2U << 20)

struct xfer {
	uint64_t buf_off, dev_off;
	unsigned int len;
};

static const struct xfer xfers[] = {
	{ 0, 0, 4096 },
	{ 12288, 1 << 20, 65536 },
	{ 4096, 3 << 20, 1 << 20 },	/* split on drive 1 */
	{ 0, 8 << 20, BUF_SIZE },
};

static void run(struct io_uring *ring, int drive, int dmabuf, unsigned char *map)
{
	int fd = t_open_nvme(drive, 0), ret;
	unsigned char *host = t_malloc(BUF_SIZE);
	uint32_t seed = 0x76656d00 + drive;
	unsigned int i;

	ret = dmabuf_rw_register_dmabuf(ring, drive, dmabuf, fd);
	if (ret)
		t_fail("registering the vgem dma-buf for drive %d: %s", drive, strerror(-ret));
	for (i = 0; i < sizeof(xfers) / sizeof(xfers[0]); i++) {
		const struct xfer *x = &xfers[i];

		/* dma-buf -> drive */
		t_assert(!t_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
		t_fill(map + x->buf_off, x->len, x->dev_off, seed + i);
		t_assert(!t_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
		ret = t_io(ring, IORING_OP_WRITE_FIXED, fd, x->buf_off, x->len, x->dev_off, drive);
		if (ret != (int)x->len)
			t_fail("drive %d: WRITE_FIXED of %u bytes from dma-buf offset %llu: %d",
			       drive, x->len, (unsigned long long)x->buf_off, ret);
		memset(host, 0, x->len);
		if (pread(fd, host, x->len, x->dev_off) != (ssize_t)x->len)
			t_fail("drive %d: pread: %s", drive, strerror(errno));
		if (t_verify(host, x->len, x->dev_off, seed + i, "written from the vgem dma-buf"))
			t_fail("drive %d: transfer %u: the drive does not hold the dma-buf's data",
			       drive, i);

		/* drive -> dma-buf */
		t_fill(host, x->len, x->dev_off, seed + 100 + i);
		if (pwrite(fd, host, x->len, x->dev_off) != (ssize_t)x->len)
			t_fail("drive %d: pwrite: %s", drive, strerror(errno));
		t_assert(!t_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
		memset(map + x->buf_off, 0, x->len);
		t_assert(!t_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
		ret = t_io(ring, IORING_OP_READ_FIXED, fd, x->buf_off, x->len, x->dev_off, drive);
		if (ret != (int)x->len)
			t_fail("drive %d: READ_FIXED of %u bytes into dma-buf offset %llu: %d",
			       drive, x->len, (unsigned long long)x->buf_off, ret);
		t_assert(!t_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
		if (t_verify(map + x->buf_off, x->len, x->dev_off, seed + 100 + i,
			     "read into the vgem dma-buf"))
			t_fail("drive %d: transfer %u: the dma-buf does not hold the drive's data",
			       drive, i);
		t_assert(!t_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
		printf("drive %d: %u bytes at dma-buf offset %llu, device offset %llu: "
		       "both ways\n", drive, x->len, (unsigned long long)x->buf_off,
		       (unsigned long long)x->dev_off);
	}
	t_assert(!dmabuf_rw_clear_buffer(ring, drive));
	free(host);
	close(fd);
}

int main(void)
{
	const char *card = td_vgem_card();
	struct io_uring ring;
	unsigned char *map;
	off_t size;
	int dmabuf, ret;

	t_require_dmabuf_io();
	dmabuf = dmabuf_rw_drm_alloc(card, BUF_SIZE);
	if (dmabuf < 0)
		t_fail("dmabuf_rw_drm_alloc(%s): %s", card, strerror(-dmabuf));
	size = lseek(dmabuf, 0, SEEK_END);
	if (size < BUF_SIZE)
		t_fail("the vgem dma-buf has %lld bytes, want at least %u", (long long)size,
		       BUF_SIZE);
	map = t_mmap(dmabuf, BUF_SIZE, PROT_READ | PROT_WRITE);
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	t_assert(!io_uring_register_buffers_sparse(&ring, 2));
	printf("%s: a %lld-byte dma-buf\n", card, (long long)size);
	run(&ring, 0, dmabuf, map);
	run(&ring, 1, dmabuf, map);
	io_uring_queue_exit(&ring);
	munmap(map, BUF_SIZE);
	close(dmabuf);
	return T_EXIT_PASS;
}
