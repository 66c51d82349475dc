// SPDX-License-Identifier: MIT
/*
 * PRP and SGL with premapped buffers: nvme-pci fills a request's data
 * pointer from the long-lived map either as PRP entries or as SGL
 * descriptors.  The module parameter sgl_threshold picks: 0 disables SGLs,
 * 1 uses them for every request the controller allows (QEMU's supports
 * them).  The same write/read verify set runs with 0, with 1 and with the
 * old value, which is restored at exit, from a buffer that starts at a page
 * boundary and one that starts 512 bytes into a page.  Offsets cover what
 * differs between the two: inside a page, dword-aligned, crossing pages,
 * one segment and many, split I/O on drive 1.
 */
#include "premap-test.h"

#define PARAM		"/sys/module/nvme/parameters/sgl_threshold"
#define SEED		0x5e2
#define BUF_SIZE	(2 * DT_MIB)

static struct io_uring ring;
static char old_value[32];

static int write_param(const char *value)
{
	int fd = open(PARAM, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static void restore_param(void)
{
	if (old_value[0])
		write_param(old_value);
}

static unsigned int verify_set(int fd, const char *ctx, const struct pt_buf *b, uint32_t *seed)
{
	static const unsigned int buf_offs[] = { 0, 512, 4, 3584, 4096 + 2048 };
	static const unsigned int lens[] = { 512, 4096, 4608, 8192 + 512, 65536 + 512,
					     DT_MIB };
	unsigned int lbs = t_dev_lbsize(fd), i, j, count = 0;
	char what[160];
	int ret;

	for (i = 0; i < DT_ARRAY_SIZE(buf_offs); i++) {
		for (j = 0; j < DT_ARRAY_SIZE(lens); j++) {
			unsigned int len = (lens[j] + lbs - 1) / lbs * lbs;
			size_t off = buf_offs[i];
			uint64_t dev_off = (uint64_t)(i * DT_ARRAY_SIZE(lens) + j) * 2 * DT_MIB +
					   (j & 1) * lbs;

			(*seed)++;
			snprintf(what, sizeof(what), "%s: %u bytes, +%zu <-> %llu", ctx, len, off,
				 (unsigned long long)dev_off);
			t_fill(b->p + off, len, dev_off, *seed);
			ret = pt_io(&ring, IORING_OP_WRITE_FIXED, fd, pt_addr(b, off), len,
				    dev_off, 0, 1);
			dt_expect_len(ret, len, "%s: WRITE_FIXED", what);
			if (dt_dev_verify(fd, dev_off, len, *seed, what))
				t_fail("%s: wrong data on the drive", what);
			pt_poison(b, off, len + 512);
			ret = pt_io(&ring, IORING_OP_READ_FIXED, fd, pt_addr(b, off), len,
				    dev_off, 0, 1);
			dt_expect_len(ret, len, "%s: READ_FIXED", what);
			if (t_verify(b->p + off, len, dev_off, *seed, what) ||
			    dt_check_poison(b->p + off + len, 512, "after the read"))
				t_fail("%s: wrong data in the buffer", what);
			count++;
		}
	}
	return count;
}

static void run(const char *threshold, struct pt_buf *bufs)
{
	unsigned int count = 0, k;
	uint32_t seed = SEED;
	char ctx[96];
	int n, fd, ret;

	ret = write_param(threshold);
	if (ret)
		t_fail("writing %s to %s: %s", threshold, PARAM, strerror(-ret));
	for (n = 0; n < 2; n++) {
		if (n >= t_bed_drives()) {
			printf("a bed of one drive: split I/O not covered\n");
			break;
		}
		fd = pt_open(n, NULL);
		if (t_dev_size(fd) < 64 * DT_MIB)
			t_missing("64 MiB on drive %d: it has %llu bytes", n,
				  (unsigned long long)t_dev_size(fd));
		for (k = 0; k < 2; k++) {
			snprintf(ctx, sizeof(ctx), "sgl_threshold=%s, drive %d, buffer at page offset %zu",
				 threshold, n, (size_t)((uintptr_t)bufs[k].p % PT_PAGE));
			pt_register(&ring, 0, bufs[k].p, bufs[k].len, fd);
			count += verify_set(fd, ctx, &bufs[k], &seed);
			dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
		}
		close(fd);
	}
	printf("sgl_threshold=%s: %u writes and reads verified\n", threshold, count);
}

int main(void)
{
	struct pt_buf bufs[2];
	ssize_t len;
	int fd, ret;

	pt_require();
	fd = open(PARAM, O_RDONLY);
	if (fd < 0)
		t_missing("%s (nvme's sgl_threshold parameter): %s", PARAM, strerror(errno));
	len = read(fd, old_value, sizeof(old_value) - 1);
	close(fd);
	if (len <= 0)
		t_fail("reading %s", PARAM);
	old_value[strcspn(old_value, "\n")] = 0;
	atexit(restore_param);

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 1);
	pt_alloc(&bufs[0], BUF_SIZE, 0);
	pt_alloc(&bufs[1], BUF_SIZE, 512);

	run("0", bufs);
	run("1", bufs);
	run(old_value, bufs);

	io_uring_queue_exit(&ring);
	pt_free(&bufs[0]);
	pt_free(&bufs[1]);
	pt_done();
	return T_EXIT_PASS;
}
