// SPDX-License-Identifier: MIT
/*
 * Premapped host memory (IO_REGBUF_F_TARGET) in dmabuf-io and fio's dmabuf
 * engine.  dmabuf-io probe says the kernel has it; bench -m premapped runs,
 * reports the mapping it got (the bed's drives keep one in every IOMMU
 * mode, so "premapped": true, CSV "yes", "buffers: premapped" in the text,
 * no warning) and writes its pattern to the drive (checked here with plain
 * reads); other modes report null / "-"; a file on tmpfs is refused,
 * saying that only ext4 and xfs take it (tool/files: files there).  The
 * engine's premapped option writes and verifies random-sized blocks on
 * drive 1 (small MDTS: large blocks split), one job and two, logs that the
 * buffers are premapped, and refuses to be combined with a dma-buf option.
 * Needs the image with fio and the engine, as tool/fio-engine does.
 */
#define _GNU_SOURCE
#include <fcntl.h>

#include "tool-test.h"

#define FIO	"/usr/bin/fio"
#define ENGINE	"/usr/lib/fio/dmabuf-engine.so"

/* The last CSV field of the line at s (no quoted commas there). */
static const char *last_field(const char *s, char *buf, size_t len)
{
	size_t n = strcspn(s, "\n");
	const char *c = memrchr(s, ',', n);

	c = c ? c + 1 : s;
	snprintf(buf, len, "%.*s", (int)(s + n - c), c);
	return buf;
}

static void tool_bench(const char *d0, const char *d1)
{
	unsigned char *chunk = t_malloc(64 << 10);
	const char *file = "/tmp/tool-premapped.img";
	char head[64], row[64];
	struct tt_run r;
	const char *nl;
	unsigned int i, j;
	int fd;

	tt_run(&r, "probe", NULL);
	if (r.status || !strstr(r.out, "premapped registered buffers (IO_REGBUF_F_TARGET): supported"))
		tt_fail(&r, "probe: want premapped registered buffers supported");
	tt_free(&r);

	tt_run(&r, "bench", "-m", "premapped", "-q", "8", "-n", "2000", "--json", d0, NULL);
	if (r.status || !strstr(r.out, "\"mode\": \"premapped\"") ||
	    !strstr(r.out, "\"premapped\": true"))
		tt_fail(&r, "want a premapped run that kept the mapping");
	if (strstr(r.err, "warning"))
		tt_fail(&r, "a warning on a run that kept the mapping");
	if (tt_json_get(&r, "ios") != 2000 || tt_json_get(&r, "cpu_us_per_io") <= 0)
		tt_fail(&r, "want 2000 I/Os and their CPU time");
	printf("premapped 4k random read QD8: %.1f KIOPS, CPU %.1f us/IO\n",
	       tt_json_get(&r, "iops") / 1e3, tt_json_get(&r, "cpu_us_per_io"));
	tt_free(&r);

	/* the mode is an ordinary fixed buffer elsewhere: null there */
	tt_run(&r, "bench", "-m", "fixed", "-n", "100", "--json", d0, NULL);
	if (r.status || !strstr(r.out, "\"premapped\": null"))
		tt_fail(&r, "want \"premapped\": null for -m fixed");
	tt_free(&r);

	/* drive 1 zeroed, then written by two premapped jobs: their pattern lands */
	fd = t_open_nvme(1, 0);
	for (i = 0; i < 64; i++)
		if (pwrite(fd, chunk, 64 << 10, (uint64_t)i << 16) != 64 << 10)
			t_fail("zeroing drive 1: %s", strerror(errno));
	tt_run(&r, "bench", "-m", "premapped", "-w", "write", "-p", "seq", "-b", "64k", "-q", "4",
	       "-j", "2", "-s", "4m", "-n", "64", "--csv", d1, NULL);
	nl = strchr(r.out, '\n');
	if (r.status || !nl || strcmp(last_field(r.out, head, sizeof(head)), "premapped") ||
	    strcmp(last_field(nl + 1, row, sizeof(row)), "yes"))
		tt_fail(&r, "want the CSV's last column premapped, \"yes\"");
	tt_free(&r);
	for (i = 0; i < 64; i++) {
		if (pread(fd, chunk, 64 << 10, (uint64_t)i << 16) != 64 << 10)
			t_fail("reading drive 1: %s", strerror(errno));
		for (j = 0; j < 64 << 10; j++)
			if (chunk[j] != 0xa5)
				t_fail("byte %u of block %u on drive 1 is 0x%02x, not the "
				       "premapped writes' 0xa5", j, i, chunk[j]);
	}
	close(fd);
	printf("premapped writes, two jobs, 4 MiB: on the drive\n");

	tt_run(&r, "bench", "-m", "premapped", "-t", "1", d0, NULL);
	if (r.status || !strstr(r.out, "buffers: premapped, mapped once for"))
		tt_fail(&r, "want \"buffers: premapped\" in the text output");
	tt_free(&r);

	fd = open(file, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0 || ftruncate(fd, 1 << 20))
		t_fail("creating %s", file);
	close(fd);
	tt_run(&r, "bench", "-m", "premapped", file, NULL);
	if (r.status != 1 || !strstr(r.err, "cannot have buffers premapped for it: it is on tmpfs") ||
	    !strstr(r.err, "only ext4 and xfs"))
		tt_fail(&r, "want a file on tmpfs refused with status 1, naming tmpfs");
	tt_free(&r);
	unlink(file);
	free(chunk);
}

/* fio's premapped job ran, verified, and said its buffers were premapped */
static void fio_ok(struct tt_run *r)
{
	if (r->status || !strstr(r->out, "err= 0") || !strstr(r->out, "WRITE: bw=") ||
	    !strstr(r->out, "READ: bw="))
		tt_fail(r, "fio failed, or wrote without reading back to verify");
	if (!strstr(r->out, "fio's buffers are premapped") || strstr(r->err, "NOT premapped"))
		tt_fail(r, "want the engine to say the buffers are premapped");
	printf("%s: ok\n", r->cmd);
}

static void fio_engine(const char *d1)
{
	char f1[96];
	struct tt_run r;

	if (access(FIO, X_OK) || access(ENGINE, R_OK))
		t_missing("fio or %s in this image (make guest with fio installed, "
			  "vm/run-vm.sh --fio)", ENGINE);
	snprintf(f1, sizeof(f1), "--filename=%s", d1);

	tt_execv(&r, FIO, (const char *[]){ "--name=premapped-verify",
		"--ioengine=external:" ENGINE, f1, "--direct=1", "--rw=randwrite",
		"--bsrange=4k-256k", "--iodepth=8", "--size=16m", "--premapped",
		"--verify=crc32c", "--do_verify=1", "--verify_fatal=1", NULL });
	fio_ok(&r);
	tt_free(&r);

	tt_execv(&r, FIO, (const char *[]){ "--name=premapped-jobs",
		"--ioengine=external:" ENGINE, f1, "--direct=1", "--rw=write", "--bs=64k",
		"--iodepth=4", "--size=8m", "--offset=16m", "--numjobs=2",
		"--offset_increment=8m", "--premapped=1", "--verify=md5", "--do_verify=1",
		"--verify_fatal=1", NULL });
	fio_ok(&r);
	tt_free(&r);

	tt_execv(&r, FIO, (const char *[]){ "--name=premapped-heap",
		"--ioengine=external:" ENGINE, f1, "--direct=1", "--rw=read", "--size=1m",
		"--premapped", "--dmabuf_heap=system", NULL });
	if (!r.status || (!strstr(r.err, "premapped registers fio's own memory") &&
			  !strstr(r.out, "premapped registers fio's own memory")))
		tt_fail(&r, "want premapped with dmabuf_heap refused with the engine's message");
	tt_free(&r);
}

int main(void)
{
	const char *d0 = strdup(t_need_nvme(0));
	const char *d1 = strdup(t_need_nvme(1));

	tt_tool();
	t_require_dmabuf_io();
	tool_bench(d0, d1);
	fio_engine(d1);
	return T_EXIT_PASS;
}
