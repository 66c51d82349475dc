// SPDX-License-Identifier: MIT
/*
 * Fuzz IO_REGBUF_F_TARGET: random updates of one to three descriptors
 * (types, flags, user ranges, dmabuf_fd, target_fd from a pool of fds of
 * every kind, reserved words) and random I/O through a premapped slot.
 *
 * Registration: for every descriptor the rules give the set of errnos it
 * may fail with (the flag on another type, unknown flags, reserved words,
 * target_fd without the flag or dmabuf_fd with it: -EINVAL; a bad target
 * fd: -EBADF; a target without dma-buf I/O: -EOPNOTSUPP; the drive without
 * O_DIRECT: -EINVAL; whatever the same user range gives without the flag,
 * asked on a scratch slot first); a descriptor that breaks none must
 * succeed.  The update must apply exactly the descriptors before the first
 * failing one.  Every slot's fdinfo line is then what it must be: the
 * range and " premapped" for a success whose target is an O_DIRECT drive
 * (not in the swiotlb bed), the old line for every slot not applied.
 *
 * I/O: the same memory is premapped in one slot and ordinary in another;
 * random READ_FIXED/WRITE_FIXED (addresses around and across the buffer's
 * ends, lengths, device offsets, both drives) through both must give the
 * same result (but for addresses that are not 4-byte aligned, which only
 * the premapped path refuses with -EINVAL, see fuzz_io()), the data of
 * those that succeed is right, and nothing outside the registered range
 * changes.  3,000 updates and 1,000 I/O pairs (a tenth on a debug kernel,
 * or dmabuf_rw.fuzz_cases=N updates).
 */
#include "premap-test.h"

#include <sys/eventfd.h>

#define NR_SLOTS	6
#define SCRATCH_SLOT	(NR_SLOTS - 1)
#define DEF_CASES	3000
#define DEF_IOS		1000
#define MEM		(256U << 10)
#define SEED		0xf022
#define SEED_CANARY	0xca8

static struct io_uring ring;
static struct pt_buf mem;
static uint64_t state = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

/* A target fd and what registering for it gives: 0, or -errno. */
struct target {
	int fd;
	int err;
	int premapped;		/* an O_DIRECT drive: premapped on success */
	const char *what;
};

static struct target targets[24];
static unsigned int ntargets, nvmes;	/* targets[1 .. nvmes]: the O_DIRECT drives */

static void add(int fd, int err, int premapped, const char *what)
{
	if (fd < 0 && fd != -1 && fd != -2 && fd != (1 << 30))
		t_fail("opening %s: %s", what, strerror(errno));
	targets[ntargets++] = (struct target){ fd, err, premapped, what };
}

static void pool(void)
{
	int pfd[2], closed;

	/* fd 0 is a valid target fd with the flag: make it /dev/null */
	closed = open("/dev/null", O_RDWR);
	if (closed < 0 || dup2(closed, 0) < 0)
		t_fail("/dev/null on fd 0: %s", strerror(errno));
	close(closed);
	add(0, -EOPNOTSUPP, 0, "fd 0 (/dev/null)");
	add(t_open_nvme(0, 0), 0, 1, "drive 0");
	if (t_bed_drives() > 1)
		add(t_open_nvme(1, 0), 0, 1, "drive 1");
	nvmes = ntargets - 1;
	add(open(t_nvme_path(0), O_RDWR), -EINVAL, 0, "drive 0 without O_DIRECT");
	add(ring.ring_fd, -EOPNOTSUPP, 0, "the ring");
	add(dmabuf_rw_udmabuf_create(64 << 10, NULL), -EOPNOTSUPP, 0, "a udmabuf");
	add(memfd_create("fuzz", 0), -EOPNOTSUPP, 0, "a memfd");
	add(open("/tmp/premap-fuzz", O_RDWR | O_CREAT, 0600), -EOPNOTSUPP, 0, "a file");
	add(eventfd(0, 0), -EOPNOTSUPP, 0, "an eventfd");
	if (pipe(pfd))
		t_fail("pipe: %s", strerror(errno));
	add(pfd[0], -EOPNOTSUPP, 0, "a pipe");
	closed = open("/dev/null", O_RDONLY);
	close(closed);
	add(closed, -EBADF, 0, "a closed fd");
	add(-1, -EBADF, 0, "-1");
	add(-2, -EBADF, 0, "-2");
	add(1 << 30, -EBADF, 0, "1 << 30");
}

/* Boundary values. */
static uint64_t edge64(void)
{
	static const uint64_t v[] = {
		0, 1, 511, 512, 4095, 4096, 4097, 1ULL << 20, 1ULL << 30, (1ULL << 30) + 1,
		1ULL << 32, ~0ULL, ~0ULL - 4095, 1ULL << 63,
	};

	return v[rnd() % DT_ARRAY_SIZE(v)];
}

/* The text of slot's fdinfo line. */
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

struct gen {
	struct io_uring_regbuf_desc d;
	const struct target *t;		/* target_fd's entry, or NULL */
	int errs[8], nerrs;		/* may fail with these; none: must succeed */
};

static void may_fail(struct gen *g, int err)
{
	for (int i = 0; i < g->nerrs; i++)
		if (g->errs[i] == err)
			return;
	g->errs[g->nerrs++] = err;
}

/* The user range of d without the flag, on the scratch slot: 0 or -errno. */
static int base_errno(const struct io_uring_regbuf_desc *d)
{
	struct io_uring_regbuf_desc plain = {
		.type = IO_REGBUF_TYPE_UADDR, .uaddr = d->uaddr, .size = d->size,
	};
	int ret = dmabuf_rw_update_buffers(&ring, SCRATCH_SLOT, &plain, NULL, 1);

	if (ret == 1)
		dt_expect(dmabuf_rw_clear_buffer(&ring, SCRATCH_SLOT), 0, "clearing the scratch slot");
	return ret == 1 ? 0 : ret;
}

static void generate(struct gen *g)
{
	struct io_uring_regbuf_desc *d = &g->d;
	int target;

	memset(g, 0, sizeof(*g));
	if (rnd() % 2) {
		/* a valid premapped registration, then maybe one thing wrong with it */
		d->type = IO_REGBUF_TYPE_UADDR;
		d->flags = IO_REGBUF_F_TARGET;
		d->uaddr = pt_addr(&mem, rnd() % 2 ? 0 : rnd() % (MEM / 2));
		d->size = 1 + rnd() % (pt_addr(&mem, MEM) - d->uaddr);
		g->t = &targets[1 + rnd() % nvmes];
		d->target_fd = g->t->fd;
		switch (rnd() % 12) {
		case 0: d->type = rnd() % 2 ? IO_REGBUF_TYPE_EMPTY : IO_REGBUF_TYPE_DMABUF; break;
		case 1: d->flags |= 1U << (1 + rnd() % 31); break;
		case 2: d->flags = 0; break;
		case 3: d->dmabuf_fd = targets[rnd() % ntargets].fd; break;
		case 4: g->t = &targets[rnd() % ntargets]; d->target_fd = g->t->fd; break;
		case 5: d->__resv[rnd() % 6] = edge64() | 1; break;
		case 6: d->uaddr = edge64(); break;
		case 7: d->size = edge64(); break;
		default: break;
		}
		if (d->type == IO_REGBUF_TYPE_EMPTY && rnd() % 2)
			d->uaddr = d->size = 0;
	} else {
		d->type = rnd() % 8 ? rnd() % 3 : (uint32_t)edge64();
		switch (rnd() % 8) {
		case 0: d->flags = 0; break;
		case 1: d->flags = 1U << (rnd() % 32); break;
		case 2: d->flags = IO_REGBUF_F_TARGET | 1U << (1 + rnd() % 31); break;
		default: d->flags = IO_REGBUF_F_TARGET; break;
		}
		if (d->type == IO_REGBUF_TYPE_UADDR || !(rnd() % 8)) {
			d->uaddr = rnd() % 6 ? pt_addr(&mem, rnd() % 4 ? 0 : rnd() % MEM) : edge64();
			d->size = rnd() % 6 ? 1 + rnd() % MEM : edge64();
		}
		if (!(rnd() % 10))
			d->dmabuf_fd = targets[rnd() % ntargets].fd;
		if (rnd() % 6) {
			g->t = &targets[rnd() % ntargets];
			d->target_fd = g->t->fd;
		}
		if (!(rnd() % 12))
			d->__resv[rnd() % 6] = edge64() | 1;
	}
	if (d->target_fd == 0)
		g->t = &targets[0];

	/* the rules */
	target = d->flags & IO_REGBUF_F_TARGET;
	if (d->flags & ~IO_REGBUF_F_TARGET)
		may_fail(g, -EINVAL);
	for (int i = 0; i < 6; i++)
		if (d->__resv[i])
			may_fail(g, -EINVAL);
	if (target && d->type != IO_REGBUF_TYPE_UADDR)
		may_fail(g, -EINVAL);
	if (d->type != IO_REGBUF_TYPE_DMABUF && (d->dmabuf_fd || (d->target_fd && !target)))
		may_fail(g, -EINVAL);
	if (d->type > IO_REGBUF_TYPE_DMABUF)
		may_fail(g, -EINVAL);
	if (d->type == IO_REGBUF_TYPE_EMPTY && (d->uaddr || d->size))
		may_fail(g, -EINVAL);
	if (d->type == IO_REGBUF_TYPE_DMABUF) {
		/* not this test's subject: only with the flag, where it is refused */
		if (!target)
			d->flags |= IO_REGBUF_F_TARGET;
		may_fail(g, -EINVAL);
	}
	if (d->type == IO_REGBUF_TYPE_UADDR) {
		int base = base_errno(d);

		if (base)
			may_fail(g, base);
		if (target && g->t && g->t->err)
			may_fail(g, g->t->err);
	}
}

/* The fdinfo line a slot must show after g succeeded. */
static void want_line(const struct gen *g, char *out, size_t len)
{
	const struct io_uring_regbuf_desc *d = &g->d;
	int premapped = (d->flags & IO_REGBUF_F_TARGET) && g->t && g->t->premapped && pt_want;

	if (d->type == IO_REGBUF_TYPE_EMPTY)
		snprintf(out, len, "<none>");
	else
		snprintf(out, len, "0x%llx/%llu%s", (unsigned long long)d->uaddr,
			 (unsigned long long)d->size, premapped ? " premapped" : "");
}

static int allowed(const struct gen *g, int err)
{
	for (int i = 0; i < g->nerrs; i++)
		if (g->errs[i] == err)
			return 1;
	return 0;
}

static void fuzz_updates(unsigned long cases, unsigned long *applied)
{
	struct io_uring_regbuf_desc descs[3];
	char before[NR_SLOTS][128], after[128], want[128];
	struct gen g[3];

	for (unsigned long c = 0; c < cases; c++) {
		unsigned int nr = 1 + rnd() % 3, off = rnd() % (SCRATCH_SLOT - nr + 1), first, i;
		int ret;

		for (i = 0; i < nr; i++) {
			generate(&g[i]);
			descs[i] = g[i].d;
		}
		for (first = 0; first < nr && !g[first].nerrs; first++)
			;
		for (i = 0; i < SCRATCH_SLOT; i++)
			slot_line(i, before[i], sizeof(before[i]));
		ret = dmabuf_rw_update_buffers(&ring, off, descs, NULL, nr);
		if (ret >= 0 ? ret != (int)first : first != 0 || !allowed(&g[0], ret)) {
			/* the first descriptor the kernel and the rules disagree on */
			int bad = ret >= 0 && ret < (int)first ? ret : ret >= 0 ? (int)first : 0;

			t_fail("case %lu: update of %u at slot %u: %d (%s), want %d; descriptor %d: type %u flags %#x uaddr %#llx size %llu dmabuf_fd %d target_fd %d (%s) resv %s, may fail with %d errno(s)%s%s",
			       c, nr, off, ret, ret < 0 ? strerror(-ret) : "applied", (int)first,
			       bad, g[bad].d.type, g[bad].d.flags,
			       (unsigned long long)g[bad].d.uaddr, (unsigned long long)g[bad].d.size,
			       g[bad].d.dmabuf_fd, g[bad].d.target_fd, g[bad].t ? g[bad].t->what : "-",
			       g[bad].d.__resv[0] | g[bad].d.__resv[1] | g[bad].d.__resv[2] |
			       g[bad].d.__resv[3] | g[bad].d.__resv[4] | g[bad].d.__resv[5] ?
			       "set" : "0", g[bad].nerrs, g[bad].nerrs ? ", first " : "",
			       g[bad].nerrs ? strerror(-g[bad].errs[0]) : "");
		}
		/* every slot: the new line where applied, the old one elsewhere */
		for (i = 0; i < SCRATCH_SLOT; i++) {
			slot_line(i, after, sizeof(after));
			if (ret > 0 && i >= off && i < off + ret)
				want_line(&g[i - off], want, sizeof(want));
			else
				snprintf(want, sizeof(want), "%s", before[i]);
			if (strcmp(after, want))
				t_fail("case %lu: slot %u is \"%s\", want \"%s\"", c, i, after, want);
		}
		*applied += ret > 0 ? ret : 0;
	}
}

/* Random I/O through the premapped slot 0 and the ordinary slot 1 (same memory). */
static void fuzz_io(unsigned long n, unsigned long *succeeded)
{
	const size_t lead = 512 * (1 + rnd() % 7), len = MEM - 2 * PT_PAGE;
	unsigned char *p = mem.base + lead;
	uint64_t dev_size = 4 * DT_MIB;
	int fds[2], nfd = 0;
	unsigned int i;

	for (i = 0; i < ntargets; i++)
		if (targets[i].premapped)
			fds[nfd++] = targets[i].fd;
	/* the pattern covers the longest I/O from the last offset */
	for (i = 0; i < (unsigned int)nfd; i++)
		dt_dev_fill(fds[i], 0, dev_size + (64 << 10), SEED + i);
	t_fill(mem.base, MEM, 1ULL << 42, SEED_CANARY);
	for (unsigned long c = 0; c < n; c++) {
		int k = rnd() % nfd, fd = fds[k], op = rnd() & 1 ? IORING_OP_WRITE_FIXED :
							   IORING_OP_READ_FIXED;
		int64_t off = rnd() % 8 ? (int64_t)(rnd() % (len / 512 + 1)) * 512 - 1024 :
			      (int64_t)(rnd() % (len + 4096)) - 2048;
		unsigned int iolen = rnd() % 8 ? (1 + rnd() % 64) * 512 : rnd() % 40000;
		uint64_t dev_off = rnd() % 8 ? rnd() % (dev_size / 512) * 512 : rnd() % dev_size;
		uint64_t addr = (uintptr_t)p + off;
		int in = off >= 0 && (uint64_t)off + iolen <= len, r[2];

		pt_register(&ring, 0, p, len, fd);
		dt_expect(dmabuf_rw_register_uaddr(&ring, 1, p, len), 0, "the same memory, ordinary");
		for (int s = 0; s < 2; s++) {
			/* a write stores the pattern already there: the drive stays checkable */
			if (op == IORING_OP_WRITE_FIXED && in)
				t_fill(p + off, iolen, dev_off, SEED + k);
			r[s] = pt_io(&ring, op, fd, addr, iolen, dev_off, s, !s);
			if (op == IORING_OP_READ_FIXED && r[s] > 0 &&
			    t_verify(p + off, r[s], dev_off, SEED + k, "fuzzed read"))
				t_fail("I/O %lu: read through slot %d: wrong data", c, s);
		}
		/*
		 * Linux 7.3's asynchronous direct I/O from an ordinary registered
		 * buffer skips the device's DMA alignment check (4 bytes for NVMe)
		 * and hands the driver an unaligned address; the premapped path
		 * enforces it, as for any other direct I/O: -EINVAL there (not
		 * in the swiotlb bed, where the slot is an ordinary buffer).
		 */
		if (pt_want && r[1] > 0 && (addr & 3) ? r[0] != -EINVAL : r[0] != r[1])
			t_fail("I/O %lu: %s of %u bytes at buffer %+lld, device %llu, drive %d: premapped %d (%s), ordinary %d (%s)",
			       c, op == IORING_OP_READ_FIXED ? "READ_FIXED" : "WRITE_FIXED", iolen,
			       (long long)off, (unsigned long long)dev_off, k, r[0],
			       r[0] < 0 ? strerror(-r[0]) : "bytes", r[1],
			       r[1] < 0 ? strerror(-r[1]) : "bytes");
		if (r[0] > 0 && !in)
			t_fail("I/O %lu: %d bytes moved from outside the registered range (%+lld, %u)",
			       c, r[0], (long long)off, iolen);
		*succeeded += r[0] > 0;
		if (t_verify(mem.base, lead, 1ULL << 42, SEED_CANARY, "bytes before the buffer") ||
		    t_verify(p + len, mem.base + MEM - p - len, (1ULL << 42) + lead + len,
			     SEED_CANARY, "bytes after the buffer"))
			t_fail("I/O %lu: unregistered memory changed", c);
	}
	for (i = 0; i < (unsigned int)nfd; i++)
		if (dt_dev_verify(fds[i], 0, dev_size + (64 << 10), SEED + i,
				  "the drive after the fuzzed I/O"))
			t_fail("the fuzzed I/O wrote where it should not");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	dt_expect(dmabuf_rw_clear_buffer(&ring, 1), 0, "clearing slot 1");
}

int main(void)
{
	const char *arg = t_cmdline("dmabuf_rw.fuzz_cases");
	unsigned long cases, ios = t_scale(DEF_IOS), applied = 0, succeeded = 0;
	int ret;

	pt_require();
	cases = arg ? strtoul(arg, NULL, 0) : t_scale(DEF_CASES);
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, NR_SLOTS);
	pt_alloc(&mem, MEM, 0);
	pool();

	fuzz_updates(cases, &applied);
	printf("%lu updates: %lu descriptors applied, every slot as the rules say\n", cases,
	       applied);
	for (unsigned int s = 0; s < NR_SLOTS; s++)
		dmabuf_rw_clear_buffer(&ring, s);
	fuzz_io(ios, &succeeded);
	printf("%lu I/O pairs: premapped and ordinary alike, %lu moved data\n", ios, succeeded);
	if (!applied || !succeeded)
		t_fail("the fuzzer never got through: nothing was exercised");

	io_uring_queue_exit(&ring);
	pt_wait_pages(0, "after the ring's exit");
	pt_free(&mem);
	pt_done();
	return T_EXIT_PASS;
}
