/* SPDX-License-Identifier: MIT */
/*
 * The body of dmabuf/sgl and premap/sgl: PRP and SGL with registered
 * buffers of either kind (buf-kind.h).  nvme-pci fills a request's data
 * pointer from the buffer's map either as PRP entries or as SGL
 * descriptors.  The module parameter sgl_threshold picks: 0 disables SGLs
 * (PRPs always, unless the request cannot be described by PRPs), 1 uses
 * SGLs for every request when the controller supports them (QEMU's does;
 * Identify Controller SGLS is printed).  The same write/read verify set
 * runs with 0, with 1 and with the old value, which is restored at exit,
 * on both buffers of the kind.  Offsets cover the cases that differ
 * between the two: buffer offsets inside a page, dword-aligned offsets,
 * I/O crossing pages, one segment and many, split I/O on drive 1.
 */
#ifndef DMABUF_RW_SGL_H
#define DMABUF_RW_SGL_H

#include "buf-kind.h"

#include <sys/ioctl.h>
#include <linux/nvme_ioctl.h>

#define SGL_PARAM	"/sys/module/nvme/parameters/sgl_threshold"
#define SGL_BUF_SIZE	(2 * DT_MIB)

static struct io_uring sgl_ring;
static char sgl_old_value[32];

static inline int sgl_write_param(const char *value)
{
	int fd = open(SGL_PARAM, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static inline void sgl_restore_param(void)
{
	if (sgl_old_value[0])
		sgl_write_param(sgl_old_value);
}

/* Identify Controller SGLS (bytes 539:536): non-zero when SGLs work. */
static inline int sgl_ctrl_sgls(int fd, uint32_t *sgls)
{
	struct nvme_admin_cmd cmd = { .opcode = 0x06, .data_len = 4096, .cdw10 = 1 };
	unsigned char *id = t_malloc(4096);
	int ret;

	cmd.addr = (uintptr_t)id;
	ret = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
	if (!ret)
		memcpy(sgls, id + 536, 4);
	free(id);
	return ret ? -errno : 0;
}

static inline unsigned int sgl_verify_set(int fd, const char *ctx, const struct bk_buf *b,
					  uint32_t *seed)
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
			bk_fill(b, off, len, dev_off, *seed);
			ret = bk_io(&sgl_ring, IORING_OP_WRITE_FIXED, fd, b, off, len, dev_off, 0);
			dt_expect_len(ret, len, "%s: WRITE_FIXED", what);
			if (dt_dev_verify(fd, dev_off, len, *seed, what))
				t_fail("%s: wrong data on the drive", what);
			bk_poison(b, off, len + 512);
			ret = bk_io(&sgl_ring, IORING_OP_READ_FIXED, fd, b, off, len, dev_off, 0);
			dt_expect_len(ret, len, "%s: READ_FIXED", what);
			bk_cpu_begin(b);
			if (t_verify(b->p + off, len, dev_off, *seed, what) ||
			    dt_check_poison(b->p + off + len, 512, "after the read"))
				t_fail("%s: wrong data in the %s", what, b->kind->noun);
			bk_cpu_end(b);
			count++;
		}
	}
	return count;
}

/* The verify set on both drives and both buffers; seeds from seed on. */
static inline void sgl_run(const char *threshold, const struct bk_buf *bufs, uint32_t seed)
{
	unsigned int count = 0, k;
	uint32_t sgls = 0;
	char ctx[96];
	int n, fd, ret;

	ret = sgl_write_param(threshold);
	if (ret)
		t_fail("writing %s to %s: %s", threshold, SGL_PARAM, strerror(-ret));
	for (n = 0; n < 2; n++) {
		if (n >= t_bed_drives()) {
			printf("a bed of one drive: split I/O not covered\n");
			break;
		}
		fd = t_open_nvme(n, 0);
		if (t_dev_size(fd) < 64 * DT_MIB)
			t_missing("64 MiB on drive %d: it has %llu bytes", n,
				  (unsigned long long)t_dev_size(fd));
		ret = sgl_ctrl_sgls(fd, &sgls);
		if (!strcmp(threshold, "1"))
			printf("drive %d: Identify Controller SGLS 0x%08x%s\n", n, sgls,
			       ret ? " (identify failed)" : sgls & 3 ? "" :
			       ": no SGL support, PRPs only");
		for (k = 0; k < 2; k++) {
			snprintf(ctx, sizeof(ctx), "sgl_threshold=%s, drive %d, %s", threshold, n,
				 bufs[k].name);
			bk_register(&sgl_ring, 0, &bufs[k], fd);
			count += sgl_verify_set(fd, ctx, &bufs[k], &seed);
			dt_expect(dmabuf_rw_clear_buffer(&sgl_ring, 0), 0, "clearing slot 0");
		}
		close(fd);
	}
	printf("sgl_threshold=%s: %u writes and reads verified\n", threshold, count);
}

/* The whole test on buffers of kind; every sgl_threshold value starts at seed. */
static inline int sgl_main(const struct bk_kind *kind, uint32_t seed)
{
	struct bk_buf bufs[2];
	ssize_t len;
	int fd, ret;

	kind->start();
	fd = open(SGL_PARAM, O_RDONLY);
	if (fd < 0)
		t_missing("%s (nvme's sgl_threshold parameter): %s", SGL_PARAM, strerror(errno));
	len = read(fd, sgl_old_value, sizeof(sgl_old_value) - 1);
	close(fd);
	if (len <= 0)
		t_fail("reading %s", SGL_PARAM);
	sgl_old_value[strcspn(sgl_old_value, "\n")] = 0;
	atexit(sgl_restore_param);

	ret = io_uring_queue_init(4, &sgl_ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&sgl_ring, 1);
	bk_make(&bufs[0], kind, SGL_BUF_SIZE, 0);
	bk_make(&bufs[1], kind, SGL_BUF_SIZE, 1);

	sgl_run("0", bufs, seed);
	sgl_run("1", bufs, seed);
	sgl_run(sgl_old_value, bufs, seed);

	io_uring_queue_exit(&sgl_ring);
	bk_free(&bufs[0]);
	bk_free(&bufs[1]);
	kind->done();
	return T_EXIT_PASS;
}

#endif /* DMABUF_RW_SGL_H */
