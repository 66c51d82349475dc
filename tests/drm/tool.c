// SPDX-License-Identifier: MIT
/*
 * dmabuf-io with real exporters' dma-bufs: copy between the bed drives
 * through a vgem buffer (-d drm:CARD), through one passed in as an
 * inherited descriptor (-d fd:N, as a GPU program would hand it over), and without
 * a CPU mapping (--no-cpu-map: verified through the drives, as for VRAM);
 * each destination checked here against the pattern written to the
 * source.  bench -w write from a vgem buffer and from a udmabuf writes the
 * tool's pattern, not zeroes; writing to a drive another opener holds with
 * O_EXCL is refused unless --force.
 */
#include <fcntl.h>

#include "drm-test.h"
#include "../tool/tool-test.h"

#define MIB	(1U << 20)
#define SEED	0x64726d74

static void fill_dev(int fd, uint64_t off, size_t len)
{
	char *buf = t_malloc(len);

	t_fill(buf, len, 0, SEED);
	if (pwrite(fd, buf, len, off) != (ssize_t)len)
		t_fail("pwrite %zu bytes at %llu: %s", len, (unsigned long long)off, strerror(errno));
	free(buf);
}

static void check(int fd, uint64_t off, size_t len, const char *what)
{
	char *buf = t_malloc(len);

	if (pread(fd, buf, len, off) != (ssize_t)len)
		t_fail("%s: pread at %llu: %s", what, (unsigned long long)off, strerror(errno));
	if (t_verify(buf, len, 0, SEED, what))
		t_fail("%s: the copy is wrong", what);
	free(buf);
}

/* Zero a range, run a copy into it, check it. */
static void copy(int dst, const char *what, const char *want, const char *const *args)
{
	const char *argv[TT_MAX_ARGS + 1] = { "copy" };
	struct tt_run r;
	int n = 1;

	char *zero = t_malloc(4 * MIB);

	if (pwrite(dst, zero, 4 * MIB, 8 * MIB) != 4 * MIB)
		t_fail("clearing the destination: %s", strerror(errno));
	free(zero);
	while (*args && n < TT_MAX_ARGS)
		argv[n++] = *args++;
	argv[n] = NULL;
	tt_runv(&r, argv);
	if (r.status || !strstr(r.out, want))
		tt_fail(&r, "want a verified copy saying \"%s\"", want);
	check(dst, 8 * MIB, 4 * MIB, what);
	printf("%s: ok\n", r.cmd);
	tt_free(&r);
}

/* bench -w write of 256 KiB at 32 MiB: the drive then holds 0xa5 bytes. */
static void bench_pattern(int fd, const char *dev, const char *spec)
{
	unsigned char *buf = t_malloc(256 << 10);
	struct tt_run r;
	size_t i;

	if (pwrite(fd, buf, 256 << 10, 32 * MIB) != 256 << 10)
		t_fail("clearing: %s", strerror(errno));
	tt_run(&r, "bench", "-m", "dmabuf", "-d", spec, "-w", "write", "-p", "seq", "-b", "64k",
	       "-q", "4", "-n", "4", "-o", "32m", "-s", "256k", "--no-progress", dev, NULL);
	if (r.status)
		tt_fail(&r, "bench failed");
	if (pread(fd, buf, 256 << 10, 32 * MIB) != 256 << 10)
		t_fail("pread: %s", strerror(errno));
	for (i = 0; i < 256 << 10; i++)
		if (buf[i] != 0xa5)
			tt_fail(&r, "byte %zu written by bench is 0x%02x, want the pattern 0xa5",
				i, buf[i]);
	printf("%s: wrote the pattern\n", r.cmd);
	tt_free(&r);
	free(buf);
}

int main(void)
{
	const char *card = td_vgem_card(), *d0 = t_need_nvme(0), *d1;
	char drm[80], spec[32], *dev0 = strdup(d0);
	int fd0, fd1, dmabuf, passed, excl;
	struct tt_run r;

	t_require_dmabuf_io();
	d1 = strdup(t_need_nvme(1));
	fd0 = t_open_nvme(0, 0);
	fd1 = t_open_nvme(1, 0);
	snprintf(drm, sizeof(drm), "drm:%s", card);
	fill_dev(fd0, 0, 4 * MIB);

	copy(fd1, "drm: copy", "the dma-buf held the source data",
	     (const char *[]){ "-d", drm, "-s", "4m", "-o", "8m", dev0, d1, NULL });
	copy(fd1, "drm: copy without a CPU mapping", "read back through the drives",
	     (const char *[]){ "-d", drm, "--no-cpu-map", "-s", "4m", "-o", "8m", dev0, d1, NULL });

	/* a dma-buf passed in as an inherited descriptor: 4 chunks of 512 KiB */
	dmabuf = dmabuf_rw_drm_alloc(card, 2 * MIB);
	passed = dmabuf < 0 ? -1 : fcntl(dmabuf, F_DUPFD, 20);	/* no close-on-exec */
	if (passed < 0)
		t_fail("a vgem dma-buf to pass: %s", strerror(dmabuf < 0 ? -dmabuf : errno));
	snprintf(spec, sizeof(spec), "fd:%d", passed);
	copy(fd1, "fd: copy", "the dma-buf held the source data",
	     (const char *[]){ "-d", spec, "-b", "512k", "-q", "4", "-s", "4m", "-o", "8m",
			       dev0, d1, NULL });
	tt_run(&r, "copy", "-d", spec, "-b", "1m", "-q", "4", "-s", "4m", "-o", "8m", dev0, d1,
	       NULL);
	if (r.status != 1 || !strstr(r.err, "is too small"))
		tt_fail(&r, "want a 2 MiB dma-buf refused for 4 x 1 MiB");
	tt_free(&r);
	close(passed);
	tt_run(&r, "copy", "-d", spec, "-s", "1m", dev0, d1, NULL);
	if (r.status != 1 || !strstr(r.err, "is not open"))
		tt_fail(&r, "want a closed descriptor refused");
	tt_free(&r);
	tt_run(&r, "copy", "-d", "fd:0", "-s", "1m", dev0, d1, NULL);
	if (r.status != 1 || !strstr(r.err, "is not a dma-buf"))
		tt_fail(&r, "want a descriptor that is not a dma-buf refused");
	tt_free(&r);

	bench_pattern(fd1, d1, drm);
	bench_pattern(fd1, d1, "udmabuf");

	/* another opener holds drive 1 exclusively: writing needs --force */
	excl = open(d1, O_RDONLY | O_EXCL);
	if (excl < 0)
		t_fail("open %s O_EXCL: %s", d1, strerror(errno));
	tt_run(&r, "bench", "-m", "dmabuf", "-d", drm, "-w", "write", "-n", "8", d1, NULL);
	if (r.status != 1 || !strstr(r.err, "is in use") || !strstr(r.err, "--force"))
		tt_fail(&r, "want writing to a drive held with O_EXCL refused");
	tt_free(&r);
	tt_run(&r, "bench", "-m", "dmabuf", "-d", drm, "-w", "read", "-n", "8", d1, NULL);
	if (r.status)
		tt_fail(&r, "reading a drive in use is harmless: want it allowed");
	tt_free(&r);
	tt_run(&r, "bench", "-m", "dmabuf", "-d", drm, "-w", "write", "-n", "8", "--force", d1,
	       NULL);
	if (r.status)
		tt_fail(&r, "want --force to write anyway");
	tt_free(&r);
	close(excl);
	return T_EXIT_PASS;
}
