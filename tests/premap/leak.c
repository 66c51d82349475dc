// SPDX-License-Identifier: MIT
/*
 * Nothing leaks over 1,000 premapped register/clear cycles (a tenth on a
 * debug kernel), after a warm-up round of a fifth of that.  Each cycle maps
 * fresh memory, registers it premapped for drive 0 or drive 1, reads
 * through it every tenth time, clears the slot and unmaps the memory.  The
 * cycles run in a child without CAP_IPC_LOCK under an RLIMIT_MEMLOCK of
 * 1 MiB, so every cycle's 256 KiB is charged: charges that are not given
 * back refuse a registration within a few cycles, and VmPin must be 0 at
 * the end.  Afterwards: no dma-buf-io-pages buffer is left, the child has
 * the fds it started with, free memory has not dropped (the wrapper's page
 * references were dropped: 250 MiB would be lost otherwise), unreclaimable
 * slab has not grown, and, with kmemleak, a scan finds nothing.
 */
#include "premap-test.h"
#include "leak-check.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <linux/capability.h>

#define CYCLES		1000
#define LEN		(256U << 10)
#define SEED		0x1eac
#define SLAB_SLACK_KB	1024
#define FREE_SLACK_KB	(32 << 10)

static void cycles(struct io_uring *ring, int *fds, int nfd, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		struct pt_buf b;
		int ret;

		pt_alloc(&b, LEN, (i % 4) * 512);
		ret = dmabuf_rw_register_premapped(ring, 0, b.p, LEN, fds[i % nfd]);
		if (ret)
			t_fail("cycle %lu: premapped registration: %s", i, strerror(-ret));
		if (!(i % 10)) {
			pt_expect_premapped(ring, 0, pt_want, "a cycle's slot");
			ret = pt_io(ring, IORING_OP_READ_FIXED, fds[i % nfd], pt_addr(&b, 0), 4096,
				    0, 0, 1);
			if (ret != 4096 || t_verify(b.p, 4096, 0, SEED + i % nfd, "cycle read"))
				t_fail("cycle %lu: read: %d", i, ret);
		}
		dt_expect(dmabuf_rw_clear_buffer(ring, 0), 0, "cycle %lu: clearing", i);
		pt_free(&b);
	}
}

static void drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		t_fail("capget: %s", strerror(errno));
	data[CAP_IPC_LOCK / 32].effective &= ~(1U << (CAP_IPC_LOCK % 32));
	data[CAP_IPC_LOCK / 32].permitted &= ~(1U << (CAP_IPC_LOCK % 32));
	if (syscall(SYS_capset, &hdr, data))
		t_fail("capset without CAP_IPC_LOCK: %s", strerror(errno));
}

static void child(int *fds, int nfd, unsigned long n)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };
	struct io_uring ring;
	int fds0, fds1;
	long pin;

	drop_ipc_lock();
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		t_fail("setrlimit: %s", strerror(errno));
	if (io_uring_queue_init(8, &ring, 0))
		t_fail("io_uring_queue_init");
	dt_sparse(&ring, 1);
	cycles(&ring, fds, nfd, n / 5);
	fds0 = leak_count_fds();
	cycles(&ring, fds, nfd, n);
	fds1 = leak_count_fds();
	if (fds1 != fds0)
		t_fail("fd count changed over the cycles: %d -> %d", fds0, fds1);
	pin = t_proc_kb("/proc/self/status", "VmPin");
	if (pin)
		t_fail("VmPin %ld kB after the cycles, want 0", pin);
	io_uring_queue_exit(&ring);
	_exit(T_EXIT_PASS);
}

int main(void)
{
	unsigned long n = t_scale(CYCLES);
	long slab0, slab1, free0, free1;
	int fds[2], nfd = 0, have_kmemleak, status;
	pid_t pid;

	pt_require();
	for (int i = 0; i < 2 && i < t_bed_drives(); i++) {
		fds[nfd] = pt_open(i, NULL);
		dt_dev_fill(fds[nfd], 0, 4096, SEED + nfd);
		nfd++;
	}
	pt_wait_pages(0, "before the cycles");
	have_kmemleak = !leak_kmemleak("clear");
	slab0 = t_proc_kb("/proc/meminfo", "SUnreclaim");
	free0 = t_proc_kb("/proc/meminfo", "MemFree");
	pid = fork();
	if (pid < 0)
		t_fail("fork: %s", strerror(errno));
	if (!pid)
		child(fds, nfd, n);
	if (waitpid(pid, &status, 0) != pid)
		t_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != T_EXIT_PASS)
		t_fail("the cycles failed (status %#x)", status);
	pt_wait_pages(0, "after the cycles");
	slab1 = t_proc_kb("/proc/meminfo", "SUnreclaim");
	free1 = t_proc_kb("/proc/meminfo", "MemFree");
	printf("%lu + %lu cycles of %u KiB: slab %+ld KiB, free memory %+ld KiB\n", n / 5, n,
	       LEN >> 10, slab1 - slab0, free1 - free0);
	if (free0 - free1 > FREE_SLACK_KB)
		t_fail("free memory dropped by %ld KiB over %lu cycles of %u KiB", free0 - free1,
		       n + n / 5, LEN >> 10);
	/* debug kernels grow the slab on their own: kmemleak judges there */
	if (!have_kmemleak && slab1 - slab0 > SLAB_SLACK_KB)
		t_fail("unreclaimable slab grew by %ld KiB over %lu cycles", slab1 - slab0, n);
	if (have_kmemleak)
		leak_kmemleak_check();
	pt_done();
	return T_EXIT_PASS;
}
