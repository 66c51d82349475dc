// SPDX-License-Identifier: MIT
/*
 * fio's dmabuf engine (fio/dmabuf-engine.so) moves the right data: fio
 * writes random-sized blocks through it with verify=crc32c and reads them
 * back through it, on drive 1 (small MDTS: large blocks are split), then
 * with two jobs and a dma-heap buffer; fio checks every block.  Only drive
 * 1 holds data (make bench's drive 0 is a null-co drive).
 * A job without direct=1 and a file that is not a block device are refused
 * with the engine's message.  Needs the image with fio and the engine
 * (vm/run-vm.sh --fio after make fio-engine guest; make bench runs this
 * test first); skips otherwise.
 */
#include <fcntl.h>

#include "tool-test.h"

#define FIO	"/usr/bin/fio"
#define ENGINE	"/usr/lib/fio/dmabuf-engine.so"

/* fio exits non-zero on a verify failure (verify_fatal); the read-back ran */
static void fio_ok(struct tt_run *r)
{
	if (r->status || !strstr(r->out, "err= 0") || !strstr(r->out, "WRITE: bw=") ||
	    !strstr(r->out, "READ: bw="))
		tt_fail(r, "fio failed, or wrote without reading back to verify");
	printf("%s: ok\n", r->cmd);
}

int main(void)
{
	const char *d1 = t_nvme_path(1) ? strdup(t_nvme_path(1)) : NULL;
	const char *file = "/tmp/fio-engine.img";
	char f1[96];
	struct tt_run r;
	int fd;

	if (access(FIO, X_OK) || access(ENGINE, R_OK))
		t_skip("no fio or no %s in this image (vm/run-vm.sh --fio, make fio-engine)", ENGINE);
	if (!d1)
		t_skip("needs NVMe test drive 1");
	snprintf(f1, sizeof(f1), "--filename=%s", d1);

	/* write and verify, block sizes 4k..256k, through the engine */
	tt_execv(&r, FIO, (const char *[]){ "--name=write-verify", "--ioengine=external:" ENGINE,
		f1, "--direct=1", "--rw=randwrite", "--bsrange=4k-256k", "--iodepth=8",
		"--size=16m", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", NULL });
	fio_ok(&r);
	tt_free(&r);

	/* two jobs, each its own ring and dma-buf; a dma-heap buffer */
	if (!access("/dev/dma_heap/system", F_OK)) {
		tt_execv(&r, FIO, (const char *[]){ "--name=heap-verify", "--ioengine=external:" ENGINE,
			f1, "--direct=1", "--rw=write", "--bs=64k", "--iodepth=4", "--size=8m",
			"--offset=16m", "--numjobs=2", "--offset_increment=8m", "--dmabuf_heap=system",
			"--verify=md5", "--do_verify=1", "--verify_fatal=1", NULL });
		fio_ok(&r);
		tt_free(&r);
	}

	/* buffered: refused by the engine */
	tt_execv(&r, FIO, (const char *[]){ "--name=buffered", "--ioengine=external:" ENGINE,
		f1, "--direct=0", "--rw=read", "--size=1m", NULL });
	if (!r.status || (!strstr(r.err, "needs direct=1") && !strstr(r.out, "needs direct=1")))
		tt_fail(&r, "want the engine to refuse direct=0");
	tt_free(&r);

	/* a regular file: refused when opened */
	fd = open(file, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0 || ftruncate(fd, 1 << 20))
		t_fail("creating %s", file);
	close(fd);
	tt_execv(&r, FIO, (const char *[]){ "--name=file", "--ioengine=external:" ENGINE,
		"--filename=/tmp/fio-engine.img", "--direct=1", "--rw=read", "--size=1m", NULL });
	if (!r.status || (!strstr(r.err, "is not a block device") &&
			  !strstr(r.out, "is not a block device")))
		tt_fail(&r, "want the engine to refuse a regular file");
	tt_free(&r);
	unlink(file);
	return T_EXIT_PASS;
}
