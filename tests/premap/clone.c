// SPDX-License-Identifier: MIT
/*
 * IORING_REGISTER_CLONE_BUFFERS with a premapped slot.  Unlike a dma-buf
 * slot, which is refused, a premapped buffer is an ordinary registered
 * buffer and clones like one:
 *
 * - ring A holds the buffer premapped for drive 0 in slot 0, an ordinary
 *   buffer in slot 1 and nothing in slot 2; cloning A into ring B gives B
 *   the same three (0 for slot 1, -ENOENT for slot 2) and no second
 *   mapping;
 * - reads and writes through B's slot 0 on drive 0 and drive 1 are
 *   verified byte for byte, and A keeps using its mapping meanwhile;
 * - B keeps the buffer when A clears its slot and when A exits: I/O
 *   through B still verifies;
 * - what the clone is: the same buffer, mapping included (design.md, "a
 *   clone in another ring shares the mapping for requests on the same
 *   file"), so B's slot reads like A's and READ_FIXED/WRITE_FIXED on
 *   drive 0 through B use the mapping, also once A is gone;
 * - once B clears the slot nothing is left mapped.
 */
#include "premap-test.h"

#ifndef IORING_REGISTER_CLONE_BUFFERS
#define IORING_REGISTER_CLONE_BUFFERS	30
struct io_uring_clone_buffers {
	__u32	src_fd;
	__u32	flags;
	__u32	src_off;
	__u32	dst_off;
	__u32	nr;
	__u32	pad[3];
};
#endif

#define SEED		0xc10e
#define BUF_SIZE	(2 * DT_MIB)
#define AREA		(2 * DT_MIB)
#define SCRATCH		(16 * DT_MIB)

static struct pt_buf b;
static int fd0, fd1 = -1;
static unsigned int lbs;

/* liburing 2.3 has no io_uring_clone_buffers(): the raw call. */
static int clone_buffers(struct io_uring *dst, struct io_uring *src)
{
	struct io_uring_clone_buffers arg = { .src_fd = src->ring_fd };
	int ret = syscall(__NR_io_uring_register, dst->ring_fd, IORING_REGISTER_CLONE_BUFFERS,
			  &arg, 1);

	return ret < 0 ? -errno : ret;
}

/* A verified read and write through slot 0 of r on fd (path: see pt_io()). */
static void rw_check(struct io_uring *r, int fd, uint32_t seed, int premapped, const char *what)
{
	unsigned int len = 64 << 10;
	char msg[160];
	int ret;

	snprintf(msg, sizeof(msg), "%s: read", what);
	pt_poison(&b, lbs, len + lbs);
	ret = pt_io(r, IORING_OP_READ_FIXED, fd, pt_addr(&b, lbs), len, 3 * lbs, 0, premapped);
	dt_expect_len(ret, len, "%s", msg);
	if (t_verify(b.p + lbs, len, 3 * lbs, seed, msg) ||
	    dt_check_poison(b.p + lbs + len, lbs, "block after"))
		t_fail("%s: wrong data in the buffer", msg);

	snprintf(msg, sizeof(msg), "%s: write", what);
	t_fill(b.p + DT_MIB, len, SCRATCH + lbs, seed + 1);
	ret = pt_io(r, IORING_OP_WRITE_FIXED, fd, pt_addr(&b, DT_MIB), len, SCRATCH + lbs, 0,
		    premapped);
	dt_expect_len(ret, len, "%s", msg);
	if (dt_dev_verify(fd, SCRATCH + lbs, len, seed + 1, msg))
		t_fail("%s: wrong data on the drive", msg);
}

/* rw_check() with no expectation about the path: the data alone. */
static void rw_data(struct io_uring *r, int fd, uint32_t seed, const char *what)
{
	rw_check(r, fd, seed, -1, what);
}

int main(void)
{
	struct io_uring a, b_ring;
	unsigned char *other;
	long bios;

	pt_require();
	fd0 = pt_open(0, &lbs);
	dt_dev_fill(fd0, 0, AREA, SEED);
	if (t_bed_drives() > 1) {
		fd1 = pt_open(1, NULL);
		dt_dev_fill(fd1, 0, AREA, SEED + 16);
	}
	if (io_uring_queue_init(4, &a, 0) || io_uring_queue_init(4, &b_ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(&a, 3);
	pt_alloc(&b, BUF_SIZE, 512);
	other = t_malloc(BUF_SIZE);
	pt_register(&a, 0, b.p, b.len, fd0);
	dt_expect(dmabuf_rw_register_uaddr(&a, 1, other, BUF_SIZE), 0, "ordinary slot 1");

	dt_expect(clone_buffers(&b_ring, &a), 0, "cloning ring A (a premapped slot) into ring B");
	pt_expect_premapped(&b_ring, 1, 0, "ring B's clone of an ordinary slot");
	pt_expect_premapped(&b_ring, 2, -ENOENT, "ring B's clone of an empty slot");
	pt_expect_premapped(&a, 0, pt_want, "ring A's slot after the clone");
	pt_wait_pages(pt_want, "a premapped slot and its clone: one mapping");

	rw_data(&b_ring, fd0, SEED, "ring B, drive 0");
	if (fd1 >= 0)
		rw_data(&b_ring, fd1, SEED + 16, "ring B, drive 1");
	rw_check(&a, fd0, SEED, 1, "ring A, drive 0, after the clone");
	if (fd1 >= 0)
		rw_check(&a, fd1, SEED + 16, 0, "ring A, drive 1, after the clone");

	/* the clone holds the buffer on its own */
	dt_expect(dmabuf_rw_clear_buffer(&a, 0), 0, "clearing ring A's slot 0");
	rw_data(&b_ring, fd0, SEED, "ring B, drive 0, ring A's slot cleared");
	io_uring_queue_exit(&a);
	rw_data(&b_ring, fd0, SEED, "ring B, drive 0, ring A gone");
	if (fd1 >= 0)
		rw_data(&b_ring, fd1, SEED + 16, "ring B, drive 1, ring A gone");
	printf("clone: data through ring B verified, also after ring A cleared its slot and exited\n");

	/* what the clone is: the same buffer, sharing the mapping (say what it does first) */
	bios = pt_bios();
	rw_data(&b_ring, fd0, SEED, "ring B, drive 0, before the checks of the path");
	printf("ring B: slot 0 reads %d, a read and a write on drive 0 built %ld bios from the mapping\n",
	       dmabuf_rw_buffer_premapped(&b_ring, 0), pt_bios() - bios);
	pt_expect_premapped(&b_ring, 0, pt_want,
			    "ring B's clone of a premapped slot (documented: it shares the mapping)");
	rw_check(&b_ring, fd0, SEED, 1,
		 "ring B, drive 0 (documented: a clone uses the mapping on the target)");

	dt_expect(dmabuf_rw_clear_buffer(&b_ring, 0), 0, "clearing ring B's slot 0");
	pt_wait_pages(0, "every slot holding the buffer cleared");
	io_uring_queue_exit(&b_ring);
	pt_free(&b);
	free(other);
	close(fd0);
	if (fd1 >= 0)
		close(fd1);
	pt_done();
	return T_EXIT_PASS;
}
