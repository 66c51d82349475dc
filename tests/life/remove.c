// SPDX-License-Identifier: MIT
/*
 * Hot removal: the PCI function of drive 1 is removed while reads through a
 * dma-buf slot registered for it are in flight.  In-flight I/O must complete
 * (with data or an error), later I/O through the still registered slot must
 * fail with a clear errno instead of hanging, and the driver must have
 * detached the dma-buf: the exporter sees no attachment although the slot
 * is still registered.  After a PCI rescan the drive is back, and a new
 * registration of the same dma-buf works with verified data.
 */
#include <sys/mman.h>

#include "test.h"
#include "dmabuf-rw.h"
#include "nvme-sysfs.h"
#include "../inval/mover.h"

#define BUF_SIZE	(4U << 20)
#define QD		8
#define IO_SIZE		(256U << 10)
#define SEED		0x4e30

static int gone_errno(int err)
{
	return err == ENODEV || err == EIO || err == ENXIO;
}

/* Whatever happens, give later tests their drive back. */
static void rescan(void)
{
	sysfs_write("/sys/bus/pci", "rescan", "1");
	nvme_wait_drive(1, 30);
}

int main(void)
{
	struct dmabuf_mover_stats st;
	struct io_uring ring;
	unsigned char *map;
	char *ctrl, link[PATH_MAX], pci[PATH_MAX];
	int dev, buf, fd, ret, ok = 0, failed = 0;

	t_require_dmabuf_io();
	t_need_nvme(1);
	ctrl = nvme_ctrl_dir(1);
	if (!ctrl)
		t_fail("no sysfs controller directory for drive 1 (%s)", t_nvme_path(1));
	snprintf(link, sizeof(link), "%s/device", ctrl);
	if (!realpath(link, pci))
		t_fail("no PCI device for %s", ctrl);

	dev = mover_open();
	buf = mover_create(dev, BUF_SIZE);
	map = t_mmap(buf, BUF_SIZE, PROT_READ | PROT_WRITE);
	fd = t_open_nvme(1, 0);
	t_fill_dev(fd, 0, BUF_SIZE, SEED);

	if (io_uring_queue_init(QD, &ring, 0) || io_uring_register_buffers_sparse(&ring, 1))
		t_fail("ring setup");
	ret = dmabuf_rw_register_dmabuf(&ring, 0, buf, fd);
	if (ret < 0)
		t_fail("register: %d (%s)", ret, strerror(-ret));

	for (int i = 0; i < QD; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_read_fixed(sqe, fd, (void *)(uintptr_t)(i * IO_SIZE),
					 IO_SIZE, (uint64_t)i * IO_SIZE, 0);
	}
	if (io_uring_submit(&ring) != QD)
		t_fail("submit");
	atexit(rescan);
	if (sysfs_write(pci, "remove", "1"))
		t_fail("remove %s: %s", pci, strerror(errno));

	for (int i = 0; i < QD; i++) {
		struct __kernel_timespec ts = { .tv_sec = 120 };
		struct io_uring_cqe *cqe;

		if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts))
			t_fail("in-flight read %d never completed after removal", i);
		if (cqe->res == (int)IO_SIZE)
			ok++;
		/* issued after the disk lost its capacity: end of device */
		else if (!cqe->res ||
			 (cqe->res < 0 && (gone_errno(-cqe->res) || cqe->res == -EAGAIN)))
			failed++;
		else
			t_fail("in-flight read: res %d (%s)", cqe->res,
			       cqe->res < 0 ? strerror(-cqe->res) : "short");
		io_uring_cqe_seen(&ring, cqe);
	}

	/*
	 * The removed disk has no capacity left: a read is at its end (0) or
	 * fails, a write has no space or fails; neither may reach the device.
	 */
	ret = t_io(&ring, IORING_OP_READ_FIXED, fd, 0, 4096, 0, 0);
	if (ret > 0 || (ret < 0 && !gone_errno(-ret)))
		t_fail("read through the slot after removal: %d (%s), want 0 or ENODEV/EIO/ENXIO",
		       ret, ret < 0 ? strerror(-ret) : "data");
	printf("after removal: in flight %d completed, %d failed; a new read gives %s\n",
	       ok, failed, ret ? strerror(-ret) : "end of device");
	ret = t_io(&ring, IORING_OP_WRITE_FIXED, fd, 0, 4096, 0, 0);
	if (ret >= 0 || (!gone_errno(-ret) && ret != -ENOSPC))
		t_fail("write through the slot after removal: %d (%s), want ENOSPC/ENODEV/EIO/ENXIO",
		       ret, ret < 0 ? strerror(-ret) : "success");
	printf("a new write gives %s\n", strerror(-ret));

	st = mover_stats(dev, buf);
	if (st.attachments || st.mapped)
		t_fail("device gone but the dma-buf is still attached (%llu) or mapped (%llu)",
		       (unsigned long long)st.attachments, (unsigned long long)st.mapped);

	if (dmabuf_rw_clear_buffer(&ring, 0))
		t_fail("clear slot after removal");
	close(fd);

	if (sysfs_write("/sys/bus/pci", "rescan", "1"))
		t_fail("rescan: %s", strerror(errno));
	if (!nvme_wait_drive(1, 30))
		t_fail("drive 1 did not come back after rescan");
	fd = t_open_nvme(1, 0);
	ret = dmabuf_rw_register_dmabuf(&ring, 0, buf, fd);
	if (ret < 0)
		t_fail("register after rescan: %d (%s)", ret, strerror(-ret));
	memset(map, 0, BUF_SIZE);
	do {
		ret = t_io(&ring, IORING_OP_READ_FIXED, fd, 0, BUF_SIZE, 0, 0);
	} while (ret == -EAGAIN);
	if (ret != (int)BUF_SIZE)
		t_fail("read after rescan: %d (%s)", ret, ret < 0 ? strerror(-ret) : "short");
	if (t_verify(map, BUF_SIZE, 0, SEED, "after rescan"))
		t_fail("data wrong after remove and rescan");
	printf("drive back after rescan, %u bytes verified through a new registration\n",
	       BUF_SIZE);
	io_uring_queue_exit(&ring);
	close(fd);
	close(buf);
	return T_EXIT_PASS;
}
