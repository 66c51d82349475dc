// SPDX-License-Identifier: MIT
/*
 * dmabuf-io bench --scatter: host memory in which no page is followed by
 * its physical successor, so that every page is a DMA segment of its own.
 *
 * Why: a plain or fixed I/O costs the kernel work per physical segment
 * (bio vectors, scatterlist entries, IOMMU mappings), and the segments of
 * a buffer depend on the order in which the page allocator happened to
 * hand out its pages.  On a freshly booted system consecutive faults often
 * get consecutive pages; once memory has been freed and reallocated they
 * rarely do.  Measured under QEMU -icount, a 1 MiB fixed read under a
 * strict IOMMU took 2.9 ms of guest time into a buffer of 2041 segments
 * (of 2048 pages) and 2.1 ms into one of 1212: the run-to-run spread of
 * make bench-cpu was the allocator's, not the kernel's.  Scattered, every
 * run pays for every page, as on a long-running system.
 *
 * How: fault in a pool of more pages than needed, read their frame
 * numbers from /proc/self/pagemap (which shows them to CAP_SYS_ADMIN
 * only), and move them one by one with mremap() into the buffer, skipping
 * any page that would follow its physical predecessor; mremap keeps the
 * page itself.  The result is read back and checked.
 *
 * The same for --dmabuf udmabuf (dio_scatter_udmabuf()): without an IOMMU
 * the kernel maps a udmabuf as one DMA range per physically contiguous
 * run of its memfd's pages, and a 1 MiB dma-buf read costs work per range
 * it spans (seq1m dmabuf spread 4-7% in make bench-cpu without an IOMMU
 * and in passthrough).  Shared memory pages cannot be moved, so the memfd
 * is filled, and every page that follows its physical predecessor is
 * punched out and faulted in again, until none does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/udmabuf.h>

#include "dmabuf-io.h"

#define PM_PFN_MASK	((1ULL << 55) - 1)
#define PM_PRESENT	(1ULL << 63)

/* The frame numbers of n pages at addr; -1 after printing why not. */
static int dio_pfns(const void *addr, size_t n, size_t page, uint64_t *pfn)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	size_t done = 0, len = n * sizeof(*pfn), i;
	ssize_t r;

	if (fd < 0) {
		dio_err("--scatter: /proc/self/pagemap: %s", strerror(errno));
		return -1;
	}
	while (done < len) {
		r = pread(fd, (char *)pfn + done, len - done,
			  (uintptr_t)addr / page * sizeof(*pfn) + done);
		if (r <= 0) {
			dio_err("--scatter: reading /proc/self/pagemap: %s",
				r ? strerror(errno) : "short read");
			close(fd);
			return -1;
		}
		done += r;
	}
	close(fd);
	for (i = 0; i < n; i++) {
		if (!(pfn[i] & PM_PRESENT) || !(pfn[i] & PM_PFN_MASK)) {
			dio_err("--scatter: /proc/self/pagemap shows no page frame numbers "
				"(only to CAP_SYS_ADMIN): run as root, or without --scatter");
			return -1;
		}
		pfn[i] &= PM_PFN_MASK;
	}
	return 0;
}

size_t dio_phys_segments(const void *addr, size_t len)
{
	size_t page = sysconf(_SC_PAGESIZE), n = (len + page - 1) / page, i, runs = 0;
	uint64_t *pfn = malloc(n * sizeof(*pfn));

	if (!pfn || dio_pfns(addr, n, page, pfn)) {
		free(pfn);
		return 0;
	}
	for (i = 0; i < n; i++)
		runs += !i || pfn[i] != pfn[i - 1] + 1;
	free(pfn);
	return runs;
}

void *dio_scatter_alloc(size_t len, int fill)
{
	size_t page = sysconf(_SC_PAGESIZE), n = (len + page - 1) / page;
	/* candidates enough to skip every page that would follow its neighbour */
	size_t total = n + n / 4 + 16, i, j, cursor = 0;
	uint64_t *pfn = malloc(total * sizeof(*pfn)), prev = 0;
	unsigned char *pool, *buf = MAP_FAILED, *used = calloc(total, 1);

	pool = mmap(NULL, total * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!pfn || !used || pool == MAP_FAILED) {
		dio_err("--scatter: cannot allocate %zu bytes of host memory", total * page);
		goto fail;
	}
	memset(pool, fill, total * page);	/* the pages exist from here on */
	if (dio_pfns(pool, total, page, pfn))
		goto fail;
	/* an address range for the buffer, filled page by page */
	buf = mmap(NULL, n * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (buf == MAP_FAILED) {
		dio_err("--scatter: mmap: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < n; i++) {
		for (j = cursor; j < total && (used[j] || (i && pfn[j] == prev + 1)); j++)
			;
		if (j == total) {
			dio_err("--scatter: no page left that does not follow its physical "
				"neighbour (%zu of %zu placed)", i, n);
			goto fail;
		}
		if (mremap(pool + j * page, page, page, MREMAP_MAYMOVE | MREMAP_FIXED,
			   buf + i * page) == MAP_FAILED) {
			dio_err("--scatter: mremap: %s", strerror(errno));
			goto fail;
		}
		used[j] = 1;
		prev = pfn[j];
		while (cursor < total && used[cursor])
			cursor++;
	}
	munmap(pool, total * page);	/* the pages not taken */
	pool = MAP_FAILED;
	if (dio_phys_segments(buf, n * page) != n) {
		dio_err("--scatter: the buffer's pages are not scattered after all");
		goto fail;
	}
	free(pfn);
	free(used);
	return buf;
fail:
	if (pool != MAP_FAILED)
		munmap(pool, total * page);
	if (buf != MAP_FAILED)
		munmap(buf, n * page);
	free(pfn);
	free(used);
	return NULL;
}

void dio_scatter_free(void *buf, size_t len)
{
	size_t page = sysconf(_SC_PAGESIZE);

	if (buf)
		munmap(buf, (len + page - 1) / page * page);
}

/*
 * Pages just freed are the next ones the allocator hands out: n pages of
 * scratch memory take them, so that the holes get others.  The scratch
 * memory goes once the holes are filled; NULL if none could be had.
 */
static void *dio_absorb(size_t n, size_t page)
{
	void *p = mmap(NULL, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, n * page);
	return p;
}

int dio_scatter_udmabuf(struct dio_dmabuf *b, size_t len)
{
	size_t page = sysconf(_SC_PAGESIZE), n = (len + page - 1) / page, i, k;
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC };
	uint64_t *pfn = malloc(n * sizeof(*pfn));
	unsigned char *map = MAP_FAILED;
	int mfd = -1, dev = -1, round, ret = -1;
	void *scratch;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->size = n * page;
	mfd = memfd_create("dmabuf-io-scatter", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (!pfn || mfd < 0 || ftruncate(mfd, b->size)) {
		dio_err("--scatter: a %zu-byte memfd: %s", b->size, strerror(errno));
		goto out;
	}
	map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (map == MAP_FAILED) {
		dio_err("--scatter: mmap of the memfd: %s", strerror(errno));
		goto out;
	}
	memset(map, 0, b->size);		/* the pages exist from here on */
	for (round = 0;; round++) {
		if (dio_pfns(map, n, page, pfn))
			goto out;
		for (i = 1, k = 0; i < n; i++) {
			if (pfn[i] != pfn[i - 1] + 1)
				continue;
			if (fallocate(mfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, i * page, page)) {
				dio_err("--scatter: punching the memfd: %s", strerror(errno));
				goto out;
			}
			pfn[i] = 0;	/* the next page is not its successor now */
			k++;
		}
		if (!k)
			break;
		if (round == 16) {
			dio_err("--scatter: %zu of the udmabuf's %zu pages still follow their "
				"physical neighbour after %d rounds", k, n, round);
			goto out;
		}
		scratch = dio_absorb(k, page);
		for (i = 0; i < n; i++)		/* the holes again */
			if (!pfn[i])
				map[i * page] = 0;
		if (scratch)
			munmap(scratch, k * page);
	}
	/* udmabuf refuses memfds that could shrink under it */
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		dio_err("--scatter: sealing the memfd: %s", strerror(errno));
		goto out;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	create.memfd = mfd;
	create.size = b->size;
	if (dev < 0 || (b->fd = ioctl(dev, UDMABUF_CREATE, &create)) < 0) {
		dio_err("--scatter: creating a %zu-byte udmabuf: %s", b->size, strerror(errno));
		b->fd = -1;
		goto out;
	}
	/*
	 * Pinning the memfd's pages for the udmabuf may have moved them (out
	 * of movable memory); the memfd's mapping shows those it pinned.
	 * (The udmabuf's own mapping shows no frame numbers.)
	 */
	k = dio_phys_segments(map, b->size);
	if (k != n) {
		dio_err("--scatter: the udmabuf's pages are not scattered after all (%zu "
			"contiguous runs of %zu pages)", k, n);
		goto out;
	}
	snprintf(b->desc, sizeof(b->desc), "udmabuf, scattered");
	ret = 0;
out:
	if (ret && b->fd >= 0) {
		close(b->fd);
		b->fd = -1;
	}
	if (map != MAP_FAILED)
		munmap(map, b->size);
	if (mfd >= 0)
		close(mfd);
	if (dev >= 0)
		close(dev);
	free(pfn);
	return ret;
}
