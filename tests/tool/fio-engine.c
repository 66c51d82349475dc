// SPDX-License-Identifier: MIT
/*
 * fio's dmabuf engine (fio/dmabuf-engine.so) moves the right data: fio
 * writes random-sized blocks through it with verify=crc32c and reads them
 * back through it, on drive 1 (small MDTS: large blocks are split), then
 * with two jobs and a dma-heap buffer; fio checks every block.  Only drive
 * 1 holds data (make bench's drive 0 is a null-co drive).
 * A vgem GEM buffer (dmabuf_source=drm:CARD) verifies the same way.  A
 * dma-buf without a CPU mapping (dmabuf_no_map) refuses verify with the
 * engine's message, and writes what the dma-buf holds: a udmabuf the test
 * filled, passed in as an inherited descriptor (dmabuf_source=fd:N),
 * lands on the drive, checked here with plain reads.  Batched submission
 * survives a buffer the exporter keeps moving (dmabuf-mover).  A job without direct=1 and a file
 * on tmpfs (only ext4 and xfs take dma-buf I/O: tool/files) are refused
 * with the engine's message.
 * Needs the image with fio and the engine (make guest builds the engine
 * when fio is installed; vm/run-vm.sh --fio): their absence fails.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>

#include <signal.h>

#include "tool-test.h"
#include "../drm/drm-test.h"
#include "../inval/mover.h"

#define FIO	"/usr/bin/fio"
#define ENGINE	"/usr/lib/fio/dmabuf-engine.so"

/*
 * fio writes 4 MiB through a udmabuf it cannot map (dmabuf_no_map) passed
 * in as an inherited descriptor; the test filled each of its 64 KiB io_u buffers
 * with the same pattern, so whichever buffer fio used, every 64 KiB on
 * the drive must hold it.
 */
static void nomap_write(const char *f1)
{
	const unsigned int bs = 64 << 10, depth = 4;
	unsigned char *map, *chunk = t_malloc(bs);
	struct tt_run r;
	unsigned int i;
	char spec[48];
	int buf, fd;

	/* fio asks for depth x bs plus a page of alignment room */
	buf = dmabuf_rw_udmabuf_create((depth + 1) * bs, NULL);
	fd = buf < 0 ? -1 : fcntl(buf, F_DUPFD, 20);	/* inherited by fio */
	if (fd < 0)
		t_fail("a udmabuf to pass to fio: %s", strerror(buf < 0 ? -buf : errno));
	snprintf(spec, sizeof(spec), "--dmabuf_source=fd:%d", fd);
	map = t_mmap(fd, (depth + 1) * bs, PROT_READ | PROT_WRITE);
	t_assert(!t_dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
	for (i = 0; i <= depth; i++)
		t_fill(map + i * bs, bs, 0, 0x6e6f6d61);
	t_assert(!t_dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
	tt_execv(&r, FIO, (const char *[]){ "--name=nomap-write", "--ioengine=external:" ENGINE,
		f1, "--direct=1", "--rw=write", "--bs=64k", "--iodepth=4",
		"--size=4m", "--offset=48m", spec, "--dmabuf_no_map=1",
		"--zero_buffers=1", NULL });
	if (r.status || !strstr(r.out, "WRITE: bw="))
		tt_fail(&r, "fio with a dma-buf it cannot map failed");
	tt_free(&r);
	close(fd);
	fd = t_open_nvme(1, 0);
	for (i = 0; i < 64; i++) {
		if (pread(fd, chunk, bs, (48 << 20) + (uint64_t)i * bs) != (ssize_t)bs)
			t_fail("pread: %s", strerror(errno));
		if (t_verify(chunk, bs, 0, 0x6e6f6d61, "written from an unmapped dma-buf"))
			t_fail("block %u on the drive is not what the dma-buf held", i);
	}
	printf("fio dmabuf_no_map: 4 MiB written from the dma-buf's contents, verified\n");
	munmap(map, (depth + 1) * bs);
	close(buf);
	close(fd);
	free(chunk);
}

/*
 * Batched submission while the exporter moves the buffer: a dmabuf-mover
 * dma-buf (tests/modules) passed in, moved by a child as fast as it can
 * while fio reads into it for 3 s with iodepth_batch 8.  Reissuing an io_u
 * after -EAGAIN used to submit SQEs fio had queued but not committed, and
 * the engine then spun in .commit forever: here fio runs under timeout(1).
 * (No verify: the mover copies pages without coordinating with CPU
 * writers, so fio's fill could race a move.)
 */
static void moving_batches(const char *f1)
{
	int dev = mover_open(), buf, fd;
	struct tt_run r;
	char spec[48];
	pid_t mover;

	buf = mover_create(dev, 1 << 20);
	fd = fcntl(buf, F_DUPFD, 20);	/* inherited by fio */
	if (fd < 0)
		t_fail("F_DUPFD: %s", strerror(errno));
	snprintf(spec, sizeof(spec), "--dmabuf_source=fd:%d", fd);
	mover = fork();
	if (mover < 0)
		t_fail("fork: %s", strerror(errno));
	if (!mover) {
		for (;;)
			mover_move(dev, buf, 1000);
	}
	tt_execv(&r, "/usr/bin/timeout", (const char *[]){ "60", FIO, "--name=moving-batches",
		"--ioengine=external:" ENGINE, f1, "--direct=1", "--rw=randread", "--bs=4k",
		"--iodepth=16", "--iodepth_batch=8", "--iodepth_batch_complete_min=1",
		"--size=8m", "--time_based=1", "--runtime=3", spec, NULL });
	kill(mover, SIGKILL);
	waitpid(mover, NULL, 0);
	if (r.status == 124 || r.status == 128 + SIGTERM)
		tt_fail(&r, "fio hung while the buffer moved (killed after 60 s)");
	if (r.status || !strstr(r.out, "err= 0") || !strstr(r.out, "READ: bw="))
		tt_fail(&r, "fio failed while the buffer moved");
	printf("fio iodepth_batch=8 while the buffer moved: ok%s\n",
	       strstr(r.out, "completions reissued") ? " (-EAGAIN completions reissued)" : "");
	tt_free(&r);
	close(fd);
	close(buf);
	close(dev);
}

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
	char f1[96], src[96];
	struct tt_run r;
	int fd;

	if (access(FIO, X_OK) || access(ENGINE, R_OK))
		t_missing("fio or %s in this image (make guest with fio installed, "
			  "vm/run-vm.sh --fio)", ENGINE);
	if (!d1)
		d1 = t_need_nvme(1);
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

	/* a DRM exporter's buffer: vgem */
	snprintf(src, sizeof(src), "--dmabuf_source=drm:%s", td_vgem_card());
	tt_execv(&r, FIO, (const char *[]){ "--name=drm-verify", "--ioengine=external:" ENGINE,
		f1, "--direct=1", "--rw=randwrite", "--bs=16k", "--iodepth=4", "--iodepth_batch=4",
		"--size=8m", "--offset=32m", src, "--verify=crc32c", "--do_verify=1",
		"--verify_fatal=1", NULL });
	fio_ok(&r);
	tt_free(&r);

	/* no CPU mapping: verify refused; what the dma-buf holds is written */
	tt_execv(&r, FIO, (const char *[]){ "--name=nomap-verify", "--ioengine=external:" ENGINE,
		f1, "--direct=1", "--rw=write", "--size=1m", "--dmabuf_no_map=1",
		"--verify=md5", NULL });
	if (!r.status || (!strstr(r.err, "has no CPU mapping") && !strstr(r.out, "has no CPU mapping")))
		tt_fail(&r, "want verify refused for a dma-buf without a CPU mapping");
	tt_free(&r);
	nomap_write(f1);
	moving_batches(f1);

	/* buffered: refused by the engine */
	tt_execv(&r, FIO, (const char *[]){ "--name=buffered", "--ioengine=external:" ENGINE,
		f1, "--direct=0", "--rw=read", "--size=1m", NULL });
	if (!r.status || (!strstr(r.err, "needs direct=1") && !strstr(r.out, "needs direct=1")))
		tt_fail(&r, "want the engine to refuse direct=0");
	tt_free(&r);

	/* a file on tmpfs: refused when opened (registered) */
	fd = open(file, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0 || ftruncate(fd, 1 << 20))
		t_fail("creating %s", file);
	close(fd);
	tt_execv(&r, FIO, (const char *[]){ "--name=file", "--ioengine=external:" ENGINE,
		"--filename=/tmp/fio-engine.img", "--direct=1", "--rw=read", "--size=1m", NULL });
	if (!r.status || (!strstr(r.err, "the file system cannot do dma-buf I/O") &&
			  !strstr(r.out, "the file system cannot do dma-buf I/O")))
		tt_fail(&r, "want the engine to refuse a file on tmpfs");
	tt_free(&r);
	unlink(file);
	return T_EXIT_PASS;
}
