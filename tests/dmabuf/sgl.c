// SPDX-License-Identifier: MIT
/*
 * PRP and SGL: nvme-pci fills a request's data pointer from the dma-buf map
 * either as PRP entries or as SGL descriptors.  The module parameter
 * sgl_threshold picks: 0 disables SGLs (PRPs always, unless the request
 * cannot be described by PRPs), 1 uses SGLs for every request when the
 * controller supports them (QEMU's does; Identify Controller SGLS is
 * printed).  The same write/read verify set runs with 0, with 1 and with
 * the old value, which is restored at exit.  Offsets cover the cases that
 * differ between the two: buffer offsets inside a page, dword-aligned
 * offsets, I/O crossing pages, one segment and many, split I/O on drive 1.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/nvme_ioctl.h>

#include "dmabuf-test.h"

#define PARAM		"/sys/module/nvme/parameters/sgl_threshold"
#define SEED		0x5e1
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

/* Identify Controller SGLS (bytes 539:536): non-zero when SGLs work. */
static int ctrl_sgls(int fd, uint32_t *sgls)
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

static unsigned int verify_set(int fd, int n, const struct dt_buf *b, uint32_t *seed)
{
	static const unsigned int buf_offs[] = { 0, 512, 4, 3584, 4096 + 2048 };
	static const unsigned int lens[] = { 512, 4096, 4608, 8192 + 512, 65536 + 512,
					     DT_MIB };
	unsigned int lbs = t_dev_lbsize(fd), i, j, count = 0;
	char what[128];
	int ret;

	for (i = 0; i < DT_ARRAY_SIZE(buf_offs); i++) {
		for (j = 0; j < DT_ARRAY_SIZE(lens); j++) {
			unsigned int len = (lens[j] + lbs - 1) / lbs * lbs;
			size_t off = buf_offs[i];
			uint64_t dev_off = (uint64_t)(i * DT_ARRAY_SIZE(lens) + j) * 2 * DT_MIB +
					   (j & 1) * lbs;

			(*seed)++;
			snprintf(what, sizeof(what), "drive %d, %s: %u bytes, +%zu <-> %llu",
				 n, b->kind, len, off, (unsigned long long)dev_off);
			dt_fill(b, off, len, dev_off, *seed);
			ret = dt_io(&ring, IORING_OP_WRITE_FIXED, fd, off, len, dev_off, 0);
			dt_expect_len(ret, len, "%s: WRITE_FIXED", what);
			if (dt_dev_verify(fd, dev_off, len, *seed, what))
				t_fail("%s: wrong data on the drive", what);
			dt_poison(b, off, len + 512);
			ret = dt_io(&ring, IORING_OP_READ_FIXED, fd, off, len, dev_off, 0);
			dt_expect_len(ret, len, "%s: READ_FIXED", what);
			dt_cpu_begin(b);
			if (t_verify(b->map + off, len, dev_off, *seed, what) ||
			    dt_check_poison(b->map + off + len, 512, "after the read"))
				t_fail("%s: wrong data in the dma-buf", what);
			dt_cpu_end(b);
			count++;
		}
	}
	return count;
}

static void run(const char *threshold, const struct dt_buf *bufs)
{
	uint32_t seed = SEED, sgls = 0;
	unsigned int count = 0, k;
	int n, fd, ret;

	ret = write_param(threshold);
	if (ret)
		t_fail("writing %s to %s: %s", threshold, PARAM, strerror(-ret));
	for (n = 0; n < 2; n++) {
		if (n >= t_bed_drives()) {
			printf("a bed of one drive: split I/O not covered\n");
			break;
		}
		fd = t_open_nvme(n, 0);
		if (t_dev_size(fd) < 64 * DT_MIB)
			t_missing("64 MiB on drive %d: it has %llu bytes", n,
				  (unsigned long long)t_dev_size(fd));
		ret = ctrl_sgls(fd, &sgls);
		if (!strcmp(threshold, "1"))
			printf("drive %d: Identify Controller SGLS 0x%08x%s\n", n, sgls,
			       ret ? " (identify failed)" : sgls & 3 ? "" :
			       ": no SGL support, PRPs only");
		for (k = 0; k < 2; k++) {
			dt_register(&ring, 0, &bufs[k], fd);
			count += verify_set(fd, n, &bufs[k], &seed);
			dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
		}
		close(fd);
	}
	printf("sgl_threshold=%s: %u writes and reads verified\n", threshold, count);
}

int main(void)
{
	struct dt_buf bufs[2];
	ssize_t len;
	int fd, ret;

	dt_require();
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
	dt_udmabuf(&bufs[0], BUF_SIZE);
	dt_heapbuf(&bufs[1], BUF_SIZE);

	run("0", bufs);
	run("1", bufs);
	run(old_value, bufs);

	io_uring_queue_exit(&ring);
	dt_buf_free(&bufs[0]);
	dt_buf_free(&bufs[1]);
	dt_report();
	return T_EXIT_PASS;
}
