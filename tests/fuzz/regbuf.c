// SPDX-License-Identifier: MIT
/*
 * Fuzz the dma-buf registration ABI and the I/O that uses it: random and
 * edge-case io_uring_regbuf_desc arrays (every field, fds of every kind,
 * reserved words, unknown types and flags, overlapping and out-of-range
 * updates, huge nr) and random READ_FIXED / WRITE_FIXED / READV_FIXED SQEs
 * on whatever the slots hold.  Every call must succeed or fail with one of
 * the documented errnos; the harness fails the run on any kernel splat.
 * 100,000 cases (dmabuf_rw.fuzz_cases=N), a tenth of them on a debug
 * kernel (t_scale()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "test.h"
#include "dmabuf-rw.h"

#define NR_SLOTS	8
#define DEF_CASES	100000

static uint64_t state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static int pick(const int *v, int n)
{
	return v[rnd() % n];
}

/* Boundary values a field is likely to be mishandled at. */
static uint64_t edge64(void)
{
	static const uint64_t v[] = {
		0, 1, 511, 512, 4095, 4096, 4097, 1ULL << 20, 1ULL << 31,
		1ULL << 32, (1ULL << 40) + 1, ~0ULL, ~0ULL - 4095, 1ULL << 63,
	};

	return rnd() & 1 ? v[rnd() % (sizeof(v) / sizeof(v[0]))] : rnd();
}

static const int ok_update_errs[] = {
	EINVAL, EBADF, EFAULT, EOPNOTSUPP, ENOMEM, EOVERFLOW, ENXIO, ENODEV,
};
static const int ok_io_errs[] = {
	EINVAL, EBADF, EFAULT, EOPNOTSUPP, EAGAIN, ENOSPC, ENOMEM,
};

static int allowed(int err, const int *set, int n)
{
	for (int i = 0; i < n; i++)
		if (err == set[i])
			return 1;
	return 0;
}

struct fds {
	int v[24];
	int n;
};

static void add(struct fds *f, int fd)
{
	if (fd >= 0 || fd == -1 || fd < -1)
		f->v[f->n++] = fd;
}

int main(void)
{
	unsigned long cases, done_upd = 0, done_io = 0, ok_upd = 0, ok_io = 0;
	unsigned long errs[256] = { 0 };
	struct io_uring_regbuf_desc descs[4];
	const char *arg = t_cmdline("dmabuf_rw.fuzz_cases");
	struct io_uring ring;
	struct fds f = { .n = 0 };
	unsigned char *mem;
	int ret, pfd[2], closed;

	t_require_dmabuf_io();
	cases = arg ? strtoul(arg, NULL, 0) : t_scale(DEF_CASES);
	if (io_uring_queue_init(16, &ring, 0))
		t_fail("io_uring_queue_init");
	if (io_uring_register_buffers_sparse(&ring, NR_SLOTS))
		t_fail("sparse table");
	mem = t_malloc(1 << 20);

	/* Every kind of fd, valid and not. */
	add(&f, ring.ring_fd);
	add(&f, t_open_nvme(0, 0));
	add(&f, open(t_nvme_path(0), O_RDWR));		/* not O_DIRECT */
	add(&f, t_open_nvme(1, 0));
	add(&f, dmabuf_rw_udmabuf_create(1 << 20, NULL));
	add(&f, dmabuf_rw_udmabuf_create(64 << 10, NULL));
	add(&f, dmabuf_rw_heap_alloc("system", 1 << 20));
	add(&f, memfd_create("fuzz", 0));
	add(&f, open("/tmp/fuzz-file", O_RDWR | O_CREAT, 0600));
	add(&f, open("/dev/null", O_RDWR));
	add(&f, eventfd(0, 0));
	if (!pipe(pfd)) {
		add(&f, pfd[0]);
		add(&f, pfd[1]);
	}
	closed = open("/dev/null", O_RDONLY);
	close(closed);
	add(&f, closed);
	add(&f, -1);
	add(&f, -2);
	add(&f, 1 << 30);
	add(&f, 0x7fffffff);

	for (unsigned long c = 0; c < cases; c++) {
		if (rnd() % 4) {
			/* a registration update */
			struct io_uring_rsrc_update2 up = { 0 };
			unsigned int nr = 1 + rnd() % 4;
			__u64 tags[4] = { 0 };
			uint32_t flags = IORING_RSRC_UPDATE_EXTENDED;

			for (unsigned int i = 0; i < nr; i++) {
				struct io_uring_regbuf_desc *d = &descs[i];

				memset(d, 0, sizeof(*d));
				d->type = rnd() % 8 ? rnd() % 3 : (uint32_t)edge64();
				if (!(rnd() % 8))
					d->flags = 1U << (rnd() % 32);
				switch (d->type) {
				case IO_REGBUF_TYPE_UADDR:
					d->uaddr = rnd() % 4 ? (uintptr_t)mem +
						(rnd() % 2 ? 0 : rnd() % 4096) : edge64();
					d->size = rnd() % 4 ? 1 + rnd() % (1 << 20) : edge64();
					break;
				default:
					if (!(rnd() % 6))
						d->uaddr = edge64();
					if (!(rnd() % 6))
						d->size = edge64();
					break;
				}
				d->dmabuf_fd = f.v[rnd() % f.n];
				d->target_fd = f.v[rnd() % f.n];
				if (!(rnd() % 8))
					d->__resv[rnd() % 6] = edge64() | 1;
			}
			if (!(rnd() % 8))
				flags |= 1U << (rnd() % 32);
			if (!(rnd() % 16))
				flags = 0;	/* iovec interpretation of the same memory */
			for (unsigned int i = 0; i < nr; i++)
				if (!(rnd() % 8))
					tags[i] = rnd();
			up.offset = rnd() % 8 ? rnd() % (NR_SLOTS + 2) : (uint32_t)edge64();
			memcpy((char *)&up + 4, &flags, 4);	/* 'flags', 'resv' in old headers */
			up.data = (uintptr_t)descs;
			up.tags = rnd() % 4 ? 0 : (uintptr_t)tags;
			up.nr = rnd() % 16 ? nr : (uint32_t)edge64();
			if (!(rnd() % 32))
				up.resv2 = 1;
			if (!(rnd() % 32))
				up.data = edge64();
			ret = syscall(__NR_io_uring_register, ring.ring_fd,
				      IORING_REGISTER_BUFFERS_UPDATE, &up, sizeof(up));
			done_upd++;
			if (ret >= 0) {
				if ((unsigned int)ret > up.nr)
					t_fail("update returned %d for nr %u", ret, up.nr);
				ok_upd++;
			} else if (!allowed(errno, ok_update_errs,
					    sizeof(ok_update_errs) / sizeof(int))) {
				t_fail("case %lu: update: undocumented errno %d (%s)",
				       c, errno, strerror(errno));
			} else {
				errs[errno & 255]++;
			}
		} else {
			/* an I/O on whatever slot, fd and range */
			static const int ops[] = {
				IORING_OP_READ_FIXED, IORING_OP_WRITE_FIXED,
				IORING_OP_READ_FIXED, IORING_OP_WRITE_FIXED,
				IORING_OP_READV,
			};
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			struct io_uring_cqe *cqe;
			int op = pick(ops, 5);
			uint32_t len = rnd() % 2 ? (1 + rnd() % 64) * 512 : (uint32_t)edge64();
			uint64_t addr = rnd() % 2 ? rnd() % (2 << 20) / 512 * 512 : edge64();
			uint64_t off = rnd() % 2 ? rnd() % (64 << 20) / 512 * 512 : edge64();

			if (op == IORING_OP_READV) {
				/* READV_FIXED (60) / WRITEV_FIXED (61) */
				op = 60 + (rnd() & 1);
				addr = (uintptr_t)mem;
				((struct iovec *)mem)[0] = (struct iovec){
					(void *)(uintptr_t)(rnd() % 4096), len };
				len = 1;
			}
			/* mostly the NVMe targets (pool entries 1-3), sometimes anything */
			int idx = rnd() % 4 ? 1 + rnd() % 3 : rnd() % f.n;
			int nvme = idx >= 1 && idx <= 3;

			io_uring_prep_rw(op, sqe, f.v[idx], (void *)(uintptr_t)addr, len, off);
			sqe->buf_index = rnd() % (NR_SLOTS + 1);
			if (io_uring_submit(&ring) != 1)
				t_fail("submit");
			if (io_uring_wait_cqe(&ring, &cqe))
				t_fail("wait_cqe");
			ret = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
			done_io++;
			if (ret >= 0)
				ok_io++;
			/*
			 * Other files answer with their own errnos (an eventfd, a
			 * pipe, the ring): only the dma-buf targets are checked.
			 */
			else if (nvme && !allowed(-ret, ok_io_errs,
						  sizeof(ok_io_errs) / sizeof(int)))
				t_fail("case %lu: op %d len %u addr %llu off %llu: undocumented errno %d (%s)",
				       c, op, len, (unsigned long long)addr,
				       (unsigned long long)off, -ret, strerror(-ret));
			else
				errs[-ret & 255]++;
		}
	}
	printf("%lu cases: %lu updates (%lu succeeded), %lu I/Os (%lu succeeded)\n",
	       cases, done_upd, ok_upd, done_io, ok_io);
	printf("errnos: EINVAL %lu, EBADF %lu, EFAULT %lu, EOPNOTSUPP %lu, EAGAIN %lu, ENOSPC %lu\n",
	       errs[EINVAL], errs[EBADF], errs[EFAULT], errs[EOPNOTSUPP],
	       errs[EAGAIN], errs[ENOSPC]);
	if (!ok_upd || !ok_io)
		t_fail("the fuzzer never got through: nothing was exercised");
	io_uring_queue_exit(&ring);
	return T_EXIT_PASS;
}
