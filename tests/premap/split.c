// SPDX-License-Identifier: MIT
/*
 * Large I/O through premapped buffers, which the block layer must split at
 * the long-lived map's DMA segments: 2 MiB, 2 MiB + 1 block, 4 MiB,
 * 8 MiB - 1 block and 8 MiB, in both directions, on drive 0 (QEMU's
 * default MDTS) and drive 1 (MDTS 32 KiB, so 8 MiB become 256 requests),
 * from a buffer that starts at a page boundary and one that starts 512
 * bytes into a page (no split point falls on a page boundary then).  Each
 * size is written from one offset and read back into another, checked on
 * the drive with plain O_DIRECT pread and in the buffer, with a poisoned
 * block on each side of the read.
 */
#include "premap-test.h"

#define SEED		0x5b12
#define BUF_SIZE	(16 * DT_MIB)
#define MAX_IO		(8 * DT_MIB)

static struct io_uring ring;
static unsigned int lbs;

static void split_one(int fd, const char *ctx, const struct pt_buf *b, unsigned int len,
		      size_t woff, size_t roff, uint64_t dev_off, uint32_t seed)
{
	char what[160];
	int ret;

	snprintf(what, sizeof(what), "%s: %u bytes at %llu, write from +%zu", ctx, len,
		 (unsigned long long)dev_off, woff);
	t_fill(b->p + woff, len, dev_off, seed);
	ret = pt_io(&ring, IORING_OP_WRITE_FIXED, fd, pt_addr(b, woff), len, dev_off, 0, 1);
	dt_expect_len(ret, len, "%s: WRITE_FIXED", what);
	if (dt_dev_verify(fd, dev_off, len, seed, what))
		t_fail("%s: wrong data on the drive", what);

	snprintf(what, sizeof(what), "%s: %u bytes at %llu, read into +%zu", ctx, len,
		 (unsigned long long)dev_off, roff);
	pt_poison(b, roff - lbs, len + 2 * lbs);
	ret = pt_io(&ring, IORING_OP_READ_FIXED, fd, pt_addr(b, roff), len, dev_off, 0, 1);
	dt_expect_len(ret, len, "%s: READ_FIXED", what);
	if (t_verify(b->p + roff, len, dev_off, seed, what) ||
	    dt_check_poison(b->p + roff - lbs, lbs, "block before") ||
	    dt_check_poison(b->p + roff + len, lbs, "block after"))
		t_fail("%s: wrong data in the buffer", what);
}

static void test_drive(int n)
{
	static const size_t leads[] = { 0, 512 };
	unsigned int sizes[5], i, k, count = 0;
	uint32_t seed = SEED;
	struct pt_buf b;
	char ctx[64];
	int fd;

	fd = pt_open(n, &lbs);
	if (t_dev_size(fd) < MAX_IO + 2 * DT_MIB)
		t_missing("%u bytes on drive %d for %u-byte I/O: it has %llu",
			  MAX_IO + 2 * DT_MIB, n, MAX_IO, (unsigned long long)t_dev_size(fd));
	sizes[0] = 2 * DT_MIB;
	sizes[1] = 2 * DT_MIB + lbs;
	sizes[2] = 4 * DT_MIB;
	sizes[3] = 8 * DT_MIB - lbs;
	sizes[4] = 8 * DT_MIB;
	for (k = 0; k < DT_ARRAY_SIZE(leads); k++) {
		snprintf(ctx, sizeof(ctx), "drive %d, buffer at page offset %zu", n, leads[k]);
		pt_alloc(&b, BUF_SIZE, leads[k]);
		pt_register(&ring, 0, b.p, b.len, fd);
		for (i = 0; i < DT_ARRAY_SIZE(sizes); i++) {
			split_one(fd, ctx, &b, sizes[i], 0, lbs, 0, seed++);
			split_one(fd, ctx, &b, sizes[i], 3 * lbs, BUF_SIZE - sizes[i] - lbs,
				  DT_MIB + lbs, seed++);
			count += 2;
		}
		dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
		pt_free(&b);
	}
	printf("drive %d: %u split writes and reads ok\n", n, count);
	close(fd);
}

int main(void)
{
	int ret;

	pt_require();
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 1);

	test_drive(0);
	if (t_bed_drives() > 1)
		test_drive(1);
	else
		printf("a bed of one drive: I/O split by MDTS not covered\n");

	io_uring_queue_exit(&ring);
	pt_done();
	return T_EXIT_PASS;
}
