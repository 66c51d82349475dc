// SPDX-License-Identifier: MIT
/*
 * The demo `make run` shows: O_DIRECT I/O between an NVMe drive and a
 * dma-buf through io_uring, in a few readable lines.
 *
 * 1. create a 1 MiB udmabuf (a dma-buf over a memfd);
 * 2. write a pattern to the drive from an ordinary registered buffer;
 * 3. register the dma-buf for the drive (IORING_RSRC_UPDATE_EXTENDED) and
 *    READ_FIXED into it, then check the data through the dma-buf's mmap.
 * On a kernel without the series step 3 reports that registration is not
 * supported and the demo reads into the memfd memory instead.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/dma-buf.h>

#include "test.h"
#include <dmabuf-rw/uapi.h>

#define SIZE	(1U << 20)
#define SEED	42

/* Put the dma-buf in slot 1 of a sparse table, bound to the drive. */
static int register_dmabuf(struct io_uring *ring, int dmabuf_fd, int target_fd)
{
	struct io_uring_regbuf_desc desc = {
		.type = IO_REGBUF_TYPE_DMABUF,
		.dmabuf_fd = dmabuf_fd,
		.target_fd = target_fd,
	};
	struct io_uring_rsrc_update2 up = {
		.offset = 1,
		.resv = IORING_RSRC_UPDATE_EXTENDED,	/* 'flags' in new headers */
		.data = (uintptr_t)&desc,
		.nr = 1,
	};
	int ret;

	ret = syscall(__NR_io_uring_register, ring->ring_fd,
		      IORING_REGISTER_BUFFERS_UPDATE, &up, sizeof(up));
	return ret < 0 ? -errno : ret;
}

static void show_iommu(void)
{
	const char *mode = t_cmdline("dmabuf_rw.iommu");
	char link[256];
	ssize_t l;

	l = readlink("/sys/class/nvme/nvme0/device/iommu_group", link, sizeof(link) - 1);
	if (l > 0)
		link[l] = 0;
	printf("IOMMU mode %s, nvme0 %s\n", mode ? mode : "?",
	       l > 0 ? "is behind the IOMMU" : "has no IOMMU");
}

int main(void)
{
	struct io_uring ring;
	struct iovec iov;
	char *src, *view, *mem;
	int fd, dbuf, memfd, ret;

	fd = t_open_nvme(0, 0);
	printf("drive %s, %llu MiB, %u-byte blocks; ", t_nvme_path(0),
	       (unsigned long long)(t_dev_size(fd) >> 20), t_dev_lbsize(fd));
	show_iommu();

	dbuf = t_udmabuf_create(SIZE, &memfd);
	if (dbuf < 0)
		t_fail("udmabuf: %s", strerror(-dbuf));
	printf("1. dma-buf: 1 MiB udmabuf over a memfd (fd %d)\n", dbuf);

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	src = t_malloc(SIZE);
	iov = (struct iovec){ src, SIZE };
	/* slot 0: ordinary memory, slot 1: left empty for the dma-buf */
	ret = io_uring_register_buffers_sparse(&ring, 2);
	if (!ret)
		ret = io_uring_register_buffers_update_tag(&ring, 0, &iov, NULL, 1);
	if (ret < 0)
		t_fail("registering buffers: %s", strerror(-ret));
	t_fill(src, SIZE, 0, SEED);
	ret = t_io(&ring, IORING_OP_WRITE_FIXED, fd, (uintptr_t)src, SIZE, 0, 0);
	if (ret != SIZE)
		t_fail("WRITE_FIXED: %d", ret);
	printf("2. WRITE_FIXED 1 MiB pattern from a registered buffer to the drive: ok\n");

	view = t_mmap(dbuf, SIZE, PROT_READ | PROT_WRITE);
	memset(view, 0, SIZE);
	ret = register_dmabuf(&ring, dbuf, fd);
	if (ret == 1) {
		ret = t_io(&ring, IORING_OP_READ_FIXED, fd, 0, SIZE, 0, 1);
		if (ret != SIZE)
			t_fail("READ_FIXED into the dma-buf: %d", ret);
		printf("3. READ_FIXED 1 MiB from the drive into the registered dma-buf: ok\n");
	} else {
		printf("3. dma-buf registration not supported by this kernel (%s);\n"
		       "   O_DIRECT read into the memfd behind the dma-buf instead\n",
		       strerror(-ret));
		mem = t_mmap(memfd, SIZE, PROT_READ | PROT_WRITE);
		ret = pread(fd, mem, SIZE, 0);
		if (ret != SIZE)
			t_fail("O_DIRECT pread: %d", ret);
	}
	t_dmabuf_sync(dbuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	if (t_verify(view, SIZE, 0, SEED, "dma-buf contents"))
		t_fail("the dma-buf does not hold what was written");
	t_dmabuf_sync(dbuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	printf("4. the dma-buf (seen through its mmap) holds the pattern, byte for byte\n");
	io_uring_queue_exit(&ring);
	return T_EXIT_PASS;
}
