// SPDX-License-Identifier: MIT
/*
 * A dma-buf handed over by another process, as a GPU program (CUDA's
 * cuMemGetHandleForAddressRange, ROCm's hsa_amd_portable_export_dmabuf)
 * hands its buffer to a storage process: a child allocates a vgem
 * dma-buf, fills it and sends the descriptor over a unix socket
 * (SCM_RIGHTS), then exits.  The parent registers what it received for
 * drive 0, closes its descriptor (the registration keeps the buffer), and
 * moves data both ways: the child's data reaches the drive, and data read
 * from the drive shows in a mapping of the second descriptor the child
 * sent.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>

#include "drm-test.h"

#define SIZE	(1U << 20)
#define SEED	0x66647061

/* The exporting process: a filled dma-buf, sent twice, then gone. */
static void child(int sock, const char *card)
{
	unsigned char *map;
	int fd = dmabuf_rw_drm_alloc(card, SIZE);

	if (fd < 0)
		t_fail("child: dmabuf_rw_drm_alloc(%s): %s", card, strerror(-fd));
	map = t_mmap(fd, SIZE, PROT_READ | PROT_WRITE);
	t_assert(!t_dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	t_fill(map, SIZE, 0, SEED);
	t_assert(!t_dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
	munmap(map, SIZE);
	if (td_send_fd(sock, fd) || td_send_fd(sock, fd))
		t_fail("child: sending the dma-buf: %s", strerror(errno));
	close(fd);
	exit(T_EXIT_PASS);
}

int main(void)
{
	const char *card = td_vgem_card();
	int sv[2], fd, fd2, nvme, st, ret;
	unsigned char *host, *map;
	struct io_uring ring;
	pid_t pid;

	t_require_dmabuf_io();
	nvme = t_open_nvme(0, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		t_fail("socketpair: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		t_fail("fork: %s", strerror(errno));
	if (!pid) {
		close(sv[0]);
		child(sv[1], card);
	}
	close(sv[1]);
	fd = td_recv_fd(sv[0]);
	fd2 = td_recv_fd(sv[0]);
	if (fd < 0 || fd2 < 0)
		t_fail("receiving the dma-buf: %s", strerror(-(fd < 0 ? fd : fd2)));
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		t_fail("the exporting child failed (status 0x%x)", st);
	printf("received the child's vgem dma-buf as fd %d and %d; the child is gone\n",
	       fd, fd2);

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	t_assert(!io_uring_register_buffers_sparse(&ring, 1));
	ret = dmabuf_rw_register_dmabuf(&ring, 0, fd, nvme);
	if (ret)
		t_fail("registering the received dma-buf: %s", strerror(-ret));
	close(fd);

	/* the child's data -> the drive */
	ret = t_io(&ring, IORING_OP_WRITE_FIXED, nvme, 0, SIZE, 4 << 20, 0);
	if (ret != SIZE)
		t_fail("WRITE_FIXED from the received dma-buf: %d", ret);
	host = t_malloc(SIZE);
	if (pread(nvme, host, SIZE, 4 << 20) != SIZE)
		t_fail("pread: %s", strerror(errno));
	if (t_verify(host, SIZE, 0, SEED, "drive after WRITE_FIXED"))
		t_fail("the drive does not hold the data the child put in the dma-buf");

	/* the drive -> the dma-buf, seen through the other descriptor */
	t_fill(host, SIZE, 0, SEED + 1);
	if (pwrite(nvme, host, SIZE, 6 << 20) != SIZE)
		t_fail("pwrite: %s", strerror(errno));
	ret = t_io(&ring, IORING_OP_READ_FIXED, nvme, 0, SIZE, 6 << 20, 0);
	if (ret != SIZE)
		t_fail("READ_FIXED into the received dma-buf: %d", ret);
	map = t_mmap(fd2, SIZE, PROT_READ);
	t_assert(!t_dmabuf_sync(fd2, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
	if (t_verify(map, SIZE, 0, SEED + 1, "dma-buf after READ_FIXED"))
		t_fail("the dma-buf does not hold the drive's data");
	t_assert(!t_dmabuf_sync(fd2, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	printf("1 MiB both ways through the passed dma-buf, verified\n");
	munmap(map, SIZE);
	close(fd2);
	io_uring_queue_exit(&ring);
	close(nvme);
	return T_EXIT_PASS;
}
