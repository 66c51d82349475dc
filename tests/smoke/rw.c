// SPDX-License-Identifier: MIT
/*
 * Smoke: O_DIRECT write then read through io_uring (IORING_OP_WRITE/READ)
 * on the NVMe bed drives, data checked byte for byte with a position-
 * dependent pattern.  Sizes from one block to 4 MiB at block-aligned device
 * and buffer offsets; drive 1 has a small MDTS, so large I/O is split.
 * Each write is also checked not to spill into the blocks around it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

#define AREA		(16U << 20)	/* device bytes used per drive */
#define SEED_BG		1		/* background fill */
#define SEED_IO		2		/* what the cases write */

/* In 512-byte units, rounded up to whole blocks on other block sizes. */
struct rw_case {
	unsigned int len;
	unsigned int buf_off;
};

static const struct rw_case cases[] = {
	{ 1, 0 }, { 1, 1 }, { 3, 7 }, { 8, 0 }, { 9, 3 }, { 64, 1 },
	{ 128, 0 }, { 129, 8 }, { 1024, 0 }, { 2048, 5 }, { 2056, 1 },
	{ 8192, 0 },
};

static unsigned int blocks(unsigned int units, unsigned int lbs)
{
	return (units * 512 + lbs - 1) / lbs;
}

static int run_case(struct io_uring *ring, int fd, unsigned int lbs,
		    uint64_t off, const struct rw_case *c, void *wbuf, void *rbuf)
{
	unsigned int len = blocks(c->len, lbs) * lbs;
	unsigned int boff = blocks(c->buf_off, lbs) * lbs;
	unsigned int rlen = len + 2 * lbs;
	char what[96];
	int ret;

	t_fill((char *)wbuf + boff, len, off, SEED_IO);
	ret = t_io(ring, IORING_OP_WRITE, fd, (uintptr_t)wbuf + boff, len, off, -1);
	if (ret != (int)len) {
		printf("write %u at %llu (buf +%u): res %d%s%s\n", len,
		       (unsigned long long)off, boff, ret,
		       ret < 0 ? " " : "", ret < 0 ? strerror(-ret) : "");
		return -1;
	}
	/* read back one block on each side as well */
	memset(rbuf, 0xa5, rlen + boff);
	ret = t_io(ring, IORING_OP_READ, fd, (uintptr_t)rbuf + boff, rlen, off - lbs, -1);
	if (ret != (int)rlen) {
		printf("read %u at %llu (buf +%u): res %d%s%s\n", rlen,
		       (unsigned long long)(off - lbs), boff, ret,
		       ret < 0 ? " " : "", ret < 0 ? strerror(-ret) : "");
		return -1;
	}
	snprintf(what, sizeof(what), "%u bytes at %llu (buf +%u)", len,
		 (unsigned long long)off, boff);
	if (t_verify((char *)rbuf + boff, lbs, off - lbs, SEED_BG, "block before") ||
	    t_verify((char *)rbuf + boff + lbs, len, off, SEED_IO, what) ||
	    t_verify((char *)rbuf + boff + lbs + len, lbs, off + len, SEED_BG, "block after"))
		return -1;
	return 0;
}

static void test_drive(struct io_uring *ring, int n)
{
	unsigned int i, lbs, max = 0, chunk = 1U << 20;
	uint64_t off, size;
	void *wbuf, *rbuf;
	int fd, ret;

	fd = t_open_nvme(n, 0);
	lbs = t_dev_lbsize(fd);
	size = t_dev_size(fd);
	if (size < AREA)
		t_missing("%u bytes on drive %d: it has %llu", AREA, n, (unsigned long long)size);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int need = (blocks(cases[i].len, lbs) +
				     blocks(cases[i].buf_off, lbs) + 2) * lbs;

		if (need > max)
			max = need;
	}
	wbuf = t_malloc(max > chunk ? max : chunk);
	rbuf = t_malloc(max);

	for (off = 0; off < AREA; off += chunk) {
		t_fill(wbuf, chunk, off, SEED_BG);
		ret = t_io(ring, IORING_OP_WRITE, fd, (uintptr_t)wbuf, chunk, off, -1);
		if (ret != (int)chunk)
			t_fail("drive %d: background write at %llu: %d", n,
			       (unsigned long long)off, ret);
	}
	/* cases at increasing offsets, three blocks apart, odd alignments */
	off = lbs;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rw_case *c = &cases[i];

		if (off + (blocks(c->len, lbs) + 1) * lbs > AREA)
			t_fail("case table does not fit in %u bytes", AREA);
		if (run_case(ring, fd, lbs, off, c, wbuf, rbuf))
			t_fail("drive %d (%s): case %u failed", n, t_nvme_path(n), i);
		off += (blocks(c->len, lbs) + 3 + i) * lbs;
	}
	printf("drive %d (%s, %u-byte blocks): %zu cases ok\n", n, t_nvme_path(n),
	       lbs, sizeof(cases) / sizeof(cases[0]));
	free(wbuf);
	free(rbuf);
	close(fd);
}

int main(void)
{
	struct io_uring ring;
	int ret;

	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		t_missing("io_uring (CONFIG_IO_URING): io_uring_queue_init: %s", strerror(-ret));
	test_drive(&ring, 0);
	if (t_bed_drives() > 1)
		test_drive(&ring, 1);
	else
		printf("a bed of one drive: split I/O not covered\n");
	io_uring_queue_exit(&ring);
	return T_EXIT_PASS;
}
