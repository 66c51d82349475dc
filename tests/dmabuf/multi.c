// SPDX-License-Identifier: MIT
/*
 * Several slots, several dma-bufs.
 *
 * - Four slots hold four dma-bufs of different sizes and exporters
 *   (udmabuf, system heap) for drive 0: data written from each is read
 *   back into the next, one at a time and as one concurrent batch.
 * - One dma-buf in two slots, for drive 0 and for drive 1: I/O through
 *   both, each slot refused on the other drive.
 * - EMPTY then registering the same dma-buf again (for the same drive and
 *   for the other one), and replacing a slot's dma-buf directly.
 * - The registration holds the dma-buf: with its fd closed and its mapping
 *   gone, a read through the slot still lands in the udmabuf's memfd pages.
 */
#include "dmabuf-test.h"

#define SEED	0x3417
#define NBUFS	4

static struct io_uring ring;
static unsigned int lbs;
static uint32_t seed = SEED;

/* WRITE_FIXED from slot ws (dma-buf wb) then READ_FIXED into slot rs (rb). */
static void copy_check(int fd, int n, unsigned int ws, const struct dt_buf *wb,
		       unsigned int rs, const struct dt_buf *rb, unsigned int len,
		       uint64_t dev_off)
{
	size_t woff = wb->size - len, roff = lbs;
	char what[128];
	int ret;

	seed++;
	snprintf(what, sizeof(what), "drive %d: slot %u (%s) -> %llu -> slot %u (%s)",
		 n, ws, wb->kind, (unsigned long long)dev_off, rs, rb->kind);
	dt_fill(wb, woff, len, dev_off, seed);
	ret = dt_io(&ring, IORING_OP_WRITE_FIXED, fd, woff, len, dev_off, ws);
	dt_expect_len(ret, len, "%s: WRITE_FIXED", what);
	if (dt_dev_verify(fd, dev_off, len, seed, what))
		t_fail("%s: wrong data on the drive", what);
	dt_poison(rb, 0, roff + len + lbs);
	ret = dt_io(&ring, IORING_OP_READ_FIXED, fd, roff, len, dev_off, rs);
	dt_expect_len(ret, len, "%s: READ_FIXED", what);
	dt_cpu_begin(rb);
	if (t_verify(rb->map + roff, len, dev_off, seed, what) ||
	    dt_check_poison(rb->map, roff, "before the read") ||
	    dt_check_poison(rb->map + roff + len, lbs, "after the read"))
		t_fail("%s: wrong data in the dma-buf", what);
	dt_cpu_end(rb);
}

static void test_four(int fd, struct dt_buf *bufs)
{
	struct io_uring_cqe *cqe;
	unsigned int i, len = 64 * 1024;
	char what[96];
	int ret;

	for (i = 0; i < NBUFS; i++)
		dt_register(&ring, i, &bufs[i], fd);
	for (i = 0; i < NBUFS; i++) {
		const struct dt_buf *next = &bufs[(i + 1) % NBUFS];
		size_t min = bufs[i].size < next->size ? bufs[i].size : next->size;

		copy_check(fd, 0, i, &bufs[i], (i + 1) % NBUFS, next, min / 2 + lbs,
			   i * 4ULL * DT_MIB);
	}

	/* one batch: a read into every slot at once */
	dt_dev_fill(fd, 32 * DT_MIB, NBUFS * DT_MIB, seed + 1);
	for (i = 0; i < NBUFS; i++) {
		dt_poison(&bufs[i], 0, bufs[i].size);
		dt_prep(&ring, IORING_OP_READ_FIXED, fd, bufs[i].size - len, len,
			32 * DT_MIB + i * DT_MIB + i * lbs, i, i);
	}
	dt_submit(&ring);
	for (i = 0; i < NBUFS; i++) {
		unsigned int k;

		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret)
			t_fail("io_uring_wait_cqe: %s", strerror(-ret));
		k = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (ret == -EAGAIN) {
			dt_eagain++;
			dt_prep(&ring, IORING_OP_READ_FIXED, fd, bufs[k].size - len, len,
				32 * DT_MIB + k * DT_MIB + k * lbs, k, k);
			dt_submit(&ring);
			i--;
			continue;
		}
		dt_expect_len(ret, len, "batch read into slot %u", k);
	}
	for (i = 0; i < NBUFS; i++) {
		snprintf(what, sizeof(what), "batch read into slot %u (%s)", i, bufs[i].kind);
		dt_cpu_begin(&bufs[i]);
		if (t_verify(bufs[i].map + bufs[i].size - len, len,
			     32 * DT_MIB + i * DT_MIB + i * lbs, seed + 1, what) ||
		    dt_check_poison(bufs[i].map, bufs[i].size - len, "rest of the dma-buf"))
			t_fail("%s: wrong data", what);
		dt_cpu_end(&bufs[i]);
	}
	seed++;

	/* replace slot 0's dma-buf by slot 1's directly, then put it back */
	dt_register(&ring, 0, &bufs[1], fd);
	copy_check(fd, 0, 2, &bufs[2], 0, &bufs[1], 8 * lbs, 20 * DT_MIB);
	dt_register(&ring, 0, &bufs[0], fd);
	copy_check(fd, 0, 2, &bufs[2], 0, &bufs[0], 8 * lbs, 20 * DT_MIB);
	for (i = 0; i < NBUFS; i++)
		dt_expect(dmabuf_rw_clear_buffer(&ring, i), 0, "clearing slot %u", i);
	printf("4 dma-bufs in 4 slots: sequential, batch and replace ok\n");
}

static void test_two_drives(int fd0, int fd1, const struct dt_buf *b)
{
	unsigned int len = 256 * 1024;

	dt_register(&ring, 4, b, fd0);
	dt_register(&ring, 5, b, fd1);
	copy_check(fd0, 0, 4, b, 4, b, len, 40 * DT_MIB);
	copy_check(fd1, 1, 5, b, 5, b, len, 40 * DT_MIB + lbs);
	copy_check(fd0, 0, 4, b, 4, b, 3 * DT_MIB / 4, 44 * DT_MIB);
	copy_check(fd1, 1, 5, b, 5, b, 3 * DT_MIB / 4, 44 * DT_MIB);
	dt_expect(dt_io(&ring, IORING_OP_READ_FIXED, fd1, 0, lbs, 0, 4), -EBADF,
		  "slot for drive 0 used on drive 1");
	dt_expect(dt_io(&ring, IORING_OP_WRITE_FIXED, fd0, 0, lbs, 0, 5), -EBADF,
		  "slot for drive 1 used on drive 0");

	/* EMPTY, then the same dma-buf again: same drive, then the other one */
	dt_expect(dmabuf_rw_clear_buffer(&ring, 4), 0, "clearing slot 4");
	dt_expect(dt_io(&ring, IORING_OP_READ_FIXED, fd0, 0, lbs, 0, 4), -EFAULT,
		  "READ_FIXED on the emptied slot");
	copy_check(fd1, 1, 5, b, 5, b, len, 48 * DT_MIB);
	dt_register(&ring, 4, b, fd0);
	copy_check(fd0, 0, 4, b, 4, b, len, 48 * DT_MIB + 2 * lbs);
	dt_expect(dmabuf_rw_clear_buffer(&ring, 4), 0, "clearing slot 4");
	dt_register(&ring, 4, b, fd1);
	copy_check(fd1, 1, 4, b, 5, b, len, 52 * DT_MIB);
	dt_expect(dt_io(&ring, IORING_OP_READ_FIXED, fd0, 0, lbs, 0, 4), -EBADF,
		  "slot re-registered for drive 1 used on drive 0");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 4), 0, "clearing slot 4");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 5), 0, "clearing slot 5");
	printf("one dma-buf for two drives, EMPTY and re-register ok\n");
}

/* Only the registration keeps the udmabuf: check through its memfd. */
static void test_held(int fd, struct dt_buf *b)
{
	unsigned char *mem = t_mmap(b->memfd, b->size, PROT_READ | PROT_WRITE);
	unsigned int len = 128 * 1024;
	int ret;

	dt_register(&ring, 6, b, fd);
	munmap(b->map, b->size);
	close(b->fd);
	b->map = NULL;
	dt_dev_fill(fd, 56 * DT_MIB, len, seed + 7);
	memset(mem, 0xa5, b->size);
	ret = dt_io(&ring, IORING_OP_READ_FIXED, fd, 4096, len, 56 * DT_MIB, 6);
	dt_expect_len(ret, len, "READ_FIXED with the dma-buf fd closed");
	if (t_verify(mem + 4096, len, 56 * DT_MIB, seed + 7, "memfd behind the closed dma-buf") ||
	    dt_check_poison(mem, 4096, "before the read") ||
	    dt_check_poison(mem + 4096 + len, b->size - 4096 - len, "after the read"))
		t_fail("READ_FIXED with the dma-buf fd closed: wrong data in the memfd");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 6), 0, "clearing slot 6");
	munmap(mem, b->size);
	close(b->memfd);
	printf("registration outlives the dma-buf fd and mapping\n");
}

int main(void)
{
	struct dt_buf bufs[NBUFS], shared, held;
	int fd0, fd1 = -1, ret;
	unsigned int i;

	dt_require();
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 8);
	fd0 = t_open_nvme(0, 0);
	lbs = t_dev_lbsize(fd0);
	if (t_dev_size(fd0) < 64 * DT_MIB)
		t_missing("64 MiB on drive 0: it has %llu bytes",
			  (unsigned long long)t_dev_size(fd0));
	dt_udmabuf(&bufs[0], DT_MIB);
	dt_heapbuf(&bufs[1], 2 * DT_MIB);
	dt_udmabuf(&bufs[2], 3 * DT_MIB);
	dt_heapbuf(&bufs[3], DT_MIB / 2);
	test_four(fd0, bufs);

	dt_udmabuf(&shared, 2 * DT_MIB);
	if (t_bed_drives() > 1) {
		fd1 = t_open_nvme(1, 0);
		test_two_drives(fd0, fd1, &shared);
	} else {
		printf("a bed of one drive: one dma-buf for two drives not covered\n");
	}
	dt_udmabuf(&held, DT_MIB);
	test_held(fd0, &held);

	io_uring_queue_exit(&ring);
	for (i = 0; i < NBUFS; i++)
		dt_buf_free(&bufs[i]);
	dt_buf_free(&shared);
	close(fd0);
	if (fd1 >= 0)
		close(fd1);
	dt_report();
	return T_EXIT_PASS;
}
