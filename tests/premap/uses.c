// SPDX-License-Identifier: MIT
/*
 * A premapped buffer stays an ordinary registered buffer: every use other
 * than READ_FIXED/WRITE_FIXED on its target works as before, through the
 * ordinary per-I/O mapping, while the target keeps using the long-lived one.
 *
 * - The target and the other drive at once: one batch of reads into
 *   disjoint regions and writes of one shared source region, half to
 *   drive 0 (the target), half to drive 1; both drives and the buffer are
 *   verified.  Drive 1's I/O alone builds no dma-buf bio.
 * - Other files: drive 1, a second O_DIRECT open of drive 0 and a buffered
 *   one (page cache) take the ordinary path; a dup() of the target and the
 *   target in the fixed file table are the target.
 * - Other opcodes on the target: READV_FIXED/WRITEV_FIXED with iovecs in
 *   the buffer, an NVMe passthrough read (IORING_URING_CMD_FIXED) on the
 *   namespace's char device, SEND and RECV with IORING_RECVSEND_FIXED_BUF on
 *   a socket pair.
 * Every one verified byte for byte, and none may use the mapping.
 */
#include "premap-test.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/nvme_ioctl.h>

#ifndef IORING_OP_READV_FIXED
#define IORING_OP_READV_FIXED	60
#define IORING_OP_WRITEV_FIXED	61
#endif

#define SEED		0x05e5
#define SEED_SRC	0x5c
#define SRC_POS		(1ULL << 40)	/* pattern position of source byte 0 */
#define BUF_SIZE	(4 * DT_MIB)
#define AREA		(4 * DT_MIB)	/* pattern on both drives */
#define SCRATCH		(8 * DT_MIB)	/* written to */
#define NJOBS		16
#define REGION		(128U << 10)
#define SRC_OFF		(2 * DT_MIB)	/* the shared source of the writes */
#define SRC_LEN		(256U << 10)

static struct io_uring ring;
static struct pt_buf b;
static int fd0, fd1 = -1;
static unsigned int lbs;

/* The drive holds the source pattern (position SRC_POS + src) at off. */
static int dev_verify_src(int fd, uint64_t off, unsigned int len, size_t src, const char *what)
{
	void *buf = t_malloc(len);
	int bad;

	if (pread(fd, buf, len, off) != (ssize_t)len)
		t_fail("%s: pread %u at %llu: %s", what, len, (unsigned long long)off,
		       strerror(errno));
	bad = t_verify(buf, len, SRC_POS + src, SEED_SRC, what);
	free(buf);
	return bad;
}

static void read_check(int fd, int premapped, size_t off, unsigned int len, uint64_t dev_off,
		       uint32_t seed, const char *what)
{
	pt_poison(&b, off, len + lbs);
	dt_expect_len(pt_io(&ring, IORING_OP_READ_FIXED, fd, pt_addr(&b, off), len, dev_off, 0,
			    premapped), len, "%s: READ_FIXED", what);
	if (t_verify(b.p + off, len, dev_off, seed, what) ||
	    dt_check_poison(b.p + off + len, lbs, "block after"))
		t_fail("%s: wrong data in the buffer", what);
}

static void write_check(int fd, int premapped, uint64_t dev_off, const char *what)
{
	dt_expect_len(pt_io(&ring, IORING_OP_WRITE_FIXED, fd, pt_addr(&b, SRC_OFF), SRC_LEN,
			    dev_off, 0, premapped), SRC_LEN, "%s: WRITE_FIXED", what);
	if (dev_verify_src(fd, dev_off, SRC_LEN, 0, what))
		t_fail("%s: wrong data on the drive", what);
}

/* Job i: drive i & 1, a read into region i (even i / 2) or a write of the source. */
static void prep_job(unsigned int i, int fds[2])
{
	int fd = fds[i & 1], write = (i / 2) & 1;
	unsigned int len = write ? SRC_LEN : REGION - 2 * lbs - (i % 3) * lbs;

	if (write)
		dt_prep(&ring, IORING_OP_WRITE_FIXED, fd, pt_addr(&b, SRC_OFF), len,
			SCRATCH + (uint64_t)i * SRC_LEN, 0, i);
	else
		dt_prep(&ring, IORING_OP_READ_FIXED, fd, pt_addr(&b, i * REGION + lbs), len,
			(uint64_t)i * REGION + (i % 5) * lbs, 0, i);
}

static void run_batch(int fds[2], unsigned int mask, const char *what)
{
	struct io_uring_cqe *cqe;
	unsigned int i, left = 0;
	int ret;

	for (i = 0; i < NJOBS; i++) {
		if (!(mask & (1U << (i & 1))))
			continue;
		if (!((i / 2) & 1))
			pt_poison(&b, i * REGION, REGION);
		prep_job(i, fds);
		left++;
	}
	dt_submit(&ring);
	while (left) {
		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret)
			t_fail("io_uring_wait_cqe: %s", strerror(-ret));
		i = cqe->user_data;
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (ret == -EAGAIN) {
			dt_eagain++;
			prep_job(i, fds);
			dt_submit(&ring);
			continue;
		}
		left--;
		if (ret <= 0)
			t_fail("%s: job %u (drive %u): %d (%s)", what, i, i & 1, ret,
			       ret < 0 ? strerror(-ret) : "nothing");
	}
	for (i = 0; i < NJOBS; i++) {
		unsigned int len = REGION - 2 * lbs - (i % 3) * lbs;
		uint64_t dev_off = (uint64_t)i * REGION + (i % 5) * lbs;
		char job[160];

		if (!(mask & (1U << (i & 1))))
			continue;
		snprintf(job, sizeof(job), "%s: job %u, drive %u", what, i, i & 1);
		if ((i / 2) & 1) {
			if (dev_verify_src(fds[i & 1], SCRATCH + (uint64_t)i * SRC_LEN, SRC_LEN, 0,
					   job))
				t_fail("%s: wrong data written", job);
		} else if (t_verify(b.p + i * REGION + lbs, len, dev_off, SEED + (i & 1), job) ||
			   dt_check_poison(b.p + i * REGION, lbs, "block before") ||
			   dt_check_poison(b.p + i * REGION + lbs + len, REGION - lbs - len,
					   "rest of the region")) {
			t_fail("%s: wrong data read", job);
		}
	}
	if (t_verify(b.p + SRC_OFF, SRC_LEN, SRC_POS, SEED_SRC, "source after the writes"))
		t_fail("%s: the writes changed their source", what);
}

static void test_both_drives(void)
{
	int fds[2] = { fd0, fd1 };
	long bios;

	bios = pt_bios();
	run_batch(fds, 3, "target and other drive at once");
	pt_expect_bios(bios, NJOBS / 2, "the target's half of a batch on both drives");
	bios = pt_bios();
	run_batch(fds, 2, "other drive alone");
	pt_expect_no_bios(bios, "a batch on the other drive only");
	printf("one buffer on the target and on the other drive at once: %u I/Os verified\n",
	       NJOBS + NJOBS / 2);
}

/* A read through the target in the fixed file table (file index 0). */
static void read_fixed_file(void)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	long before = pt_bios();
	int ret;

	pt_poison(&b, lbs, 8 * lbs + lbs);
	sqe = dt_prep(&ring, IORING_OP_READ_FIXED, 0, pt_addr(&b, lbs), 8 * lbs, 4 * lbs, 0, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	dt_submit(&ring);
	ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret)
		t_fail("io_uring_wait_cqe: %s", strerror(-ret));
	ret = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	dt_expect_len(ret, 8 * lbs, "READ_FIXED through the fixed file table");
	if (t_verify(b.p + lbs, 8 * lbs, 4 * lbs, SEED, "fixed file"))
		t_fail("READ_FIXED through the fixed file table: wrong data");
	pt_expect_bios(before, 1, "the target in the fixed file table");
}

static void test_other_files(void)
{
	int other = open(t_nvme_path(0), O_RDWR | O_DIRECT);
	int buffered = open(t_nvme_path(0), O_RDWR);
	int dupfd = dup(fd0), ret;

	if (other < 0 || buffered < 0 || dupfd < 0)
		t_fail("opening %s again: %s", t_nvme_path(0), strerror(errno));
	if (fd1 >= 0) {
		read_check(fd1, 0, 3 * lbs, 64 << 10, lbs, SEED + 1, "drive 1");
		write_check(fd1, 0, SCRATCH + lbs, "drive 1");
	}
	read_check(other, 0, lbs, 64 << 10, 2 * lbs, SEED, "second O_DIRECT open of drive 0");
	write_check(other, 0, SCRATCH + 3 * lbs, "second O_DIRECT open of drive 0");
	read_check(buffered, 0, 5 * lbs, 64 << 10, 3 * lbs, SEED, "buffered open of drive 0");
	write_check(buffered, 0, SCRATCH + 7 * lbs, "buffered open of drive 0");
	if (fsync(buffered))
		t_fail("fsync of the buffered open: %s", strerror(errno));
	if (dev_verify_src(fd0, SCRATCH + 7 * lbs, SRC_LEN, 0, "buffered write, read O_DIRECT"))
		t_fail("the buffered write did not reach the drive");

	read_check(dupfd, 1, 2 * lbs, 64 << 10, 5 * lbs, SEED, "dup() of the target");
	write_check(dupfd, 1, SCRATCH + 9 * lbs, "dup() of the target");
	ret = io_uring_register_files(&ring, &fd0, 1);
	if (ret)
		t_fail("io_uring_register_files: %s", strerror(-ret));
	read_fixed_file();
	io_uring_unregister_files(&ring);
	close(other);
	close(buffered);
	close(dupfd);
	printf("other files by the ordinary path, the target's dup() and fixed file by the mapping\n");
}

static int vec_io(int opcode, struct iovec *iov, unsigned int nr, uint64_t off)
{
	struct io_uring_sqe *sqe = dt_prep(&ring, opcode, fd0, (uintptr_t)iov, nr, off, 0, 0);
	struct io_uring_cqe *cqe;
	int ret;

	sqe->buf_index = 0;
	dt_submit(&ring);
	ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret)
		t_fail("io_uring_wait_cqe: %s", strerror(-ret));
	ret = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	return ret;
}

static void test_vectored(void)
{
	struct iovec iov[3] = {
		{ b.p + lbs, 4 * lbs },
		{ b.p + 64 * lbs + 4, 16 * lbs },	/* dword aligned */
		{ b.p + 300 * lbs, 8192 },
	};
	unsigned int total = 4 * lbs + 16 * lbs + 8192, i;
	uint64_t pos = 0;
	long bios = pt_bios();
	int ret;

	for (i = 0; i < 3; i++)
		memset(iov[i].iov_base, 0xa5, iov[i].iov_len);
	ret = vec_io(IORING_OP_READV_FIXED, iov, 3, 2 * lbs);
	if (ret == -EINVAL)
		t_fail("READV_FIXED on the target: -EINVAL (opcode %d unknown?)",
		       IORING_OP_READV_FIXED);
	dt_expect_len(ret, total, "READV_FIXED of the buffer on the target");
	for (i = 0; i < 3; pos += iov[i].iov_len, i++)
		if (t_verify(iov[i].iov_base, iov[i].iov_len, 2 * lbs + pos, SEED, "READV_FIXED"))
			t_fail("READV_FIXED of the buffer on the target: segment %u wrong", i);
	/* and back, to the scratch area */
	for (i = 0, pos = 0; i < 3; pos += iov[i].iov_len, i++)
		t_fill(iov[i].iov_base, iov[i].iov_len, SCRATCH + pos, SEED + 7);
	ret = vec_io(IORING_OP_WRITEV_FIXED, iov, 3, SCRATCH);
	dt_expect_len(ret, total, "WRITEV_FIXED of the buffer on the target");
	if (dt_dev_verify(fd0, SCRATCH, total, SEED + 7, "WRITEV_FIXED"))
		t_fail("WRITEV_FIXED of the buffer on the target: wrong data on the drive");
	pt_expect_no_bios(bios, "READV_FIXED/WRITEV_FIXED on the target");
	printf("READV_FIXED/WRITEV_FIXED of the buffer on the target by the ordinary path\n");
}

/* An NVMe read of nblocks at slba into addr of slot 0 of r, through ngfd. */
static int passthru_read(struct io_uring *r, int ngfd, __u32 nsid, uint64_t addr,
			 unsigned int nblocks, uint64_t slba)
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

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, ngfd, NULL, 0, 0);
	sqe->cmd_op = NVME_URING_CMD_IO;
	sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
	sqe->buf_index = 0;
	memcpy((char *)sqe + offsetof(struct io_uring_sqe, addr3), &cmd, sizeof(cmd));
	if (io_uring_submit(r) != 1)
		t_fail("io_uring_submit");
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
	long bios;
	int ngfd, nsid, ret;

	if (sscanf(t_nvme_path(0), "/dev/nvme%un%u", &ctrl, &ns) != 2)
		t_fail("%s: not a /dev/nvmeXnY namespace", t_nvme_path(0));
	snprintf(path, sizeof(path), "/dev/ng%un%u", ctrl, ns);
	ngfd = open(path, O_RDWR);
	if (ngfd < 0)
		t_missing("%s, the namespace's generic char device: %s", path, strerror(errno));
	nsid = ioctl(ngfd, NVME_IOCTL_ID);
	ret = io_uring_queue_init(4, &r, IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
	if (ret || nsid < 0)
		t_fail("passthrough setup: ring %d, nsid %d", ret, nsid);
	dt_sparse(&r, 1);
	pt_register(&r, 0, b.p, b.len, fd0);
	pt_poison(&b, 0, 16 * lbs);
	bios = pt_bios();
	ret = passthru_read(&r, ngfd, nsid, pt_addr(&b, lbs), 8, 6);
	if (ret)
		t_fail("passthrough read into the premapped slot: %d (%s)", ret,
		       ret < 0 ? strerror(-ret) : "status");
	if (t_verify(b.p + lbs, 8 * lbs, 6 * lbs, SEED, "passthrough read") ||
	    dt_check_poison(b.p, lbs, "block before") ||
	    dt_check_poison(b.p + 9 * lbs, lbs, "block after"))
		t_fail("passthrough read into the premapped slot: wrong data");
	pt_expect_no_bios(bios, "NVMe passthrough with the premapped slot");
	io_uring_queue_exit(&r);
	close(ngfd);
	printf("NVMe passthrough into the premapped slot by the ordinary path\n");
}

/* SEND or RECV of len bytes at buffer offset off, with the fixed buffer. */
static int sock_io(int opcode, int sock, size_t off, unsigned int len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	struct io_uring_cqe *cqe;
	int ret;

	io_uring_prep_rw(opcode, sqe, sock, b.p + off, len, 0);
	sqe->ioprio = IORING_RECVSEND_FIXED_BUF;
	sqe->buf_index = 0;
	if (opcode == IORING_OP_RECV)
		sqe->msg_flags = MSG_WAITALL;
	dt_submit(&ring);
	ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret)
		t_fail("io_uring_wait_cqe: %s", strerror(-ret));
	ret = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	return ret;
}

static void test_socket(void)
{
	unsigned int len = 16 << 10;
	unsigned char *mem = t_malloc(len);
	long bios = pt_bios();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		t_fail("socketpair: %s", strerror(errno));
	t_fill(b.p + 4096 + 12, len, 77, SEED + 9);
	dt_expect_len(sock_io(IORING_OP_SEND, sv[0], 4096 + 12, len), len,
		      "SEND from the premapped slot");
	if (recv(sv[1], mem, len, MSG_WAITALL) != (ssize_t)len ||
	    t_verify(mem, len, 77, SEED + 9, "SEND"))
		t_fail("SEND from the premapped slot: wrong data");
	t_fill(mem, len, 99, SEED + 10);
	if (send(sv[1], mem, len, 0) != (ssize_t)len)
		t_fail("send: %s", strerror(errno));
	pt_poison(&b, 8192, len);
	dt_expect_len(sock_io(IORING_OP_RECV, sv[0], 8192, len), len,
		      "RECV into the premapped slot");
	if (t_verify(b.p + 8192, len, 99, SEED + 10, "RECV"))
		t_fail("RECV into the premapped slot: wrong data");
	pt_expect_no_bios(bios, "SEND/RECV with the premapped slot");
	close(sv[0]);
	close(sv[1]);
	free(mem);
	printf("SEND and RECV with the premapped slot on a socket pair\n");
}

int main(void)
{
	int ret;

	pt_require();
	fd0 = pt_open(0, &lbs);
	if (t_bed_drives() > 1) {
		fd1 = pt_open(1, NULL);
		dt_dev_fill(fd1, 0, AREA, SEED + 1);
	}
	dt_dev_fill(fd0, 0, AREA, SEED);
	ret = io_uring_queue_init(2 * NJOBS, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 1);
	pt_alloc(&b, BUF_SIZE, 512);
	t_fill(b.p + SRC_OFF, SRC_LEN, SRC_POS, SEED_SRC);
	pt_register(&ring, 0, b.p, b.len, fd0);

	if (fd1 >= 0)
		test_both_drives();
	else
		printf("a bed of one drive: the other drive not covered\n");
	test_other_files();
	test_vectored();
	test_passthrough();
	test_socket();
	/* and the target still by the mapping */
	read_check(fd0, 1, 0, DT_MIB, 0, SEED, "the target at the end");

	io_uring_queue_exit(&ring);
	pt_free(&b);
	close(fd0);
	if (fd1 >= 0)
		close(fd1);
	pt_done();
	return T_EXIT_PASS;
}
