// SPDX-License-Identifier: MIT
/*
 * RLIMIT_MEMLOCK accounting is the ordinary one: the flag pins and accounts
 * exactly what an ordinary registration does.
 *
 * A child drops CAP_IPC_LOCK (io_uring then charges registered buffers to
 * the user's locked memory against RLIMIT_MEMLOCK, and to the process's
 * VmPin) and sets the limit to 1 MiB.  It finds the largest ordinary
 * registration the limit allows, N pages, then checks that a premapped
 * registration of N pages succeeds and of N + 1 is refused with -ENOMEM
 * like an ordinary one, that a buffer starting 512 bytes into a page is
 * charged for the extra page alike, that both kinds count against one
 * limit together, that VmPin shows the same for both and drops to zero
 * when they are cleared, and that refused targets (-EBADF, -EOPNOTSUPP) and
 * 200 register/clear cycles leave nothing charged: N pages still fit.
 */
#include "premap-test.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <linux/capability.h>

#define LIMIT		(1U << 20)
#define CYCLES		200

static struct io_uring ring;
static int fd, notarget;

static void drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		t_fail("capget: %s", strerror(errno));
	data[CAP_IPC_LOCK / 32].effective &= ~(1U << (CAP_IPC_LOCK % 32));
	data[CAP_IPC_LOCK / 32].permitted &= ~(1U << (CAP_IPC_LOCK % 32));
	data[CAP_IPC_LOCK / 32].inheritable &= ~(1U << (CAP_IPC_LOCK % 32));
	if (syscall(SYS_capset, &hdr, data))
		t_fail("capset without CAP_IPC_LOCK: %s", strerror(errno));
}

/* Register pages pages at p + lead in slot, premapped or not: 0 or -errno. */
static int reg(unsigned int slot, unsigned char *p, size_t lead, unsigned int pages,
	       int premapped, int target)
{
	size_t len = (size_t)pages * PT_PAGE - lead;

	if (!premapped)
		return dmabuf_rw_register_uaddr(&ring, slot, p + lead, len);
	return dmabuf_rw_register_premapped(&ring, slot, p + lead, len, target);
}

static void clear(unsigned int slot)
{
	dt_expect(dmabuf_rw_clear_buffer(&ring, slot), 0, "clearing slot %u", slot);
}

/* Both kinds: pages must give want; on success VmPin is pages * 4 KiB. */
static void same(unsigned char *p, size_t lead, unsigned int pages, int want, const char *what)
{
	long pin[2];

	for (int k = 0; k < 2; k++) {
		int ret = reg(0, p, lead, pages, k, fd);

		if (ret != want)
			t_fail("%s: %s registration of %u pages: %d (%s), want %d (%s)", what,
			       k ? "premapped" : "ordinary", pages, ret,
			       ret ? strerror(-ret) : "ok", want, want ? strerror(-want) : "ok");
		pin[k] = t_proc_kb("/proc/self/status", "VmPin");
		if (!ret) {
			if (k)
				pt_expect_premapped(&ring, 0, pt_want, what);
			clear(0);
		}
		if (t_proc_kb("/proc/self/status", "VmPin"))
			t_fail("%s: VmPin %ld kB after clearing, want 0", what, t_proc_kb("/proc/self/status", "VmPin"));
	}
	if (pin[0] != pin[1])
		t_fail("%s: VmPin %ld kB for the ordinary buffer, %ld kB premapped", what, pin[0],
		       pin[1]);
	if (!want && pin[0] != (long)pages * PT_PAGE / 1024)
		t_fail("%s: VmPin %ld kB for %u pages", what, pin[0], pages);
}

static void child(void)
{
	struct rlimit rl = { LIMIT, LIMIT };
	unsigned int lo = 1, hi = 2 * LIMIT / PT_PAGE, n, i;
	unsigned char *p;
	int ret;

	/*
	 * io_uring charges a buffer on a huge page for the whole huge page:
	 * with THP "always", the 2 MiB-aligned part of the mapping below
	 * would charge 2 MiB for one page, and the sizes found here would
	 * depend on where mmap put it.
	 */
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		t_fail("prctl(PR_SET_THP_DISABLE): %s", strerror(errno));
	drop_ipc_lock();
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		t_fail("setrlimit(RLIMIT_MEMLOCK, %u): %s", LIMIT, strerror(errno));
	/* the ring after the capability is gone: it charges the user */
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init without CAP_IPC_LOCK: %s", strerror(-ret));
	dt_sparse(&ring, 2);
	p = mmap(NULL, 3 * LIMIT, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		t_fail("mmap: %s", strerror(errno));

	/* the largest ordinary registration: lo fits, hi does not */
	if (reg(0, p, 0, hi, 0, fd) != -ENOMEM)
		t_fail("%u pages fit under a limit of %u bytes: the limit does not apply", hi, LIMIT);
	while (hi - lo > 1) {
		unsigned int mid = (lo + hi) / 2;

		ret = reg(0, p, 0, mid, 0, fd);
		if (ret && ret != -ENOMEM)
			t_fail("ordinary registration of %u pages: %s", mid, strerror(-ret));
		if (!ret)
			clear(0);
		*(ret ? &hi : &lo) = mid;
	}
	n = lo;
	printf("RLIMIT_MEMLOCK %u bytes without CAP_IPC_LOCK: an ordinary buffer of %u pages fits, %u do not\n",
	       LIMIT, n, n + 1);

	same(p, 0, n, 0, "the largest buffer the limit allows");
	same(p, 0, n + 1, -ENOMEM, "a page more");
	same(p, 512, n, 0, "starting 512 bytes into a page, on the same pages");
	same(p, 512, n + 1, -ENOMEM, "starting 512 bytes into a page, a page more");

	/* one limit for both kinds */
	dt_expect(reg(0, p, 0, n / 2, 1, fd), 0, "premapped half");
	dt_expect(reg(1, p + LIMIT, 0, n - n / 2 + 1, 0, fd), -ENOMEM,
		  "ordinary other half and a page more, next to a premapped half");
	dt_expect(reg(1, p + LIMIT, 0, n - n / 2, 0, fd), 0, "ordinary other half");
	clear(1);
	dt_expect(reg(1, p + LIMIT, 0, n - n / 2 + 1, 1, fd), -ENOMEM,
		  "premapped other half and a page more, next to a premapped half");
	dt_expect(reg(1, p + LIMIT, 0, n - n / 2, 1, fd), 0, "premapped other half");
	if (t_proc_kb("/proc/self/status", "VmPin") != (long)n * PT_PAGE / 1024)
		t_fail("VmPin %ld kB for two premapped halves of %u pages", t_proc_kb("/proc/self/status", "VmPin"), n);
	clear(0);
	clear(1);

	/* refusals and cycles leave nothing charged */
	dt_expect(reg(0, p, 0, n, 1, -1), -EBADF, "premapped for target fd -1");
	dt_expect(reg(0, p, 0, n, 1, notarget), -EOPNOTSUPP, "premapped for /dev/null");
	for (i = 0; i < t_scale(CYCLES); i++) {
		dt_expect(reg(0, p, (i % 3) * 512, n, 1, fd), 0, "cycle %u", i);
		clear(0);
	}
	same(p, 0, n, 0, "after refused targets and register/clear cycles");
	same(p, 0, n + 1, -ENOMEM, "after refused targets and register/clear cycles, a page more");
	io_uring_queue_exit(&ring);
	printf("premapped and ordinary buffers charged alike, %lu cycles leave nothing\n",
	       t_scale(CYCLES));
	exit(T_EXIT_PASS);
}

int main(void)
{
	int status;
	pid_t pid;

	pt_require();
	fd = pt_open(0, NULL);
	notarget = open("/dev/null", O_RDWR);
	pid = fork();
	if (pid < 0)
		t_fail("fork: %s", strerror(errno));
	if (!pid)
		child();
	if (waitpid(pid, &status, 0) != pid)
		t_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != T_EXIT_PASS)
		t_fail("the child without CAP_IPC_LOCK failed (status %#x)", status);
	pt_done();
	return T_EXIT_PASS;
}
