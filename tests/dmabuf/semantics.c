// SPDX-License-Identifier: MIT
/*
 * What a dma-buf slot may be used for, and that refused uses leave the
 * dma-buf and the drive untouched.
 *
 * - Only the registered file: READ_FIXED/WRITE_FIXED through another open
 *   of the same drive, through drive 1 or through a buffered open get
 *   -EBADF; a dup() of the registered fd and the fd in the fixed file
 *   table are the same file and work, also after the fd is closed.
 * - Only READ_FIXED/WRITE_FIXED: READV_FIXED/WRITEV_FIXED get -EOPNOTSUPP
 *   (and work on an ordinary slot), so does an NVMe passthrough command
 *   with IORING_URING_CMD_FIXED.
 * - O_DIRECT only: registering a buffered target fails with -EINVAL; a
 *   registered file switched to buffered with fcntl() fails I/O with
 *   -EINVAL until O_DIRECT is set again.
 * - Ranges: addr + len beyond the dma-buf, or overflowing, is -EFAULT;
 *   misaligned device offset, length or buffer address is -EINVAL.
 * - IORING_REGISTER_CLONE_BUFFERS refuses a range holding a dma-buf slot
 *   (-EOPNOTSUPP), also into the same ring, and clones ordinary slots.
 * Every refused request is followed by a check that the dma-buf still
 * holds its canary and the drive its pattern.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/nvme_ioctl.h>

#include "dmabuf-test.h"

#ifndef IORING_OP_READV_FIXED
#define IORING_OP_READV_FIXED	60
#define IORING_OP_WRITEV_FIXED	61
#endif
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
#ifndef IORING_REGISTER_DST_REPLACE
#define IORING_REGISTER_DST_REPLACE	(1U << 1)
#endif

#define SEED		0x5e3a
#define SEED_CANARY	0xca9
#define CANARY_POS	(1ULL << 40)	/* pattern position of dma-buf byte 0 */
#define BUF_SIZE	DT_MIB
#define AREA		(2 * DT_MIB)

static struct io_uring ring;
static struct dt_buf ubuf;
static int nvme_fd;
static unsigned int lbs;

static void canary_fill(void)
{
	dt_fill(&ubuf, 0, BUF_SIZE, CANARY_POS, SEED_CANARY);
}

/* The dma-buf and the drive are as canary_fill() and setup left them. */
static void check_untouched(const char *what)
{
	if (dt_verify(&ubuf, 0, BUF_SIZE, CANARY_POS, SEED_CANARY, "dma-buf canary"))
		t_fail("%s: the dma-buf was written", what);
	if (dt_dev_verify(nvme_fd, 0, AREA, SEED, "drive pattern"))
		t_fail("%s: the drive was written", what);
}

/* A read and a write through slot on fd must both fail with want. */
static void refused(int fd, int slot, uint64_t addr, unsigned int len, uint64_t off,
		    int want, const char *what)
{
	int ret;

	ret = dt_io(&ring, IORING_OP_READ_FIXED, fd, addr, len, off, slot);
	dt_expect(ret, want, "%s: READ_FIXED", what);
	ret = dt_io(&ring, IORING_OP_WRITE_FIXED, fd, addr, len, off, slot);
	dt_expect(ret, want, "%s: WRITE_FIXED", what);
	check_untouched(what);
}

/* A read through slot on fd (fixed file index if fixed) must work. */
static void read_works(int fd, bool fixed, const char *what)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	int ret;

	canary_fill();
	do {
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_read_fixed(sqe, fd, (void *)(uintptr_t)lbs, 8 * lbs, 4 * lbs, 0);
		if (fixed)
			sqe->flags |= IOSQE_FIXED_FILE;
		dt_submit(&ring);
		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret)
			t_fail("io_uring_wait_cqe: %s", strerror(-ret));
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	} while (ret == -EAGAIN && ++dt_eagain);
	dt_expect_len(ret, 8 * lbs, "%s: READ_FIXED", what);
	dt_cpu_begin(&ubuf);
	if (t_verify(ubuf.map + lbs, 8 * lbs, 4 * lbs, SEED, what) ||
	    t_verify(ubuf.map, lbs, CANARY_POS, SEED_CANARY, "before the read") ||
	    t_verify(ubuf.map + 9 * lbs, BUF_SIZE - 9 * lbs, CANARY_POS + 9 * lbs,
		     SEED_CANARY, "after the read"))
		t_fail("%s: wrong data in the dma-buf", what);
	dt_cpu_end(&ubuf);
	canary_fill();
}

static void test_other_files(void)
{
	int other, buffered, dupfd, fd1 = -1, ret;

	other = open(t_nvme_path(0), O_RDWR | O_DIRECT);
	buffered = open(t_nvme_path(0), O_RDWR);
	if (other < 0 || buffered < 0)
		t_fail("opening %s again: %s", t_nvme_path(0), strerror(errno));
	refused(other, 0, 0, 4 * lbs, 0, -EBADF, "second O_DIRECT open of drive 0");
	refused(buffered, 0, 0, 4 * lbs, 0, -EBADF, "buffered open of drive 0");
	if (t_bed_drives() > 1) {
		fd1 = t_open_nvme(1, 0);
		refused(fd1, 0, 0, 4 * lbs, 0, -EBADF, "drive 1");
	}

	dupfd = dup(nvme_fd);
	read_works(dupfd, false, "dup() of the registered fd");
	close(dupfd);
	ret = io_uring_register_files(&ring, &nvme_fd, 1);
	if (ret)
		t_fail("io_uring_register_files: %s", strerror(-ret));
	read_works(0, true, "registered fd in the fixed file table");

	/* dma-buf registration through the other open: only that one works */
	dt_register(&ring, 1, &ubuf, other);
	refused(nvme_fd, 1, 0, 4 * lbs, 0, -EBADF, "slot registered for the second open");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 1), 0, "clearing slot 1");

	/* the fixed file keeps the file: the slot still works without the fd */
	dupfd = dup(nvme_fd);
	close(nvme_fd);
	read_works(0, true, "fixed file after closing the fd");
	nvme_fd = dupfd;
	io_uring_unregister_files(&ring);
	read_works(nvme_fd, false, "registered fd, still open through dup()");

	close(other);
	close(buffered);
	if (fd1 >= 0)
		close(fd1);
	printf("other files refused, same file through dup() and fixed files ok\n");
}

static int vec_io(int opcode, int fd, struct iovec *iov, unsigned int nr, int slot)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int ret;

	do {
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_rw(opcode, sqe, fd, iov, nr, 0);
		sqe->buf_index = slot;
		dt_submit(&ring);
		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret)
			t_fail("io_uring_wait_cqe: %s", strerror(-ret));
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	} while (ret == -EAGAIN && ++dt_eagain);
	return ret;
}

static void test_vectored(void)
{
	char *mem = t_malloc(4 * lbs);
	struct iovec iov[2] = {
		{ (void *)(uintptr_t)0, 2 * lbs },
		{ (void *)(uintptr_t)(4 * lbs), 2 * lbs },
	};
	struct iovec miov[2] = { { mem, 2 * lbs }, { mem + 2 * lbs, 2 * lbs } };
	int ret;

	/* an ordinary slot: the opcodes exist and work */
	dt_expect(dmabuf_rw_register_uaddr(&ring, 2, mem, 4 * lbs), 0, "UADDR slot 2");
	ret = vec_io(IORING_OP_READV_FIXED, nvme_fd, miov, 2, 2);
	if (ret == -EINVAL)
		t_fail("READV_FIXED on an ordinary slot: -EINVAL (opcode %d unknown?)",
		       IORING_OP_READV_FIXED);
	dt_expect_len(ret, 4 * lbs, "READV_FIXED on an ordinary slot");
	if (t_verify(mem, 4 * lbs, 0, SEED, "READV_FIXED on an ordinary slot"))
		t_fail("READV_FIXED on an ordinary slot: wrong data");
	ret = vec_io(IORING_OP_WRITEV_FIXED, nvme_fd, miov, 2, 2);
	dt_expect_len(ret, 4 * lbs, "WRITEV_FIXED on an ordinary slot");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 2), 0, "clearing slot 2");

	canary_fill();
	ret = vec_io(IORING_OP_READV_FIXED, nvme_fd, iov, 2, 0);
	dt_expect(ret, -EOPNOTSUPP, "READV_FIXED on the dma-buf slot");
	ret = vec_io(IORING_OP_WRITEV_FIXED, nvme_fd, iov, 2, 0);
	dt_expect(ret, -EOPNOTSUPP, "WRITEV_FIXED on the dma-buf slot");
	iov[0].iov_len = 4 * lbs;
	ret = vec_io(IORING_OP_READV_FIXED, nvme_fd, iov, 1, 0);
	dt_expect(ret, -EOPNOTSUPP, "READV_FIXED, one segment, on the dma-buf slot");
	check_untouched("vectored fixed I/O");
	free(mem);
	printf("READV_FIXED/WRITEV_FIXED refused on the dma-buf slot\n");
}

/* NVMe passthrough read of nblocks at slba into addr of slot. */
static int passthru_read(struct io_uring *r, int ngfd, __u32 nsid, int slot,
			 uint64_t addr, unsigned int nblocks, uint64_t slba)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(r);
	struct nvme_uring_cmd cmd = {
		.opcode = 0x02,		/* read */
		.nsid = nsid,
		.addr = addr,
		.data_len = nblocks * lbs,
		.cdw10 = slba,
		.cdw11 = slba >> 32,
		.cdw12 = nblocks - 1,
	};
	struct io_uring_cqe *cqe;
	int ret;

	/* a 128-byte SQE: the command takes the last 80 bytes */
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, ngfd, NULL, 0, 0);
	sqe->cmd_op = NVME_URING_CMD_IO;
	sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
	sqe->buf_index = slot;
	memcpy((char *)sqe + offsetof(struct io_uring_sqe, addr3), &cmd, sizeof(cmd));
	ret = io_uring_submit(r);
	if (ret != 1)
		t_fail("io_uring_submit: %d", ret);
	ret = io_uring_wait_cqe(r, &cqe);
	if (ret)
		t_fail("io_uring_wait_cqe: %s", strerror(-ret));
	ret = cqe->res;
	io_uring_cqe_seen(r, cqe);
	return ret;
}

static void test_passthrough(void)
{
	unsigned int ctrl, ns;
	struct io_uring r;
	char path[64];
	char *mem;
	int ngfd, nsid, ret;

	if (sscanf(t_need_nvme(0), "/dev/nvme%un%u", &ctrl, &ns) != 2)
		t_fail("%s: not a /dev/nvmeXnY namespace", t_nvme_path(0));
	snprintf(path, sizeof(path), "/dev/ng%un%u", ctrl, ns);
	ngfd = open(path, O_RDWR);
	if (ngfd < 0)
		t_missing("%s, the namespace's generic char device: %s", path, strerror(errno));
	nsid = ioctl(ngfd, NVME_IOCTL_ID);
	ret = io_uring_queue_init(4, &r, IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
	if (ret || nsid < 0)
		t_fail("passthrough setup: ring %d, nsid %d", ret, nsid);
	dt_sparse(&r, 2);
	mem = t_malloc(4 * lbs);
	dt_expect(dmabuf_rw_register_uaddr(&r, 0, mem, 4 * lbs), 0, "UADDR slot on the SQE128 ring");
	ret = passthru_read(&r, ngfd, nsid, 0, (uintptr_t)mem, 4, 0);
	if (ret)
		t_fail("passthrough read into an ordinary slot: %d (%s)", ret, strerror(-ret));
	if (t_verify(mem, 4 * lbs, 0, SEED, "passthrough read into an ordinary slot"))
		t_fail("passthrough read into an ordinary slot: wrong data");

	dt_register(&r, 1, &ubuf, nvme_fd);
	canary_fill();
	ret = passthru_read(&r, ngfd, nsid, 1, 0, 4, 0);
	dt_expect(ret, -EOPNOTSUPP, "passthrough read into the dma-buf slot");
	check_untouched("passthrough read into the dma-buf slot");
	printf("NVMe passthrough with the dma-buf slot refused\n");
	io_uring_queue_exit(&r);
	free(mem);
	close(ngfd);
}

static void test_buffered(void)
{
	int buffered = open(t_nvme_path(0), O_RDWR), flags;

	if (buffered < 0)
		t_fail("open %s: %s", t_nvme_path(0), strerror(errno));
	canary_fill();
	dt_expect(dmabuf_rw_register_dmabuf(&ring, 1, ubuf.fd, buffered), -EINVAL,
		  "registering for a buffered open");
	check_untouched("registering for a buffered open");
	close(buffered);

	/* the registered file made buffered after registration */
	flags = fcntl(nvme_fd, F_GETFL);
	if (flags < 0 || fcntl(nvme_fd, F_SETFL, flags & ~O_DIRECT))
		t_fail("clearing O_DIRECT: %s", strerror(errno));
	if (fcntl(nvme_fd, F_GETFL) & O_DIRECT)
		t_fail("O_DIRECT still set after F_SETFL");
	refused(nvme_fd, 0, 0, 4 * lbs, 0, -EINVAL, "registered file made buffered");
	refused(nvme_fd, 0, lbs, DT_MIB / 2, lbs, -EINVAL, "registered file made buffered");
	if (fcntl(nvme_fd, F_SETFL, flags))
		t_fail("setting O_DIRECT again: %s", strerror(errno));
	read_works(nvme_fd, false, "registered file O_DIRECT again");
	printf("buffered targets refused, dma-buf untouched\n");
}

static void test_ranges(void)
{
	canary_fill();
	refused(nvme_fd, 0, BUF_SIZE - 4096, 8192, 0, -EFAULT, "I/O past the dma-buf end");
	refused(nvme_fd, 0, BUF_SIZE, lbs, 0, -EFAULT, "I/O at the dma-buf end");
	refused(nvme_fd, 0, BUF_SIZE - lbs, 2 * lbs, 0, -EFAULT, "I/O one block past the end");
	refused(nvme_fd, 0, ~0ULL - lbs + 1, 2 * lbs, 0, -EFAULT, "I/O wrapping the address space");
	refused(nvme_fd, 0, 1ULL << 63, lbs, 0, -EFAULT, "I/O at 1 << 63");
	refused(nvme_fd, 0, 0, lbs, 1, -EINVAL, "device offset 1");
	refused(nvme_fd, 0, 0, lbs, lbs / 2, -EINVAL, "device offset half a block");
	refused(nvme_fd, 0, 0, lbs + 1, 0, -EINVAL, "length a block + 1");
	refused(nvme_fd, 0, 0, lbs / 2, 0, -EINVAL, "length half a block");
	refused(nvme_fd, 0, 1, lbs, 0, -EINVAL, "dma-buf offset 1");
	refused(nvme_fd, 0, 2, lbs, 0, -EINVAL, "dma-buf offset 2");
	/* the last block of the dma-buf is in range */
	canary_fill();
	dt_expect_len(dt_io(&ring, IORING_OP_READ_FIXED, nvme_fd, BUF_SIZE - lbs, lbs, 0, 0),
		      lbs, "READ_FIXED of the last block of the dma-buf");
	if (dt_verify(&ubuf, BUF_SIZE - lbs, lbs, 0, SEED, "last block of the dma-buf"))
		t_fail("READ_FIXED of the last block: wrong data");
	canary_fill();
	printf("out-of-range and misaligned I/O refused, dma-buf untouched\n");
}

/* Zero-length I/O behaves as on an ordinary slot. */
static void test_zero_len(void)
{
	char *mem = t_malloc(4096);
	int want, ret, op;

	dt_expect(dmabuf_rw_register_uaddr(&ring, 2, mem, 4096), 0, "UADDR slot 2");
	canary_fill();
	for (op = IORING_OP_READ_FIXED; op <= IORING_OP_WRITE_FIXED; op++) {
		const char *name = op == IORING_OP_READ_FIXED ? "READ_FIXED" : "WRITE_FIXED";

		want = dt_io(&ring, op, nvme_fd, (uintptr_t)mem, 0, 0, 2);
		ret = dt_io(&ring, op, nvme_fd, 0, 0, 0, 0);
		dt_expect(ret, want, "%s of 0 bytes at dma-buf offset 0 (as on an ordinary slot)",
			  name);
		ret = dt_io(&ring, op, nvme_fd, BUF_SIZE, 0, lbs, 0);
		dt_expect(ret, want, "%s of 0 bytes at the dma-buf end (as on an ordinary slot)",
			  name);
	}
	check_untouched("zero-length I/O");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 2), 0, "clearing slot 2");
	free(mem);
	printf("zero-length I/O as on an ordinary slot\n");
}

/*
 * RWF_NOWAIT: the mapping is made by the first I/O that may block, so a
 * NOWAIT I/O before it may see -EAGAIN; after it, and with an exporter that
 * never moves the buffer, NOWAIT I/O must not fail.
 */
static void test_nowait(void)
{
	unsigned int i;
	int ret;

	dt_register(&ring, 1, &ubuf, nvme_fd);
	ret = dt_io_once(&ring, IORING_OP_READ_FIXED, nvme_fd, 0, 4096, 0, 1, RWF_NOWAIT);
	if (ret != 4096 && ret != -EAGAIN)
		t_fail("RWF_NOWAIT READ_FIXED before the first mapping: %d (%s)", ret,
		       ret < 0 ? strerror(-ret) : "short");
	printf("RWF_NOWAIT READ_FIXED before the first mapping: %s\n",
	       ret == -EAGAIN ? "-EAGAIN" : "done");
	dt_expect_len(dt_io(&ring, IORING_OP_READ_FIXED, nvme_fd, 0, 4096, 0, 1), 4096,
		      "blocking READ_FIXED");
	/* reads of the pattern, writes of it to a scratch area that lacks it */
	dt_dev_fill(nvme_fd, AREA, 16 * 4096, SEED + 1);
	for (i = 0; i < 16; i++) {
		bool wr = i & 1;
		uint64_t dev_off = wr ? AREA + 4096 * i : 4096 * i;

		if (wr)
			dt_fill(&ubuf, 8192 * i, 4096, dev_off, SEED);
		ret = dt_io_once(&ring, wr ? IORING_OP_WRITE_FIXED : IORING_OP_READ_FIXED,
				 nvme_fd, 8192 * i, 4096, dev_off, 1, RWF_NOWAIT);
		dt_expect_len(ret, 4096, "RWF_NOWAIT %s %u after the buffer was mapped",
			      wr ? "WRITE_FIXED" : "READ_FIXED", i);
		if (wr ? dt_dev_verify(nvme_fd, dev_off, 4096, SEED, "RWF_NOWAIT write") :
			 dt_verify(&ubuf, 8192 * i, 4096, dev_off, SEED, "RWF_NOWAIT read"))
			t_fail("RWF_NOWAIT I/O %u: wrong data", i);
	}
	dt_expect(dmabuf_rw_clear_buffer(&ring, 1), 0, "clearing slot 1");
	canary_fill();
	printf("RWF_NOWAIT I/O ok once mapped\n");
}

static int clone_buffers(struct io_uring *dst, int src_fd, __u32 flags,
			 __u32 src_off, __u32 dst_off, __u32 nr)
{
	struct io_uring_clone_buffers arg = {
		.src_fd = src_fd, .flags = flags, .src_off = src_off,
		.dst_off = dst_off, .nr = nr,
	};
	int ret = syscall(__NR_io_uring_register, dst->ring_fd,
			  IORING_REGISTER_CLONE_BUFFERS, &arg, 1);

	return ret < 0 ? -errno : ret;
}

static void test_clone(void)
{
	struct io_uring dst, plain;
	char *mem = t_malloc(4 * lbs);
	struct iovec iov = { mem, 4 * lbs };
	int ret;

	if (io_uring_queue_init(4, &dst, 0) || io_uring_queue_init(4, &plain, 0))
		t_fail("io_uring_queue_init");

	/* ring: slot 0 the dma-buf, slot 2 ordinary memory */
	dt_expect(dmabuf_rw_register_uaddr(&ring, 2, mem, 4 * lbs), 0, "UADDR slot 2");
	dt_expect(clone_buffers(&dst, ring.ring_fd, 0, 0, 0, 0), -EOPNOTSUPP,
		  "cloning a table holding a dma-buf slot");
	dt_expect(clone_buffers(&dst, ring.ring_fd, 0, 0, 0, 1), -EOPNOTSUPP,
		  "cloning the dma-buf slot alone");
	dt_expect(clone_buffers(&dst, ring.ring_fd, 0, 0, 0, 3), -EOPNOTSUPP,
		  "cloning slots 0..2");
	dt_expect(clone_buffers(&ring, ring.ring_fd, IORING_REGISTER_DST_REPLACE, 0, 3, 1),
		  -EOPNOTSUPP, "cloning the dma-buf slot into its own ring");

	/* ranges without it clone */
	dt_expect(clone_buffers(&dst, ring.ring_fd, 0, 2, 0, 1), 0, "cloning slot 2 only");
	ret = dt_io(&dst, IORING_OP_READ_FIXED, nvme_fd, (uintptr_t)mem, 4 * lbs, 0, 0);
	dt_expect_len(ret, 4 * lbs, "READ_FIXED through the cloned ordinary slot");
	if (t_verify(mem, 4 * lbs, 0, SEED, "cloned ordinary slot"))
		t_fail("cloned ordinary slot: wrong data");
	ret = dt_io(&dst, IORING_OP_READ_FIXED, nvme_fd, 0, lbs, 0, 1);
	dt_expect(ret, -EFAULT, "READ_FIXED beyond the cloned range");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 2), 0, "clearing slot 2");

	/* a ring with ordinary buffers only */
	ret = io_uring_register_buffers(&plain, &iov, 1);
	if (ret)
		t_fail("io_uring_register_buffers: %s", strerror(-ret));
	io_uring_unregister_buffers(&dst);
	dt_expect(clone_buffers(&dst, plain.ring_fd, 0, 0, 0, 0), 0,
		  "cloning a ring with ordinary buffers only");
	memset(mem, 0, 4 * lbs);
	ret = dt_io(&dst, IORING_OP_READ_FIXED, nvme_fd, (uintptr_t)mem, 4 * lbs, 0, 0);
	dt_expect_len(ret, 4 * lbs, "READ_FIXED through a cloned buffer");
	if (t_verify(mem, 4 * lbs, 0, SEED, "cloned buffer"))
		t_fail("cloned buffer: wrong data");
	check_untouched("cloning");
	io_uring_queue_exit(&dst);
	io_uring_queue_exit(&plain);
	free(mem);
	printf("CLONE_BUFFERS refuses dma-buf slots, clones ordinary ones\n");
}

int main(void)
{
	int ret;

	dt_require();
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 4);
	nvme_fd = t_open_nvme(0, 0);
	lbs = t_dev_lbsize(nvme_fd);
	dt_dev_fill(nvme_fd, 0, AREA, SEED);
	dt_udmabuf(&ubuf, BUF_SIZE);
	dt_register(&ring, 0, &ubuf, nvme_fd);
	read_works(nvme_fd, false, "the registered fd");

	test_other_files();
	test_vectored();
	test_passthrough();
	test_buffered();
	test_ranges();
	test_zero_len();
	test_nowait();
	test_clone();

	io_uring_queue_exit(&ring);
	dt_buf_free(&ubuf);
	close(nvme_fd);
	dt_report();
	return T_EXIT_PASS;
}
