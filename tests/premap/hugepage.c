// SPDX-License-Identifier: MIT
/*
 * Premapped buffers on huge pages.  io_uring registers memory on huge
 * pages as one bio_vec per folio, so the long-lived mapping is built from
 * entries of 2 MiB, one of which may start or end inside its folio.
 *
 * The memory is a 2 MiB-aligned transparent huge page region
 * (MADV_HUGEPAGE, or THP mode "always" without madvise(); checked in
 * /proc/self/smaps) or, where the kernel has
 * hugetlbfs instead, MAP_HUGETLB.  Registered from the start of a huge page
 * and from 512 bytes into one to the middle of the next, it must be
 * premapped with a dma-buf of the 4 KiB pages it covers; reads and writes
 * of one block to all of it, at the start, across the 2 MiB boundary and at
 * the end, on both drives, are verified byte for byte and must use the
 * mapping.  A guest kernel with neither kind of huge page skips the test.
 */
#include "premap-test.h"

#define HPAGE		(2U << 20)
#define SPAN		(3 * HPAGE)
#define SEED		0x4a9e
#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"
#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"

static struct io_uring ring;
static unsigned int lbs;

/* AnonHugePages of the mapping that holds p, in kB. */
static long anon_huge_kb(const void *p)
{
	char line[256];
	int in = 0;
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		t_fail("/proc/self/smaps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static int write_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(val, f);
	return fclose(f) ? -errno : 0;
}

/* 2 MiB-aligned memory on huge pages; *kind says which. */
static unsigned char *huge_alloc(const char **kind)
{
	unsigned char *raw, *p;
	char mode[128] = "";
	FILE *f;

	f = fopen(THP_ENABLED, "r");
	if (f) {
		if (!fgets(mode, sizeof(mode), f))
			mode[0] = 0;
		fclose(f);
		if (strstr(mode, "[never]") && write_file(THP_ENABLED, "madvise"))
			t_fail("THP is off and %s cannot be set to madvise", THP_ENABLED);
		raw = mmap(NULL, SPAN + HPAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (raw == MAP_FAILED)
			t_fail("mmap: %s", strerror(errno));
		p = (unsigned char *)(((uintptr_t)raw + HPAGE - 1) & ~(uintptr_t)(HPAGE - 1));
		/*
		 * A kernel without madvise() (the bed's: tinyconfig leaves out
		 * ADVISE_SYSCALLS) gets huge pages for this aligned memory on
		 * first touch in THP mode "always", its default.
		 */
		if (madvise(p, SPAN, MADV_HUGEPAGE) &&
		    (errno != ENOSYS || (strstr(mode, "[always]") == NULL &&
					 write_file(THP_ENABLED, "always"))))
			t_fail("madvise(MADV_HUGEPAGE): %s (THP: %s)", strerror(errno), mode);
		memset(p, 0, SPAN);
		if (anon_huge_kb(p) < (long)(SPAN >> 10))
			t_fail("MADV_HUGEPAGE on %u MiB of fresh memory gave %ld kB of huge pages (THP: %s)",
			       SPAN >> 20, anon_huge_kb(p), mode);
		*kind = "transparent huge pages";
		return p;
	}
	if (!access(NR_HUGEPAGES, W_OK)) {
		if (write_file(NR_HUGEPAGES, "8"))
			t_fail("reserving huge pages: %s", strerror(errno));
		p = mmap(NULL, SPAN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED)
			t_fail("mmap(MAP_HUGETLB) of %u MiB: %s", SPAN >> 20, strerror(errno));
		memset(p, 0, SPAN);
		*kind = "hugetlb pages";
		return p;
	}
	t_skip("the guest kernel has no huge pages (neither CONFIG_TRANSPARENT_HUGEPAGE nor CONFIG_HUGETLBFS)");
}

static void rw_check(int fd, int n, unsigned char *p, size_t off, unsigned int len,
		     uint64_t dev_off, uint32_t seed)
{
	char what[128];

	snprintf(what, sizeof(what), "drive %d: %u bytes at buffer +%zu, device %llu", n, len,
		 off, (unsigned long long)dev_off);
	t_fill(p + off, len, dev_off, seed);
	dt_expect_len(pt_io(&ring, IORING_OP_WRITE_FIXED, fd, (uintptr_t)(p + off), len, dev_off,
			    0, 1), len, "%s: WRITE_FIXED", what);
	if (dt_dev_verify(fd, dev_off, len, seed, what))
		t_fail("%s: wrong data on the drive", what);
	memset(p + off, 0xa5, len);
	dt_expect_len(pt_io(&ring, IORING_OP_READ_FIXED, fd, (uintptr_t)(p + off), len, dev_off,
			    0, 1), len, "%s: READ_FIXED", what);
	if (t_verify(p + off, len, dev_off, seed, what))
		t_fail("%s: wrong data in the buffer", what);
}

static void test_range(unsigned char *p, size_t start, size_t len, uint32_t *seed)
{
	size_t cross = HPAGE - start;	/* buffer offset of the 2 MiB boundary */
	size_t want = ((start + len + PT_PAGE - 1) & ~(size_t)(PT_PAGE - 1)) -
		      (start & ~(size_t)(PT_PAGE - 1));
	struct pt_pages pg;

	for (int n = 0; n < 2 && n < t_bed_drives(); n++) {
		int fd = pt_open(n, &lbs);

		pt_register(&ring, 0, p + start, len, fd);
		pt_wait_pages(pt_want, "a premapped buffer on huge pages");
		pg = pt_pages();
		if (pt_want && pg.bytes != want)
			t_fail("the premapped dma-buf of %zu bytes at huge page offset %zu has %zu bytes, want %zu",
			       len, start, pg.bytes, want);
		rw_check(fd, n, p + start, 0, lbs, 0, (*seed)++);
		rw_check(fd, n, p + start, cross - lbs, 2 * lbs, lbs, (*seed)++);
		rw_check(fd, n, p + start, cross - 64 * lbs, DT_MIB, 2 * DT_MIB, (*seed)++);
		rw_check(fd, n, p + start, lbs, len - 2 * lbs, 4 * DT_MIB, (*seed)++);
		rw_check(fd, n, p + start, len - 8 * lbs, 8 * lbs, 9 * DT_MIB, (*seed)++);
		dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
		close(fd);
	}
	printf("%zu bytes from huge page offset %zu: verified on %d drive(s)\n", len, start,
	       t_bed_drives() > 1 ? 2 : 1);
}

int main(void)
{
	const char *kind;
	uint32_t seed = SEED;
	unsigned char *p;
	int ret;

	pt_require();
	p = huge_alloc(&kind);
	printf("memory on %s\n", kind);
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 1);
	test_range(p, 0, 2 * HPAGE, &seed);
	test_range(p, 512, 2 * HPAGE + HPAGE / 2, &seed);
	io_uring_queue_exit(&ring);
	pt_done();
	return T_EXIT_PASS;
}
