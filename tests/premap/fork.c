// SPDX-License-Identifier: MIT
/*
 * fork() after registration.  Pinned anonymous pages are not shared
 * copy-on-write: the child gets copies, the parent keeps the pages the
 * registration pinned and mapped, so both must keep working.
 *
 * - The parent registers a private anonymous buffer premapped for drive 0
 *   and forks.
 * - The child overwrites its copy of the buffer and reads through the
 *   parent's ring (inherited), whose slot holds the parent's pages: the
 *   data must land in the parent's memory, not in the child's copy.  Then
 *   it registers its copy premapped in a ring of its own and reads and
 *   writes through it, verified.
 * - The parent, meanwhile and after the child exited, reads and writes
 *   through its slot (still premapped, still by the mapping), verified in
 *   its own memory, which must show the child's inherited-ring read and
 *   none of the child's own writes.
 */
#include "premap-test.h"

#include <sys/wait.h>

#define SEED		0xf0c
#define LEN		DT_MIB
#define AREA		(4 * DT_MIB)

static struct io_uring ring;
static struct pt_buf b;
static int fd;
static unsigned int lbs;

/* A verified read of len bytes at dev_off into off of b through slot 0 of r. */
static void read_check(struct io_uring *r, size_t off, unsigned int len, uint64_t dev_off,
		       const char *what)
{
	pt_poison(&b, off, len);
	dt_expect_len(pt_io(r, IORING_OP_READ_FIXED, fd, pt_addr(&b, off), len, dev_off, 0, 1),
		      len, "%s: READ_FIXED", what);
	if (t_verify(b.p + off, len, dev_off, SEED, what))
		t_fail("%s: wrong data", what);
}

static void write_check(struct io_uring *r, size_t off, unsigned int len, uint64_t dev_off,
			uint32_t seed, const char *what)
{
	t_fill(b.p + off, len, dev_off, seed);
	dt_expect_len(pt_io(r, IORING_OP_WRITE_FIXED, fd, pt_addr(&b, off), len, dev_off, 0, 1),
		      len, "%s: WRITE_FIXED", what);
	if (dt_dev_verify(fd, dev_off, len, seed, what))
		t_fail("%s: wrong data on the drive", what);
}

static void child(int done_fd)
{
	struct io_uring own;
	int ret;

	/* the child's copy, changed: the parent must never see this */
	memset(b.p, 0x3c, LEN);

	/* the inherited ring's slot holds the parent's pages */
	dt_expect_len(dt_io(&ring, IORING_OP_READ_FIXED, fd, pt_addr(&b, 512 << 10), 64 << 10,
			    7 * lbs, 0), 64 << 10, "child, the parent's ring: READ_FIXED");
	for (size_t i = 0; i < (64 << 10); i++)
		if (b.p[(512 << 10) + i] != 0x3c)
			t_fail("child: a read through the parent's ring changed the child's copy at +%zu",
			       (512 << 10) + i);
	/* the parent may use its ring again */
	if (write(done_fd, "x", 1) != 1)
		t_fail("child: write: %s", strerror(errno));

	ret = io_uring_queue_init(4, &own, 0);
	if (ret)
		t_fail("child: io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&own, 1);
	pt_register(&own, 0, b.p, LEN, fd);
	read_check(&own, lbs, 64 << 10, 2 * lbs, "child, its own ring");
	write_check(&own, 128 << 10, 64 << 10, AREA + DT_MIB, SEED + 1, "child, its own ring");
	io_uring_queue_exit(&own);
	_exit(T_EXIT_PASS);
}

int main(void)
{
	int status, pfd[2], ret;
	char c;
	pid_t pid;

	pt_require();
	fd = pt_open(0, &lbs);
	dt_dev_fill(fd, 0, AREA, SEED);
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 1);
	pt_alloc(&b, LEN, 512);
	pt_register(&ring, 0, b.p, LEN, fd);
	read_check(&ring, 0, 64 << 10, 0, "parent before fork()");
	if (pipe(pfd))
		t_fail("pipe: %s", strerror(errno));

	pid = fork();
	if (pid < 0)
		t_fail("fork: %s", strerror(errno));
	if (!pid)
		child(pfd[1]);
	if (read(pfd[0], &c, 1) != 1)
		t_fail("the child did not finish its I/O through the parent's ring");
	/*
	 * The child submitted through the shared SQ ring with its own copy of
	 * liburing's state: take up the tail it left.
	 */
	ring.sq.sqe_head = ring.sq.sqe_tail = *ring.sq.ktail;
	/* the parent works while the child uses its own ring */
	pt_expect_premapped(&ring, 0, pt_want, "the parent's slot after fork()");
	read_check(&ring, 256 << 10, 128 << 10, 3 * lbs, "parent while the child runs");
	write_check(&ring, 384 << 10, 64 << 10, AREA, SEED + 2, "parent while the child runs");
	if (waitpid(pid, &status, 0) != pid)
		t_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != T_EXIT_PASS)
		t_fail("the child failed (status %#x)", status);

	/* the child's read through the inherited ring is in the parent's memory */
	if (t_verify(b.p + (512 << 10), 64 << 10, 7 * lbs, SEED,
		     "the child's read through the parent's ring"))
		t_fail("the child's read through the inherited ring is not in the parent's pages");
	/* and none of the child's own writes: the parent's write source is intact */
	if (t_verify(b.p + (384 << 10), 64 << 10, AREA, SEED + 2, "the parent's buffer"))
		t_fail("the child's writes to its copy reached the parent's buffer");
	pt_expect_premapped(&ring, 0, pt_want, "the parent's slot after the child exited");
	read_check(&ring, lbs, DT_MIB - lbs, lbs, "parent after the child exited");
	write_check(&ring, 0, DT_MIB, AREA + 2 * DT_MIB, SEED + 3, "parent after the child exited");
	printf("fork(): the child's copy and the parent's registered pages stay apart, both verified\n");
	io_uring_queue_exit(&ring);
	pt_free(&b);
	pt_wait_pages(0, "after both rings are gone");
	close(fd);
	pt_done();
	return T_EXIT_PASS;
}
