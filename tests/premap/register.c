// SPDX-License-Identifier: MIT
/*
 * Registering user memory mapped once for a target (IO_REGBUF_F_TARGET):
 * what a slot holds afterwards and which descriptors are refused.
 *
 * - A registration for an O_DIRECT NVMe drive succeeds; the slot is
 *   premapped (the swiotlb bed: ordinary), the ring's fdinfo shows the
 *   user address and length as for any registered buffer, and one
 *   dma-buf-io-pages buffer covering the buffer's pages is attached to the
 *   drive (none in the swiotlb bed).  A read through it uses the mapping.
 * - dmabuf_rw_buffer_premapped(): 0 for an ordinary buffer and a dma-buf
 *   slot, -ENOENT for an empty slot and a slot beyond the table.
 * - Refused, with the documented errno, and the slot exactly as before
 *   (empty, ordinary or premapped): the flag on EMPTY and DMABUF
 *   descriptors, unknown flags, reserved words, target_fd without the flag
 *   and dmabuf_fd with it (-EINVAL); bad target fds (-EBADF); targets
 *   without dma-buf I/O: a regular file, a pipe, /dev/null, an eventfd, a
 *   memfd, a dma-buf, the ring, the namespace's char device (-EOPNOTSUPP);
 *   the drive opened without O_DIRECT (-EINVAL); user memory the kernel
 *   refuses anyway (-EFAULT, as without the flag).
 * - Updates: replacing a premapped slot releases its mapping; several
 *   descriptors in one update stop at the first refused one; the same
 *   memory in two slots for two drives gets two mappings; a dup() of the
 *   registered fd is the same file.
 */
#include "premap-test.h"

#include <sys/eventfd.h>

#define NR_SLOTS	4
#define LEN		(64U << 10)
#define LEAD		512		/* the buffer starts inside a page */
#define SEED		0x9e61

static struct io_uring ring;
static int fd0, fd1 = -1;
static unsigned int lbs;

/* The text of slot's line in the ring's fdinfo ("0x.../N[ premapped]", "<none>"). */
static void slot_line(unsigned int slot, char *out, size_t len)
{
	char path[64], line[256];
	int in_bufs = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ring.ring_fd);
	f = fopen(path, "r");
	if (!f)
		t_fail("%s: %s", path, strerror(errno));
	snprintf(out, len, "(no line)");
	while (fgets(line, sizeof(line), f)) {
		unsigned int n;

		if (!strncmp(line, "UserBufs:", 9)) {
			in_bufs = 1;
			continue;
		}
		if (!in_bufs || sscanf(line, " %u:", &n) != 1 || n != slot)
			continue;
		snprintf(out, len, "%s", strchr(line, ':') + 2);
		out[strcspn(out, "\n")] = 0;
		break;
	}
	fclose(f);
}

/* A read of 8 blocks through slot into mem (the memory slot must hold). */
static void read_into(unsigned int slot, unsigned char *mem, const char *what)
{
	memset(mem, 0xa5, 8 * lbs);
	dt_expect_len(dt_io(&ring, IORING_OP_READ_FIXED, fd0, (uintptr_t)mem, 8 * lbs, 0, slot),
		      8 * lbs, "%s: READ_FIXED", what);
	if (t_verify(mem, 8 * lbs, 0, SEED, what))
		t_fail("%s: wrong data", what);
}

static int update(unsigned int slot, struct io_uring_regbuf_desc *d, unsigned int nr)
{
	return dmabuf_rw_update_buffers(&ring, slot, d, NULL, nr);
}

static struct io_uring_regbuf_desc targeted(void *p, size_t len, int fd)
{
	return (struct io_uring_regbuf_desc) {
		.type = IO_REGBUF_TYPE_UADDR, .flags = IO_REGBUF_F_TARGET,
		.uaddr = (uintptr_t)p, .size = len, .target_fd = fd,
	};
}

struct bad {
	const char *what;
	struct io_uring_regbuf_desc d;
	int want;
};

/* Every refused descriptor, for memory p of LEN bytes. */
static unsigned int bad_descs(struct bad *b, const struct pt_buf *buf, int udmabuf)
{
	static int extra[16];
	struct io_uring_regbuf_desc t = targeted(buf->p, LEN, fd0);
	uintptr_t guard = (uintptr_t)buf->base + buf->map_len - PT_PAGE;
	unsigned int n = 0;
	int pfd[2], closed, i;
	char path[64], *dev;

	if (!extra[0]) {
		if (pipe(pfd))
			t_fail("pipe: %s", strerror(errno));
		extra[0] = pfd[0];
		extra[1] = pfd[1];
		extra[2] = open("/tmp/premap-file", O_RDWR | O_CREAT, 0600);
		extra[3] = open("/dev/null", O_RDWR);
		extra[4] = eventfd(0, 0);
		extra[5] = memfd_create("premap", 0);
		extra[6] = open(t_nvme_path(0), O_RDWR);	/* not O_DIRECT */
		dev = strrchr(t_nvme_path(0), '/') + 1;	/* nvmeXnY -> ngXnY */
		snprintf(path, sizeof(path), "/dev/ng%s", dev + 4);
		extra[7] = open(path, O_RDWR);
		for (i = 0; i < 8; i++)
			if (extra[i] < 0)
				t_fail("opening target candidate %d: %s", i, strerror(errno));
	}
	closed = open("/dev/null", O_RDONLY);
	close(closed);

#define BAD(w, e, expr) do { b[n].what = (w); b[n].d = t; expr; b[n++].want = (e); } while (0)
	BAD("flag on an EMPTY descriptor", -EINVAL,
	    (b[n].d.type = IO_REGBUF_TYPE_EMPTY, b[n].d.uaddr = 0, b[n].d.size = 0));
	BAD("flag on an EMPTY descriptor without target_fd", -EINVAL,
	    (b[n].d.type = IO_REGBUF_TYPE_EMPTY, b[n].d.uaddr = 0, b[n].d.size = 0,
	     b[n].d.target_fd = 0));
	BAD("flag on a DMABUF descriptor", -EINVAL,
	    (b[n].d.type = IO_REGBUF_TYPE_DMABUF, b[n].d.uaddr = 0, b[n].d.size = 0,
	     b[n].d.dmabuf_fd = udmabuf));
	for (i = 1; i < 32; i += 5)
		BAD("unknown flag with IO_REGBUF_F_TARGET", -EINVAL, b[n].d.flags |= 1U << i);
	BAD("unknown flag alone, with a target", -EINVAL, b[n].d.flags = 1U << 1);
	BAD("target_fd without the flag", -EINVAL, b[n].d.flags = 0);
	BAD("dmabuf_fd with the flag", -EINVAL, b[n].d.dmabuf_fd = udmabuf);
	BAD("dmabuf_fd -1 with the flag", -EINVAL, b[n].d.dmabuf_fd = -1);
	BAD("a reserved word", -EINVAL, b[n].d.__resv[0] = 1);
	BAD("the last reserved word", -EINVAL, b[n].d.__resv[5] = 1ULL << 63);
	BAD("target fd -1", -EBADF, b[n].d.target_fd = -1);
	BAD("a closed target fd", -EBADF, b[n].d.target_fd = closed);
	BAD("target fd 1 << 30", -EBADF, b[n].d.target_fd = 1 << 30);
	BAD("a pipe", -EOPNOTSUPP, b[n].d.target_fd = extra[0]);
	BAD("a pipe's write end", -EOPNOTSUPP, b[n].d.target_fd = extra[1]);
	BAD("a regular file", -EOPNOTSUPP, b[n].d.target_fd = extra[2]);
	BAD("/dev/null", -EOPNOTSUPP, b[n].d.target_fd = extra[3]);
	BAD("an eventfd", -EOPNOTSUPP, b[n].d.target_fd = extra[4]);
	BAD("a memfd", -EOPNOTSUPP, b[n].d.target_fd = extra[5]);
	BAD("a dma-buf", -EOPNOTSUPP, b[n].d.target_fd = udmabuf);
	BAD("the ring", -EOPNOTSUPP, b[n].d.target_fd = ring.ring_fd);
	BAD("the namespace's char device", -EOPNOTSUPP, b[n].d.target_fd = extra[7]);
	BAD("the drive without O_DIRECT", -EINVAL, b[n].d.target_fd = extra[6]);
	BAD("user address 0", -EFAULT, b[n].d.uaddr = 0);
	BAD("inaccessible user memory", -EFAULT, (b[n].d.uaddr = guard, b[n].d.size = PT_PAGE));
	BAD("user memory running into an inaccessible page", -EFAULT,
	    b[n].d.size = guard + 1 - (uintptr_t)buf->p);
#undef BAD
	return n;
}

/* Every refused descriptor leaves slot as it was: its fdinfo line, its mapping. */
static void refusals(unsigned int slot, const struct pt_buf *p, int udmabuf, const char *state)
{
	struct bad b[64];
	char before[128], after[128];
	struct pt_pages pg0 = pt_pages(), pg;
	unsigned int i, n = bad_descs(b, p, udmabuf);
	int ret;

	slot_line(slot, before, sizeof(before));
	for (i = 0; i < n; i++) {
		ret = update(slot, &b[i].d, 1);
		if (ret != b[i].want)
			t_fail("%s slot, %s: %d (%s), want %d (%s)", state, b[i].what, ret,
			       ret < 0 ? strerror(-ret) : "accepted", b[i].want,
			       strerror(-b[i].want));
		slot_line(slot, after, sizeof(after));
		if (strcmp(before, after))
			t_fail("%s slot, %s: refused, but the slot changed from \"%s\" to \"%s\"",
			       state, b[i].what, before, after);
	}
	/* a refused target must not leave its mapping behind */
	pt_wait_pages(pg0.n, "after the refused descriptors");
	pg = pt_pages();
	if (pg.bytes != pg0.bytes)
		t_fail("%s slot: premapped buffers changed from %zu to %zu bytes", state,
		       pg0.bytes, pg.bytes);
	printf("%s slot \"%s\": %u refused descriptors, slot unchanged\n", state, before, n);
}

static void test_refusals(const struct pt_buf *b, int udmabuf)
{
	unsigned char *other = t_malloc(LEN);
	long bios;

	refusals(1, b, udmabuf, "empty");
	pt_expect_premapped(&ring, 1, -ENOENT, "empty slot after the refusals");

	dt_expect(dmabuf_rw_register_uaddr(&ring, 1, other, LEN), 0, "ordinary slot 1");
	refusals(1, b, udmabuf, "ordinary");
	pt_expect_premapped(&ring, 1, 0, "ordinary slot after the refusals");
	bios = pt_bios();
	read_into(1, other, "ordinary slot after the refusals");
	pt_expect_no_bios(bios, "ordinary slot");

	pt_register(&ring, 1, b->p, LEN, fd0);
	refusals(1, b, udmabuf, "premapped");
	pt_expect_premapped(&ring, 1, pt_want, "premapped slot after the refusals");
	bios = pt_bios();
	read_into(1, b->p, "premapped slot after the refusals");
	pt_expect_bios(bios, 1, "premapped slot after the refusals");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 1), 0, "clearing slot 1");
	free(other);
}

/* Size of the premapped dma-buf for [p, p + len): whole pages. */
static size_t pages_of(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	return ((a + len + PT_PAGE - 1) & ~(uintptr_t)(PT_PAGE - 1)) - (a & ~(uintptr_t)(PT_PAGE - 1));
}

static void test_fresh(const struct pt_buf *b, int udmabuf)
{
	char line[128], want[128];
	struct pt_pages pg;
	long bios;

	pt_wait_pages(0, "before the first registration");
	pt_register(&ring, 0, b->p, LEN, fd0);
	slot_line(0, line, sizeof(line));
	snprintf(want, sizeof(want), "0x%llx/%u%s", (unsigned long long)(uintptr_t)b->p, LEN,
		 pt_want ? " premapped" : "");
	if (strcmp(line, want))
		t_fail("fdinfo of the premapped slot: \"%s\", want \"%s\"", line, want);
	pt_wait_pages(pt_want, "one premapped slot");
	pg = pt_pages();
	if (pt_want && pg.bytes != pages_of(b->p, LEN))
		t_fail("the premapped dma-buf has %zu bytes, want %zu (the pages of %u bytes at page offset %u)",
		       pg.bytes, pages_of(b->p, LEN), LEN, LEAD);
	bios = pt_bios();
	read_into(0, b->p, "premapped slot");
	pt_expect_bios(bios, 1, "a read through the premapped slot");

	pt_expect_premapped(&ring, 2, -ENOENT, "an empty slot");
	/* a dma-buf slot is not what the function describes: 0 */
	dt_expect(dmabuf_rw_register_dmabuf(&ring, 2, udmabuf, fd0), 0, "dma-buf in slot 2");
	pt_expect_premapped(&ring, 2, 0, "a dma-buf slot");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 2), 0, "clearing slot 2");
	pt_expect_premapped(&ring, NR_SLOTS, -ENOENT, "the slot after the table");
	pt_expect_premapped(&ring, 1000, -ENOENT, "slot 1000 of a table of 4");
	printf("fresh registration: \"%s\", %d premapped dma-buf(s) of %zu bytes\n", line,
	       pg.n, pg.bytes);
}

static void test_updates(const struct pt_buf *b)
{
	struct io_uring_regbuf_desc d[2];
	unsigned char *other = t_malloc(LEN);
	long bios;
	int dupfd;

	/* premapped -> premapped for the other drive -> ordinary -> empty */
	pt_register(&ring, 0, b->p, LEN, fd0);
	if (fd1 >= 0) {
		pt_register(&ring, 0, other, LEN, fd1);
		pt_wait_pages(pt_want, "slot 0 replaced by another premapped buffer");
	}
	dt_expect(dmabuf_rw_register_uaddr(&ring, 0, other, LEN), 0, "ordinary slot 0");
	pt_expect_premapped(&ring, 0, 0, "premapped slot replaced by an ordinary buffer");
	pt_wait_pages(0, "premapped slot replaced by an ordinary buffer");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	pt_expect_premapped(&ring, 0, -ENOENT, "cleared slot");

	/* a good descriptor, then a refused one: the first is applied */
	d[0] = targeted(b->p, LEN, fd0);
	d[1] = targeted(other, LEN, -1);
	dt_expect(update(0, d, 2), 1, "update of [good, bad target]");
	pt_expect_premapped(&ring, 0, pt_want, "the good descriptor of [good, bad]");
	pt_expect_premapped(&ring, 1, -ENOENT, "the bad descriptor of [good, bad]");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	/* a refused one first: nothing is applied */
	d[0] = targeted(b->p, LEN, -1);
	d[1] = targeted(other, LEN, fd0);
	dt_expect(update(0, d, 2), -EBADF, "update of [bad target, good]");
	pt_expect_premapped(&ring, 0, -ENOENT, "the bad descriptor of [bad, good]");
	pt_expect_premapped(&ring, 1, -ENOENT, "the good descriptor after a bad one");
	pt_wait_pages(0, "after the partial updates");

	/* the same memory in two slots, for two drives: two mappings */
	if (fd1 >= 0) {
		pt_register(&ring, 0, b->p, LEN, fd0);
		pt_register(&ring, 1, b->p, LEN, fd1);
		pt_wait_pages(2 * pt_want, "the same memory premapped for two drives");
		dt_expect(dmabuf_rw_clear_buffer(&ring, 1), 0, "clearing slot 1");
		pt_wait_pages(pt_want, "one of the two cleared");
		dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	}

	/* registered through a dup(): the same file, closing the fd does not matter */
	dupfd = dup(fd0);
	pt_register(&ring, 0, b->p, LEN, dupfd);
	close(dupfd);
	bios = pt_bios();
	read_into(0, b->p, "slot registered through a dup() that is closed now");
	pt_expect_bios(bios, 1, "slot registered through a closed dup()");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	pt_wait_pages(0, "every slot cleared");
	free(other);
	printf("replacing, partial updates, two drives, dup(): ok\n");
}

int main(void)
{
	struct pt_buf b;
	int udmabuf, ret;

	pt_require();
	fd0 = pt_open(0, &lbs);
	if (t_bed_drives() > 1)
		fd1 = pt_open(1, NULL);
	else
		printf("a bed of one drive: two targets not covered\n");
	dt_dev_fill(fd0, 0, 8 * lbs, SEED);
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, NR_SLOTS);
	pt_alloc(&b, LEN, LEAD);
	udmabuf = dmabuf_rw_udmabuf_create(LEN, NULL);
	if (udmabuf < 0)
		t_fail("udmabuf: %s", strerror(-udmabuf));

	test_fresh(&b, udmabuf);
	test_refusals(&b, udmabuf);
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	test_updates(&b);

	io_uring_queue_exit(&ring);
	pt_wait_pages(0, "after the ring's exit");
	pt_free(&b);
	close(udmabuf);
	pt_done();
	return T_EXIT_PASS;
}
