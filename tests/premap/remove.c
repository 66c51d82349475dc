// SPDX-License-Identifier: MIT
/*
 * Hot removal (hot-remove.h, the procedure it shares with life/remove): the
 * PCI function of drive 1 is removed while reads through a slot premapped
 * for it are in flight.  In-flight reads complete (with data or an error),
 * later I/O through the still registered slot fails with a clear errno
 * instead of hanging, and the driver has detached the mapping: the slot's
 * dma-buf-io-pages buffer has no attachment although the slot still holds
 * it.  The buffer stays an ordinary registered buffer: reads and writes
 * with it on drive 0 still work.  Clearing the slot releases the mapping;
 * after a PCI rescan the drive is back and a new premapped registration
 * of the same memory works with verified data.
 */
#include "premap-test.h"

#include "../life/hot-remove.h"

#define BUF_SIZE	(4U << 20)
#define QD		8
#define IO_SIZE		(256U << 10)
#define SEED		0x4e31

int main(void)
{
	struct io_uring ring;
	struct pt_pages pg;
	struct pt_buf b;
	char pci[PATH_MAX];
	int fd, fd0, ret;

	pt_require();
	hr_pci_function(pci);

	fd0 = pt_open(0, NULL);
	dt_dev_fill(fd0, 0, IO_SIZE, SEED + 1);
	fd = pt_open(1, NULL);
	dt_dev_fill(fd, 0, BUF_SIZE, SEED);
	if (io_uring_queue_init(QD, &ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(&ring, 1);
	pt_alloc(&b, BUF_SIZE, 512);
	pt_register(&ring, 0, b.p, b.len, fd);

	/* a premapped buffer never moves: no -EAGAIN */
	hr_remove(&ring, pci, fd, pt_addr(&b, 0), QD, IO_SIZE, 0);

	/* the mapping is detached, the slot still holds the buffer */
	pg = pt_pages();
	if (pg.n != pt_want || pg.attached)
		t_fail("device gone: %d dma-buf-io-pages buffers with %d attachments, want %d without any",
		       pg.n, pg.attached, pt_want);
	pt_expect_premapped(&ring, 0, pt_want, "the slot after its target was removed");

	/* and it is still an ordinary buffer for everything else */
	pt_poison(&b, 0, IO_SIZE);
	dt_expect_len(pt_io(&ring, IORING_OP_READ_FIXED, fd0, pt_addr(&b, 0), IO_SIZE, 0, 0, 0),
		      IO_SIZE, "READ_FIXED on drive 0 with the slot of the removed drive");
	if (t_verify(b.p, IO_SIZE, 0, SEED + 1, "drive 0 after drive 1 was removed"))
		t_fail("drive 0 through the slot of the removed drive: wrong data");
	t_fill(b.p, IO_SIZE, IO_SIZE, SEED + 2);
	dt_expect_len(pt_io(&ring, IORING_OP_WRITE_FIXED, fd0, pt_addr(&b, 0), IO_SIZE, IO_SIZE,
			    0, 0), IO_SIZE, "WRITE_FIXED on drive 0 with the slot of the removed drive");
	if (dt_dev_verify(fd0, IO_SIZE, IO_SIZE, SEED + 2, "written to drive 0"))
		t_fail("drive 0 through the slot of the removed drive: wrong data written");

	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing the slot after removal");
	pt_wait_pages(0, "slot of the removed drive cleared");
	close(fd);

	fd = hr_rescan();
	pt_register(&ring, 0, b.p, b.len, fd);
	pt_poison(&b, 0, BUF_SIZE);
	ret = pt_io(&ring, IORING_OP_READ_FIXED, fd, pt_addr(&b, 0), BUF_SIZE, 0, 0, 1);
	if (ret != (int)BUF_SIZE)
		t_fail("read after rescan: %d (%s)", ret, ret < 0 ? strerror(-ret) : "short");
	if (t_verify(b.p, BUF_SIZE, 0, SEED, "after rescan"))
		t_fail("data wrong after remove and rescan");
	printf("drive back after rescan, %u bytes verified through a new premapped registration\n",
	       BUF_SIZE);
	io_uring_queue_exit(&ring);
	pt_wait_pages(0, "after the ring's exit");
	pt_free(&b);
	close(fd);
	close(fd0);
	pt_done();
	return T_EXIT_PASS;
}
