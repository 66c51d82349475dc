// SPDX-License-Identifier: MIT
/*
 * Large I/O through dma-buf slots, which the block layer must split: 2 MiB,
 * 2 MiB + 1 block, 4 MiB, 8 MiB - 1 block and 8 MiB, in both directions,
 * on drive 0 (QEMU's default MDTS) and drive 1 (MDTS 32 KiB, so an 8 MiB
 * I/O becomes 256 requests).  Each size is written from one dma-buf offset
 * and read back into another, checked on the drive with plain O_DIRECT
 * pread and in the dma-buf through its mmap, with a poisoned block on each
 * side of the read.  udmabuf and system heap.
 */
#include "dmabuf-test.h"

#define SEED		0x5b11
#define BUF_SIZE	(16 * DT_MIB)
#define MAX_IO		(8 * DT_MIB)

static struct io_uring ring;
static unsigned int lbs;

/* The drive's max_sectors_kb, 0 if unknown. */
static unsigned int max_kb(int n)
{
	char path[128];
	unsigned int kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/queue/max_sectors_kb",
		 strrchr(t_nvme_path(n), '/') + 1);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%u", &kb) != 1)
			kb = 0;
		fclose(f);
	}
	return kb;
}

static void split_one(int fd, int n, const struct dt_buf *b, unsigned int len,
		      size_t woff, size_t roff, uint64_t dev_off, uint32_t seed)
{
	char what[128];
	int ret;

	snprintf(what, sizeof(what), "drive %d, %s: %u bytes at %llu, write from +%zu",
		 n, b->kind, len, (unsigned long long)dev_off, woff);
	dt_fill(b, woff, len, dev_off, seed);
	ret = dt_io(&ring, IORING_OP_WRITE_FIXED, fd, woff, len, dev_off, 0);
	dt_expect_len(ret, len, "%s: WRITE_FIXED", what);
	if (dt_dev_verify(fd, dev_off, len, seed, what))
		t_fail("%s: wrong data on the drive", what);

	snprintf(what, sizeof(what), "drive %d, %s: %u bytes at %llu, read into +%zu",
		 n, b->kind, len, (unsigned long long)dev_off, roff);
	dt_poison(b, roff - lbs, len + 2 * lbs);
	ret = dt_io(&ring, IORING_OP_READ_FIXED, fd, roff, len, dev_off, 0);
	dt_expect_len(ret, len, "%s: READ_FIXED", what);
	dt_cpu_begin(b);
	if (t_verify(b->map + roff, len, dev_off, seed, what) ||
	    dt_check_poison(b->map + roff - lbs, lbs, "block before") ||
	    dt_check_poison(b->map + roff + len, lbs, "block after"))
		t_fail("%s: wrong data in the dma-buf", what);
	dt_cpu_end(b);
}

static void test_drive(int n, const struct dt_buf *bufs)
{
	unsigned int sizes[5], i, k, kb, count = 0;
	uint32_t seed = SEED;
	int fd;

	fd = t_open_nvme(n, 0);
	lbs = t_dev_lbsize(fd);
	if (t_dev_size(fd) < MAX_IO + 2 * DT_MIB)
		t_missing("%u bytes on drive %d for %u-byte I/O: it has %llu",
			  MAX_IO + 2 * DT_MIB, n, MAX_IO, (unsigned long long)t_dev_size(fd));
	sizes[0] = 2 * DT_MIB;
	sizes[1] = 2 * DT_MIB + lbs;
	sizes[2] = 4 * DT_MIB;
	sizes[3] = 8 * DT_MIB - lbs;
	sizes[4] = 8 * DT_MIB;
	for (k = 0; k < 2; k++) {
		const struct dt_buf *b = &bufs[k];

		dt_register(&ring, 0, b, fd);
		for (i = 0; i < DT_ARRAY_SIZE(sizes); i++) {
			/* block-aligned, page-aligned and odd offsets both ways */
			split_one(fd, n, b, sizes[i], 0, lbs, 0, seed++);
			split_one(fd, n, b, sizes[i], 3 * lbs, BUF_SIZE - sizes[i] - lbs,
				  DT_MIB + lbs, seed++);
			count += 2;
		}
		dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	}
	kb = max_kb(n);
	printf("drive %d (max_sectors_kb %u: %u requests per %u MiB): %u split writes and reads ok\n",
	       n, kb, kb ? (MAX_IO >> 10) / kb : 0, MAX_IO >> 20, count);
	close(fd);
}

int main(void)
{
	struct dt_buf bufs[2];
	int ret;

	dt_require();
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 1);
	dt_udmabuf(&bufs[0], BUF_SIZE);
	dt_heapbuf(&bufs[1], BUF_SIZE);

	test_drive(0, bufs);
	if (t_bed_drives() > 1)
		test_drive(1, bufs);
	else
		printf("a bed of one drive: I/O split by MDTS not covered\n");

	io_uring_queue_exit(&ring);
	dt_buf_free(&bufs[0]);
	dt_buf_free(&bufs[1]);
	dt_report();
	return T_EXIT_PASS;
}
