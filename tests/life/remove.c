// SPDX-License-Identifier: MIT
/*
 * Hot removal (hot-remove.h, the procedure it shares with premap/remove):
 * the PCI function of drive 1 is removed while reads through a dma-buf slot
 * registered for it are in flight.  In-flight I/O must complete (with data
 * or an error), later I/O through the still registered slot must fail with
 * a clear errno instead of hanging, and the driver must have detached the
 * dma-buf: the exporter sees no attachment although the slot is still
 * registered.  After a PCI rescan the drive is back, and a new
 * registration of the same dma-buf works with verified data.
 */
#include <sys/mman.h>

#include "test.h"
#include "dmabuf-rw.h"
#include "hot-remove.h"
#include "../inval/mover.h"

#define BUF_SIZE	(4U << 20)
#define QD		8
#define IO_SIZE		(256U << 10)
#define SEED		0x4e30

int main(void)
{
	struct dmabuf_mover_stats st;
	struct io_uring ring;
	unsigned char *map;
	char pci[PATH_MAX];
	int dev, buf, fd, ret;

	t_require_dmabuf_io();
	hr_pci_function(pci);

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

	hr_remove(&ring, pci, fd, 0, QD, IO_SIZE, 1);

	st = mover_stats(dev, buf);
	if (st.attachments || st.mapped)
		t_fail("device gone but the dma-buf is still attached (%llu) or mapped (%llu)",
		       (unsigned long long)st.attachments, (unsigned long long)st.mapped);

	if (dmabuf_rw_clear_buffer(&ring, 0))
		t_fail("clear slot after removal");
	close(fd);

	fd = hr_rescan();
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
