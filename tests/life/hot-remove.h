/* SPDX-License-Identifier: MIT */
/*
 * Hot removal of drive 1 with reads in flight through a registered slot,
 * the procedure life/remove (a dma-buf slot) and premap/remove (a premapped
 * slot) share; each checks afterwards what its kind of buffer must have
 * done (the exporter's attachments, the long-lived mapping), then brings
 * the drive back with hr_rescan() and registers the buffer again.
 */
#ifndef DMABUF_RW_HOT_REMOVE_H
#define DMABUF_RW_HOT_REMOVE_H

#include <liburing.h>

#include "test.h"
#include "nvme-sysfs.h"

/* What I/O to a removed drive may fail with. */
static inline int hr_gone_errno(int err)
{
	return err == ENODEV || err == EIO || err == ENXIO;
}

/* Whatever happens, give later tests their drive back. */
static inline void hr_rescan_at_exit(void)
{
	sysfs_write("/sys/bus/pci", "rescan", "1");
	nvme_wait_drive(1, 30);
}

/* The PCI function of drive 1 (its sysfs directory, in pci[PATH_MAX]). */
static inline void hr_pci_function(char *pci)
{
	char *ctrl = nvme_need_ctrl_dir(1), link[PATH_MAX];

	snprintf(link, sizeof(link), "%s/device", ctrl);
	if (!realpath(link, pci))
		t_fail("no PCI device for %s", ctrl);
}

/*
 * Queue qd reads of io_size bytes from drive 1 (fd) into slot 0, whose
 * buffer starts at SQE addr base, and remove the drive's PCI function pci
 * while they are in flight.  Each must complete (with data or an error)
 * instead of hanging: eagain_ok lets it complete with -EAGAIN (a dma-buf
 * may be invalidated on the way).  Then I/O through the still registered
 * slot must fail with a clear errno.
 */
static inline void hr_remove(struct io_uring *ring, const char *pci, int fd, uint64_t base,
			     int qd, unsigned int io_size, int eagain_ok)
{
	int ok = 0, failed = 0, ret;

	for (int i = 0; i < qd; i++)
		io_uring_prep_read_fixed(io_uring_get_sqe(ring), fd,
					 (void *)(uintptr_t)(base + i * io_size), io_size,
					 (uint64_t)i * io_size, 0);
	if (io_uring_submit(ring) != qd)
		t_fail("submit");
	atexit(hr_rescan_at_exit);
	if (sysfs_write(pci, "remove", "1"))
		t_fail("remove %s: %s", pci, strerror(errno));

	for (int i = 0; i < qd; i++) {
		struct __kernel_timespec ts = { .tv_sec = 120 };
		struct io_uring_cqe *cqe;

		if (io_uring_wait_cqe_timeout(ring, &cqe, &ts))
			t_fail("in-flight read %d never completed after removal", i);
		if (cqe->res == (int)io_size)
			ok++;
		/* issued after the disk lost its capacity: end of device */
		else if (!cqe->res ||
			 (cqe->res < 0 && (hr_gone_errno(-cqe->res) ||
					   (eagain_ok && cqe->res == -EAGAIN))))
			failed++;
		else
			t_fail("in-flight read: res %d (%s)", cqe->res,
			       cqe->res < 0 ? strerror(-cqe->res) : "short");
		io_uring_cqe_seen(ring, cqe);
	}

	/*
	 * The removed disk has no capacity left: a read is at its end (0) or
	 * fails, a write has no space or fails; neither may reach the device.
	 */
	ret = t_io(ring, IORING_OP_READ_FIXED, fd, base, 4096, 0, 0);
	if (ret > 0 || (ret < 0 && !hr_gone_errno(-ret)))
		t_fail("read through the slot after removal: %d (%s), want 0 or ENODEV/EIO/ENXIO",
		       ret, ret < 0 ? strerror(-ret) : "data");
	printf("after removal: in flight %d completed, %d failed; a new read gives %s\n",
	       ok, failed, ret ? strerror(-ret) : "end of device");
	ret = t_io(ring, IORING_OP_WRITE_FIXED, fd, base, 4096, 0, 0);
	if (ret >= 0 || (!hr_gone_errno(-ret) && ret != -ENOSPC))
		t_fail("write through the slot after removal: %d (%s), want ENOSPC/ENODEV/EIO/ENXIO",
		       ret, ret < 0 ? strerror(-ret) : "success");
	printf("a new write gives %s\n", strerror(-ret));
}

/* Rescan the PCI bus; drive 1 must come back: returns it opened again. */
static inline int hr_rescan(void)
{
	if (sysfs_write("/sys/bus/pci", "rescan", "1"))
		t_fail("rescan: %s", strerror(errno));
	if (!nvme_wait_drive(1, 30))
		t_fail("drive 1 did not come back after rescan");
	return t_open_nvme(1, 0);
}

#endif /* DMABUF_RW_HOT_REMOVE_H */
