// SPDX-License-Identifier: MIT
/*
 * Registration ABI: IORING_REGISTER_BUFFERS_UPDATE with
 * IORING_RSRC_UPDATE_EXTENDED into a sparse table.
 *
 * - udmabuf and system-heap dma-bufs registered for the O_DIRECT drive
 *   return 1 and carry I/O;
 * - every bad descriptor (not a dma-buf, bad or closed fds, targets that
 *   cannot do dma-buf I/O, buffered target, uaddr/size with DMABUF, each
 *   reserved word, flags, unknown types, EMPTY with uaddr/size) fails with
 *   its errno and leaves the slot as it was: an empty slot stays empty, an
 *   occupied one keeps its buffer, and a valid registration afterwards
 *   works, I/O included;
 * - unknown bits in update2.flags, resv2, nr 0, overflow, ranges beyond the
 *   table;
 * - EMPTY clears a slot, UADDR registers user memory through the same path;
 * - arrays: nr = 3 returns 3, a failure in the middle returns the count
 *   done, a failure first returns the error;
 * - tags: refused with EMPTY, posted as a CQE when a tagged dma-buf slot is
 *   released;
 * - the old iovec update still works, and the files updates still refuse
 *   non-zero flags.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "dmabuf-test.h"

#define NSLOTS		8
#define BUF_SIZE	DT_MIB
#define SEED		0x7e9
#define IO_LEN		16384
#define IO_BUF_OFF	4096	/* dma-buf offset of the test I/O */
#define IO_DEV_OFF	8192	/* device offset of the test I/O */

static struct io_uring ring;
static struct dt_buf ubuf, hbuf;
static int nvme_fd;
static unsigned int lbs;
static unsigned int cases;

/* update2 with any flags word, for the cases the library never builds. */
struct raw_update2 {
	__u32		offset;
	__u32		flags;
	__aligned_u64	data;
	__aligned_u64	tags;
	__u32		nr;
	__u32		resv2;
};

static int raw_update(unsigned int op, const struct raw_update2 *up)
{
	int ret = syscall(__NR_io_uring_register, ring.ring_fd, op, up, sizeof(*up));

	return ret < 0 ? -errno : ret;
}

static struct io_uring_regbuf_desc dmabuf_desc(const struct dt_buf *b, int target)
{
	return (struct io_uring_regbuf_desc){
		.type = IO_REGBUF_TYPE_DMABUF,
		.dmabuf_fd = b->fd,
		.target_fd = target,
	};
}

static void check_empty(unsigned int slot, const char *what)
{
	int ret = dt_io(&ring, IORING_OP_READ_FIXED, nvme_fd, 0, lbs, 0, slot);

	if (ret != -EFAULT)
		t_fail("%s: READ_FIXED on slot %u, which should be empty: res %d, want -EFAULT",
		       what, slot, ret);
}

/* READ_FIXED into the dma-buf in slot; the data must land in b only. */
static void check_io(unsigned int slot, const struct dt_buf *b, const char *what)
{
	char msg[160];
	int ret;

	dt_poison(b, 0, 2 * IO_BUF_OFF + IO_LEN);
	ret = dt_io(&ring, IORING_OP_READ_FIXED, nvme_fd, IO_BUF_OFF, IO_LEN,
		    IO_DEV_OFF, slot);
	dt_expect_len(ret, IO_LEN, "%s: READ_FIXED via slot %u (%s)", what, slot, b->kind);
	snprintf(msg, sizeof(msg), "%s: slot %u (%s)", what, slot, b->kind);
	dt_cpu_begin(b);
	if (t_verify(b->map + IO_BUF_OFF, IO_LEN, IO_DEV_OFF, SEED, msg) ||
	    dt_check_poison(b->map, IO_BUF_OFF, "before the I/O") ||
	    dt_check_poison(b->map + IO_BUF_OFF + IO_LEN, IO_BUF_OFF, "after the I/O"))
		t_fail("%s: data read through the dma-buf slot is wrong", msg);
	dt_cpu_end(b);
}

/*
 * desc must fail with want, on an empty slot and on an occupied one, and
 * leave both as they were.
 */
static void bad(const char *what, const struct io_uring_regbuf_desc *desc, int want)
{
	const unsigned int slot = 3;
	int ret;

	ret = dmabuf_rw_update_buffers(&ring, slot, desc, NULL, 1);
	dt_expect(ret, want, "%s (empty slot)", what);
	check_empty(slot, what);

	dt_register(&ring, slot, &ubuf, nvme_fd);
	check_io(slot, &ubuf, what);

	ret = dmabuf_rw_update_buffers(&ring, slot, desc, NULL, 1);
	dt_expect(ret, want, "%s (occupied slot)", what);
	check_io(slot, &ubuf, what);

	dt_expect(dmabuf_rw_clear_buffer(&ring, slot), 0, "%s: clearing slot %u", what, slot);
	check_empty(slot, what);
	cases++;
}

static void test_valid(void)
{
	struct io_uring_regbuf_desc d;

	d = dmabuf_desc(&ubuf, nvme_fd);
	dt_expect(dmabuf_rw_update_buffers(&ring, 0, &d, NULL, 1), 1, "udmabuf registration");
	check_io(0, &ubuf, "udmabuf");
	d = dmabuf_desc(&hbuf, nvme_fd);
	dt_expect(dmabuf_rw_update_buffers(&ring, 1, &d, NULL, 1), 1, "system heap registration");
	check_io(1, &hbuf, "system heap");

	/* replacing an occupied slot directly */
	dt_expect(dmabuf_rw_update_buffers(&ring, 0, &d, NULL, 1), 1, "replacing slot 0");
	check_io(0, &hbuf, "replaced slot");

	/* EMPTY clears, also when already empty */
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	check_empty(0, "after EMPTY");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing empty slot 0");
	check_empty(0, "after second EMPTY");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 1), 0, "clearing slot 1");
	check_empty(1, "after EMPTY");
	printf("udmabuf and system heap registration, replace and EMPTY ok\n");
}

/* Open path, or -1 (reported) when it does not exist. */
/* A device node the bed has (NVMe's char devices): its absence fails. */
static int open_dev(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0)
		t_missing("%s: %s", path, strerror(errno));
	return fd;
}

static void test_bad_fds(void)
{
	unsigned int ctrl, ns;
	char path[64];
	struct io_uring_regbuf_desc d;
	int memfd, closed, tmpfs, tmpfs_direct, buffered, fd;

	memfd = memfd_create("not-a-dmabuf", MFD_CLOEXEC);
	closed = fcntl(ubuf.fd, F_DUPFD_CLOEXEC, 1000);	/* never reused below */
	tmpfs = open("/tmp/dmabuf-register", O_RDWR | O_CREAT | O_TRUNC, 0600);
	buffered = open(t_nvme_path(0), O_RDWR);
	if (memfd < 0 || closed < 0 || tmpfs < 0 || buffered < 0 ||
	    ftruncate(memfd, BUF_SIZE) || ftruncate(tmpfs, BUF_SIZE))
		t_fail("setup: %s", strerror(errno));
	close(closed);

	d = dmabuf_desc(&ubuf, nvme_fd);
	d.dmabuf_fd = ring.ring_fd;
	bad("dmabuf_fd is the ring", &d, -EINVAL);
	d.dmabuf_fd = memfd;
	bad("dmabuf_fd is a memfd", &d, -EINVAL);
	d.dmabuf_fd = nvme_fd;
	bad("dmabuf_fd is the drive", &d, -EINVAL);
	d.dmabuf_fd = -1;
	bad("dmabuf_fd -1", &d, -EBADF);
	d.dmabuf_fd = closed;
	bad("dmabuf_fd closed", &d, -EBADF);

	d = dmabuf_desc(&ubuf, ring.ring_fd);
	bad("target_fd is the ring", &d, -EOPNOTSUPP);
	d.target_fd = tmpfs;
	bad("target_fd is a tmpfs file", &d, -EOPNOTSUPP);
	tmpfs_direct = open("/tmp/dmabuf-register", O_RDWR | O_DIRECT);
	if (tmpfs_direct < 0)	/* tmpfs takes O_DIRECT since Linux 6.6 */
		t_fail("open a tmpfs file O_DIRECT: %s", strerror(errno));
	d.target_fd = tmpfs_direct;
	bad("target_fd is a tmpfs file opened O_DIRECT", &d, -EOPNOTSUPP);
	close(tmpfs_direct);
	d.target_fd = ubuf.fd;
	bad("target_fd is the dma-buf", &d, -EOPNOTSUPP);
	d.target_fd = memfd;
	bad("target_fd is a memfd", &d, -EOPNOTSUPP);
	d.target_fd = -1;
	bad("target_fd -1", &d, -EBADF);
	d.target_fd = closed;
	bad("target_fd closed", &d, -EBADF);
	d.target_fd = buffered;
	bad("target_fd without O_DIRECT", &d, -EINVAL);

	/* the controller and the namespace's generic char devices */
	if (sscanf(t_nvme_path(0), "/dev/nvme%un%u", &ctrl, &ns) != 2)
		t_fail("%s: not a /dev/nvmeXnY namespace", t_nvme_path(0));
	snprintf(path, sizeof(path), "/dev/nvme%u", ctrl);
	fd = open_dev(path, O_RDWR);
	d.target_fd = fd;
	bad("target_fd is the controller char device", &d, -EOPNOTSUPP);
	close(fd);
	snprintf(path, sizeof(path), "/dev/ng%un%u", ctrl, ns);
	fd = open_dev(path, O_RDWR);
	d.target_fd = fd;
	bad("target_fd is the generic char device", &d, -EOPNOTSUPP);
	close(fd);
	close(memfd);
	close(tmpfs);
	close(buffered);
	unlink("/tmp/dmabuf-register");
	printf("bad dmabuf_fd / target_fd: %u cases ok\n", cases);
}

static void test_bad_fields(void)
{
	static const __u32 types[] = { 3, 4, 0x80000000, 0xffffffff };
	static const __u32 flags[] = { 1, 2, 0x80000000, 0xffffffff };
	struct io_uring_regbuf_desc d;
	unsigned int i, start = cases;
	char what[64];

	d = dmabuf_desc(&ubuf, nvme_fd);
	d.uaddr = 4096;
	bad("DMABUF with uaddr", &d, -EINVAL);
	d.uaddr = (uintptr_t)ubuf.map;
	bad("DMABUF with uaddr of its mapping", &d, -EINVAL);
	d.uaddr = 0;
	d.size = BUF_SIZE;
	bad("DMABUF with size", &d, -EINVAL);
	d.size = 1;
	bad("DMABUF with size 1", &d, -EINVAL);

	for (i = 0; i < DT_ARRAY_SIZE(d.__resv); i++) {
		d = dmabuf_desc(&ubuf, nvme_fd);
		d.__resv[i] = 1;
		snprintf(what, sizeof(what), "__resv[%u] = 1", i);
		bad(what, &d, -EINVAL);
		d.__resv[i] = 1ULL << 63;
		snprintf(what, sizeof(what), "__resv[%u] = 1 << 63", i);
		bad(what, &d, -EINVAL);
	}
	for (i = 0; i < DT_ARRAY_SIZE(flags); i++) {
		d = dmabuf_desc(&ubuf, nvme_fd);
		d.flags = flags[i];
		snprintf(what, sizeof(what), "desc.flags 0x%x", flags[i]);
		bad(what, &d, -EINVAL);
		d = (struct io_uring_regbuf_desc){ .type = IO_REGBUF_TYPE_EMPTY, .flags = flags[i] };
		snprintf(what, sizeof(what), "EMPTY with desc.flags 0x%x", flags[i]);
		bad(what, &d, -EINVAL);
	}
	for (i = 0; i < DT_ARRAY_SIZE(types); i++) {
		d = dmabuf_desc(&ubuf, nvme_fd);
		d.type = types[i];
		snprintf(what, sizeof(what), "type 0x%x", types[i]);
		bad(what, &d, -EINVAL);
	}
	d = (struct io_uring_regbuf_desc){ .type = IO_REGBUF_TYPE_EMPTY, .uaddr = 4096 };
	bad("EMPTY with uaddr", &d, -EINVAL);
	d = (struct io_uring_regbuf_desc){ .type = IO_REGBUF_TYPE_EMPTY, .size = 4096 };
	bad("EMPTY with size", &d, -EINVAL);
	d = (struct io_uring_regbuf_desc){ .type = IO_REGBUF_TYPE_EMPTY, .__resv[5] = 1 };
	bad("EMPTY with __resv[5]", &d, -EINVAL);
	printf("bad descriptor fields: %u cases ok\n", cases - start);
}

/* update2 itself: flags, resv2, nr, offset, data. */
static void test_bad_update2(void)
{
	static const __u32 flags[] = {
		1U << 0, 1U << 2, 1U << 31,
		IORING_RSRC_UPDATE_EXTENDED | 1U << 0,
		IORING_RSRC_UPDATE_EXTENDED | 1U << 31,
	};
	struct io_uring_regbuf_desc d[2] = {
		dmabuf_desc(&ubuf, nvme_fd), dmabuf_desc(&ubuf, nvme_fd),
	};
	struct raw_update2 up;
	unsigned int i;

	for (i = 0; i < DT_ARRAY_SIZE(flags); i++) {
		up = (struct raw_update2){ .offset = 2, .flags = flags[i],
					   .data = (uintptr_t)d, .nr = 1 };
		dt_expect(raw_update(IORING_REGISTER_BUFFERS_UPDATE, &up), -EINVAL,
			  "update2.flags 0x%x", flags[i]);
		check_empty(2, "after bad update2.flags");
	}
	up = (struct raw_update2){ .offset = 2, .flags = IORING_RSRC_UPDATE_EXTENDED,
				   .data = (uintptr_t)d, .nr = 1, .resv2 = 1 };
	dt_expect(raw_update(IORING_REGISTER_BUFFERS_UPDATE, &up), -EINVAL, "update2.resv2 1");
	up.resv2 = 0;
	up.nr = 0;
	dt_expect(raw_update(IORING_REGISTER_BUFFERS_UPDATE, &up), -EINVAL, "update2.nr 0");
	up.nr = 1;
	up.data = 0;
	dt_expect(raw_update(IORING_REGISTER_BUFFERS_UPDATE, &up), -EFAULT, "update2.data NULL");
	check_empty(2, "after bad update2");

	/* beyond the table: nothing is updated */
	dt_expect(dmabuf_rw_update_buffers(&ring, NSLOTS - 1, d, NULL, 2), -EINVAL,
		  "update of slots %u..%u in a table of %u", NSLOTS - 1, NSLOTS, NSLOTS);
	check_empty(NSLOTS - 1, "after update beyond the table");
	dt_expect(dmabuf_rw_update_buffers(&ring, NSLOTS, d, NULL, 1), -EINVAL,
		  "update of slot %u in a table of %u", NSLOTS, NSLOTS);
	dt_expect(dmabuf_rw_update_buffers(&ring, 0xffffffffU, d, NULL, 2), -EOVERFLOW,
		  "update at offset 0xffffffff, nr 2");
	check_empty(0, "after overflowing update");
	printf("bad update2 fields and ranges ok\n");
}

static void test_uaddr(void)
{
	const unsigned int len = 65536;
	char *mem = t_malloc(2 * len), *back = mem + len;
	int ret;

	dt_expect(dmabuf_rw_register_uaddr(&ring, 2, mem, 2 * len), 0, "UADDR registration");
	t_fill(mem, len, 1 << 20, SEED + 1);
	ret = dt_io(&ring, IORING_OP_WRITE_FIXED, nvme_fd, (uintptr_t)mem, len, 1 << 20, 2);
	dt_expect_len(ret, len, "WRITE_FIXED from a UADDR slot");
	memset(back, 0xa5, len);
	ret = dt_io(&ring, IORING_OP_READ_FIXED, nvme_fd, (uintptr_t)back, len, 1 << 20, 2);
	dt_expect_len(ret, len, "READ_FIXED into a UADDR slot");
	if (t_verify(back, len, 1 << 20, SEED + 1, "UADDR slot"))
		t_fail("UADDR slot: data read back differs");
	if (dt_dev_verify(nvme_fd, 1 << 20, len, SEED + 1, "UADDR write, plain read"))
		t_fail("UADDR slot: data written differs");
	/* the slot's address space is the user range, not dma-buf offsets */
	ret = dt_io(&ring, IORING_OP_READ_FIXED, nvme_fd, 0, lbs, 0, 2);
	dt_expect(ret, -EFAULT, "READ_FIXED at address 0 of a UADDR slot");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 2), 0, "clearing the UADDR slot");
	check_empty(2, "after clearing the UADDR slot");
	dt_dev_fill(nvme_fd, 1 << 20, len, SEED);
	free(mem);
	printf("UADDR registration and I/O ok\n");
}

static void test_arrays(void)
{
	char *mem = t_malloc(65536);
	struct io_uring_regbuf_desc d[3] = {
		dmabuf_desc(&ubuf, nvme_fd),
		dmabuf_desc(&hbuf, nvme_fd),
		{ .type = IO_REGBUF_TYPE_UADDR, .uaddr = (uintptr_t)mem, .size = 65536 },
	};
	struct io_uring_regbuf_desc e[3] = { { 0 }, { 0 }, { 0 } };
	int ret;

	dt_expect(dmabuf_rw_update_buffers(&ring, 0, d, NULL, 3), 3, "3 descriptors");
	check_io(0, &ubuf, "array slot 0");
	check_io(1, &hbuf, "array slot 1");
	ret = dt_io(&ring, IORING_OP_READ_FIXED, nvme_fd, (uintptr_t)mem, 4096, 0, 2);
	dt_expect_len(ret, 4096, "READ_FIXED into array slot 2 (UADDR)");
	if (t_verify(mem, 4096, 0, SEED, "array slot 2"))
		t_fail("array slot 2: wrong data");
	dt_expect(dmabuf_rw_update_buffers(&ring, 0, e, NULL, 3), 3, "3 EMPTY descriptors");
	check_empty(0, "array cleared");
	check_empty(1, "array cleared");
	check_empty(2, "array cleared");

	/* failure in the middle: the first is done, the rest untouched */
	d[1].dmabuf_fd = -1;
	d[2] = dmabuf_desc(&hbuf, nvme_fd);
	dt_expect(dmabuf_rw_update_buffers(&ring, 4, d, NULL, 3), 1,
		  "3 descriptors, the second bad");
	check_io(4, &ubuf, "slot before the bad descriptor");
	check_empty(5, "slot of the bad descriptor");
	check_empty(6, "slot after the bad descriptor");

	/* failure first: the error, nothing done */
	dt_expect(dmabuf_rw_update_buffers(&ring, 5, &d[1], NULL, 2), -EBADF,
		  "2 descriptors, the first bad");
	check_empty(5, "slot of the bad first descriptor");
	check_empty(6, "slot after the bad first descriptor");
	check_io(4, &ubuf, "slot before an update that failed");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 4), 0, "clearing slot 4");
	free(mem);
	printf("descriptor arrays ok\n");
}

static void test_tags(void)
{
	struct io_uring_regbuf_desc d[2] = {
		dmabuf_desc(&ubuf, nvme_fd), { .type = IO_REGBUF_TYPE_EMPTY },
	};
	__u64 tags[2] = { 0xdead0001, 0 };
	struct __kernel_timespec ts = { .tv_sec = 2 };
	struct io_uring_cqe *cqe;
	int ret;

	dt_expect(dmabuf_rw_update_buffers(&ring, 6, &d[1], &tags[0], 1), -EINVAL,
		  "EMPTY with a tag");
	check_empty(6, "after EMPTY with a tag");

	/* a tagged dma-buf slot posts its tag once released */
	dt_expect(dmabuf_rw_update_buffers(&ring, 6, d, tags, 2), 2, "tagged DMABUF + EMPTY");
	check_io(6, &ubuf, "tagged slot");
	ret = io_uring_peek_cqe(&ring, &cqe);
	if (!ret)
		t_fail("CQE (user_data 0x%llx) before the tagged slot was released",
		       (unsigned long long)cqe->user_data);
	dt_expect(dmabuf_rw_clear_buffer(&ring, 6), 0, "clearing the tagged slot");
	ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
	if (ret)
		t_fail("no tag CQE within 2 s of releasing the tagged slot: %s", strerror(-ret));
	if (cqe->user_data != tags[0])
		t_fail("tag CQE user_data 0x%llx, want 0x%llx",
		       (unsigned long long)cqe->user_data, (unsigned long long)tags[0]);
	io_uring_cqe_seen(&ring, cqe);
	printf("tags ok\n");
}

/* The old paths keep their rules. */
static void test_old_paths(void)
{
	struct io_uring_files_update fup = { .offset = 0, .resv = IORING_RSRC_UPDATE_EXTENDED };
	struct raw_update2 up;
	char *mem = t_malloc(4096);
	struct iovec iov = { mem, 4096 };
	int fds[1] = { nvme_fd }, ret;

	ret = io_uring_register_buffers_update_tag(&ring, 7, &iov, NULL, 1);
	dt_expect(ret, 1, "iovec BUFFERS_UPDATE");
	ret = dt_io(&ring, IORING_OP_READ_FIXED, nvme_fd, (uintptr_t)mem, 4096, 0, 7);
	dt_expect_len(ret, 4096, "READ_FIXED into an iovec-registered slot");
	if (t_verify(mem, 4096, 0, SEED, "iovec slot"))
		t_fail("iovec slot: wrong data");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 7), 0, "clearing the iovec slot");

	ret = io_uring_register_files_sparse(&ring, 2);
	if (ret)
		t_fail("io_uring_register_files_sparse: %s", strerror(-ret));
	up = (struct raw_update2){ .flags = IORING_RSRC_UPDATE_EXTENDED,
				   .data = (uintptr_t)fds, .nr = 1 };
	dt_expect(raw_update(IORING_REGISTER_FILES_UPDATE2, &up), -EINVAL,
		  "FILES_UPDATE2 with EXTENDED");
	up.flags = 1;
	dt_expect(raw_update(IORING_REGISTER_FILES_UPDATE2, &up), -EINVAL,
		  "FILES_UPDATE2 with flags 1");
	fup.fds = (uintptr_t)fds;
	ret = syscall(__NR_io_uring_register, ring.ring_fd, IORING_REGISTER_FILES_UPDATE,
		      &fup, 1);
	dt_expect(ret < 0 ? -errno : ret, -EINVAL, "FILES_UPDATE with resv set");
	up.flags = 0;
	dt_expect(raw_update(IORING_REGISTER_FILES_UPDATE2, &up), 1, "FILES_UPDATE2, flags 0");
	io_uring_unregister_files(&ring);
	free(mem);
	printf("iovec buffers update and files updates ok\n");
}

int main(void)
{
	int ret;

	dt_require();
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, NSLOTS);
	nvme_fd = t_open_nvme(0, 0);
	lbs = t_dev_lbsize(nvme_fd);
	dt_udmabuf(&ubuf, BUF_SIZE);
	dt_heapbuf(&hbuf, BUF_SIZE);
	dt_dev_fill(nvme_fd, 0, 2 * DT_MIB, SEED);

	test_valid();
	test_bad_fds();
	test_bad_fields();
	test_bad_update2();
	test_uaddr();
	test_arrays();
	test_tags();
	test_old_paths();

	io_uring_queue_exit(&ring);
	dt_buf_free(&ubuf);
	dt_buf_free(&hbuf);
	close(nvme_fd);
	dt_report();
	return T_EXIT_PASS;
}
