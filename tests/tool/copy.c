// SPDX-License-Identifier: MIT
/*
 * dmabuf-io copy moves data through a dma-buf and verifies it: between the
 * two bed drives (drive 1 splits every I/O: small MDTS), within one drive
 * with an odd last chunk, with a dma-heap buffer, from a file to a drive
 * and from a drive to a new file.  Each copy must exit 0, say which path
 * each side took, and the destination is then checked here, independently,
 * against the pattern written to the source.  The files are on tmpfs (/tmp),
 * which takes no dma-buf I/O: copy must say so (a note naming tmpfs) and
 * move them through the CPU; files on ext4 and xfs: tool/files.
 */
#include <fcntl.h>

#include "tool-test.h"

#define MIB	(1U << 20)
#define SEED	77

static void fill_dev(int fd, uint64_t off, size_t len, uint64_t pos)
{
	char *buf = t_malloc(len);

	t_fill(buf, len, pos, SEED);
	if (pwrite(fd, buf, len, off) != (ssize_t)len)
		t_fail("pwrite %zu bytes at %llu: %s", len, (unsigned long long)off, strerror(errno));
	free(buf);
}

/* The len bytes at off of fd must be the pattern of source position pos. */
static void check(int fd, uint64_t off, size_t len, uint64_t pos, const char *what)
{
	char *buf = t_malloc(len);
	ssize_t r = pread(fd, buf, len, off);

	if (r != (ssize_t)len)
		t_fail("%s: pread %zu bytes at %llu: %zd", what, len, (unsigned long long)off, r);
	if (t_verify(buf, len, pos, SEED, what))
		t_fail("%s: the copy is wrong", what);
	free(buf);
}

static void copy_ok(struct tt_run *r, const char *src_path, const char *dst_path)
{
	if (r->status)
		tt_fail(r, "copy failed");
	if (!strstr(r->out, "verified:"))
		tt_fail(r, "no \"verified:\" line");
	if (!strncmp(src_path, "/dev/", 5) && !strstr(r->out, "READ_FIXED into the dma-buf"))
		tt_fail(r, "the device source did not use READ_FIXED into the dma-buf");
	if (!strncmp(dst_path, "/dev/", 5) && !strstr(r->out, "WRITE_FIXED from the dma-buf"))
		tt_fail(r, "the device destination did not use WRITE_FIXED from the dma-buf");
	if ((strncmp(src_path, "/dev/", 5) || strncmp(dst_path, "/dev/", 5)) &&
	    (!strstr(r->out, "through host memory and the dma-buf's mmap: it cannot take "
			     "dma-buf I/O: it is on tmpfs") ||
	     !strstr(r->err, "note: /tmp/tool-copy-")))
		tt_fail(r, "the tmpfs file side's CPU path and its reason are not reported");
	printf("%s\n", r->cmd);
}

int main(void)
{
	const char *d0 = strdup(t_need_nvme(0));
	const char *d1 = strdup(t_need_nvme(1));
	const char *fsrc = "/tmp/tool-copy-src", *fdst = "/tmp/tool-copy-dst";
	struct tt_run r;
	int fd0, fd1, f;

	fd0 = t_open_nvme(0, 0);
	fd1 = t_open_nvme(1, 0);
	tt_tool();

	/* drive 0 [0, 8M) -> drive 1 @ 4M, 1 MiB chunks split by MDTS */
	fill_dev(fd0, 0, 8 * MIB, 0);
	tt_run(&r, "copy", "-s", "8m", "-o", "4m", d0, d1, NULL);
	copy_ok(&r, d0, d1);
	tt_free(&r);
	check(fd1, 4 * MIB, 8 * MIB, 0, "drive 0 -> drive 1 @ 4M");

	/* same drive, 3M + 512 bytes in 64k chunks, QD 3: an odd last chunk */
	tt_run(&r, "copy", "--size", "3146240", "--src-offset", "512",
	       "--dst-offset", "16m", "--bs", "64k", "--qd", "3", d0, d0, NULL);
	copy_ok(&r, d0, d0);
	tt_free(&r);
	check(fd0, 16 * MIB, 3 * MIB + 512, 512, "drive 0 @ 512 -> drive 0 @ 16M");

	/* a dma-heap buffer */
	if (access("/dev/dma_heap/system", F_OK))
		t_missing("/dev/dma_heap/system (CONFIG_DMABUF_HEAPS_SYSTEM)");
	tt_run(&r, "copy", "-d", "heap", "-s", "2m", "-o", "24m", d0, d1, NULL);
	copy_ok(&r, d0, d1);
	tt_free(&r);
	check(fd1, 24 * MIB, 2 * MIB, 0, "drive 0 -> drive 1 @ 24M, dma-heap");

	/* a file -> drive 1 @ 32M (the file side bounces) */
	f = open(fsrc, O_CREAT | O_TRUNC | O_RDWR, 0644);
	if (f < 0)
		t_fail("%s: %s", fsrc, strerror(errno));
	{
		char *buf = t_malloc(MIB + 4096);

		t_fill(buf, MIB + 4096, 1000 * 512, SEED);
		if (pwrite(f, buf, MIB + 4096, 0) != MIB + 4096)
			t_fail("writing %s", fsrc);
		free(buf);
	}
	close(f);
	tt_run(&r, "copy", "-o", "32m", fsrc, d1, NULL);
	copy_ok(&r, fsrc, d1);
	tt_free(&r);
	check(fd1, 32 * MIB, MIB + 4096, 1000 * 512, "file -> drive 1 @ 32M");

	/* drive 0 [1000 blocks, + 2M) -> a new file */
	unlink(fdst);
	tt_run(&r, "copy", "-i", "512000", "-s", "2m", d0, fdst, NULL);
	copy_ok(&r, d0, fdst);
	tt_free(&r);
	f = open(fdst, O_RDONLY);
	if (f < 0)
		t_fail("%s was not created: %s", fdst, strerror(errno));
	check(f, 0, 2 * MIB, 512000, "drive 0 -> new file");
	close(f);

	unlink(fsrc);
	unlink(fdst);
	close(fd0);
	close(fd1);
	return T_EXIT_PASS;
}
