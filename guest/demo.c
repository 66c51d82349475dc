// SPDX-License-Identifier: MIT
/*
 * The demo `make run` shows: O_DIRECT I/O between an NVMe drive and
 * dma-bufs through io_uring, in a few readable lines.
 *
 * 1. create two 1 MiB udmabufs (dma-bufs over memfds) and put a pattern in
 *    the first through its mmap;
 * 2. register both for the drive (IORING_RSRC_UPDATE_EXTENDED) and
 *    WRITE_FIXED the pattern from the first dma-buf to the drive;
 * 3. READ_FIXED it back into the second dma-buf;
 * 4. check the second dma-buf, through its mmap, byte for byte;
 * 5. a few seconds of `dmabuf-io bench` each for ordinary registered
 *    buffers (fixed) and the dma-buf (dmabuf), 4 KiB random reads at QD32,
 *    on drive 1 (a null-co drive in make run's bed) or drive 0.
 * On a kernel without the series step 2 says registration is not
 * supported and the demo stops there.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/dma-buf.h>

#include "test.h"
#include "dmabuf-rw.h"

#define SIZE	(1U << 20)
#define SEED	42
#define TOOL	"/bin/dmabuf-io"

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

struct row {
	double iops, cpu_us, p99_us;
	char iommu[16];
};

/* Run dmabuf-io bench --csv --no-header; 0 and the row's numbers, or -1. */
static int bench(const char *mode, const char *dev, const char *secs, struct row *r)
{
	char out[1024] = "", *f[32], *p;
	int pipefd[2], status, n = 0;
	ssize_t len = 0, got;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execl(TOOL, TOOL, "bench", "-m", mode, "-b", "4k", "-q", "32", "-p", "random",
		      "-t", secs, "--csv", "--no-header", dev, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while (len < (ssize_t)sizeof(out) - 1 &&
	       (got = read(pipefd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += got;
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	/* mode,dmabuf,rw,pattern,bs,qd,jobs,device,iommu,ios,seconds,iops,mbps,
	 * cpu_us_per_io,...,lat_p99_us (column 21) */
	for (p = strtok(out, ",\n"); p && n < 32; p = strtok(NULL, ",\n"))
		f[n++] = p;
	if (n < 23)
		return -1;
	r->iops = strtod(f[11], NULL);
	r->cpu_us = strtod(f[13], NULL);
	r->p99_us = strtod(f[20], NULL);
	snprintf(r->iommu, sizeof(r->iommu), "%s", f[8]);
	return 0;
}

static void compare(void)
{
	const char *dev = t_nvme_path(1) ? t_nvme_path(1) : t_nvme_path(0);
	const char *secs = t_cmdline("dmabuf_rw.demo_secs");
	struct row fixed, dbuf;
	char path[64];

	snprintf(path, sizeof(path), "%s", dev);
	secs = secs && *secs ? secs : "3";
	printf("5. 4 KiB random reads at QD32 on %s, %s s each:\n", path, secs);
	fflush(stdout);
	if (access(TOOL, X_OK) || bench("fixed", path, secs, &fixed) ||
	    bench("dmabuf", path, secs, &dbuf)) {
		printf("   %s bench failed; run it by hand to see why\n", TOOL);
		return;
	}
	printf("   fixed  (registered host memory, DMA-mapped per I/O):  %6.1f KIOPS, CPU %5.1f us/IO, p99 %6.0f us\n",
	       fixed.iops / 1e3, fixed.cpu_us, fixed.p99_us);
	printf("   dmabuf (dma-buf, DMA-mapped once at registration):   %6.1f KIOPS, CPU %5.1f us/IO, p99 %6.0f us\n",
	       dbuf.iops / 1e3, dbuf.cpu_us, dbuf.p99_us);
	printf("   dmabuf/fixed: %.2fx the IOPS with the IOMMU %s (emulated NVMe: relative figures)\n",
	       dbuf.iops / fixed.iops, dbuf.iommu);
}

int main(void)
{
	struct io_uring ring;
	unsigned char *src, *dst;
	int fd, a, b, ret;

	fd = t_open_nvme(0, 0);
	printf("drive %s, %llu MiB, %u-byte blocks; ", t_nvme_path(0),
	       (unsigned long long)(t_dev_size(fd) >> 20), t_dev_lbsize(fd));
	show_iommu();

	a = dmabuf_rw_udmabuf_create(SIZE, NULL);
	b = dmabuf_rw_udmabuf_create(SIZE, NULL);
	if (a < 0 || b < 0)
		t_fail("udmabuf: %s", strerror(-(a < 0 ? a : b)));
	src = t_mmap(a, SIZE, PROT_READ | PROT_WRITE);
	dst = t_mmap(b, SIZE, PROT_READ | PROT_WRITE);
	t_dmabuf_sync(a, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	t_fill(src, SIZE, 0, SEED);
	t_dmabuf_sync(a, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	t_dmabuf_sync(b, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	memset(dst, 0, SIZE);
	t_dmabuf_sync(b, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	printf("1. two 1 MiB udmabufs (fds %d, %d); a pattern written into the first through its mmap\n",
	       a, b);

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	ret = io_uring_register_buffers_sparse(&ring, 2);
	if (ret)
		t_fail("io_uring_register_buffers_sparse: %s", strerror(-ret));
	ret = dmabuf_rw_register_dmabuf(&ring, 0, a, fd);
	if (!ret)
		ret = dmabuf_rw_register_dmabuf(&ring, 1, b, fd);
	if (ret) {
		printf("2. dma-buf registration failed: %s%s\n", strerror(-ret),
		       dmabuf_rw_probe() == -EOPNOTSUPP ?
		       " (this kernel does not have the dma-buf I/O series)" : "");
		return T_EXIT_FAIL;
	}
	/* a dma-buf slot's addresses are byte offsets into the dma-buf */
	ret = t_io(&ring, IORING_OP_WRITE_FIXED, fd, 0, SIZE, 0, 0);
	if (ret != SIZE)
		t_fail("WRITE_FIXED from the dma-buf: %d", ret);
	printf("2. both registered for the drive; WRITE_FIXED 1 MiB from the first dma-buf to the drive: ok\n");

	ret = t_io(&ring, IORING_OP_READ_FIXED, fd, 0, SIZE, 0, 1);
	if (ret != SIZE)
		t_fail("READ_FIXED into the dma-buf: %d", ret);
	printf("3. READ_FIXED 1 MiB from the drive into the second dma-buf: ok\n");

	t_dmabuf_sync(b, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	if (t_verify(dst, SIZE, 0, SEED, "second dma-buf"))
		t_fail("the second dma-buf does not hold what the first wrote");
	t_dmabuf_sync(b, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	printf("4. the second dma-buf (seen through its mmap) holds the pattern, byte for byte\n");
	io_uring_queue_exit(&ring);
	close(fd);

	compare();
	return T_EXIT_PASS;
}
