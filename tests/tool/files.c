// SPDX-License-Identifier: MIT
/*
 * dmabuf-io and fio's dmabuf engine on files on ext4 and xfs (the tests/fs
 * bed: dmabuf_rw.fs=, tests/fs/fs-test.h), each result checked by a path
 * that shares nothing with the one under test, and each I/O path by the
 * dma-buf bios it built (the dmabuf-bios test module, pt_bios()):
 *
 *  - copy drive 0 -> a new file, that file -> drive 1 (small MDTS) and an
 *    ext4 file -> an xfs file: every file side READ_FIXED/WRITE_FIXED on a
 *    registered dma-buf (said in the output, no note), dma-buf bios for
 *    every chunk of a file side that the test can tell apart (a file ->
 *    tmpfs copy); the file read with read(2) through the page cache after
 *    dropping it, the drive with plain O_DIRECT reads;
 *  - copy of a sparse file (data, a hole, data, an unwritten extent; 768
 *    KiB chunks, so reads stop short before the hole and others start in
 *    one): exit 0, the chunks counted in the output, the drive then holds
 *    the data and zeroes where the holes were; with --no-cpu-map the copy
 *    fails saying why (a hole, no CPU mapping);
 *  - bench -m dmabuf and -m premapped reading a file (--json: the I/Os,
 *    the IOMMU mode of the file system's drive, premapped true, a dma-buf
 *    bio each) and writing all of it (every byte of the file is then the
 *    tool's 0xa5 pattern, read with read(2));
 *  - bench -m dmabuf and premapped on the sparse file: exit 1 naming a read
 *    that stopped before a hole, one that started in one;
 *  - ext4 mounted data=journal: bench -m dmabuf refused, naming data=journal;
 *  - tmpfs: bench -m dmabuf and -m premapped refused (exit 1) naming tmpfs
 *    and ext4 and xfs, copy tmpfs -> drive falls back to the CPU path with
 *    a note naming tmpfs, and the drive holds the data;
 *  - fio's dmabuf engine (ioengine=external:..., udmabuf) writes random
 *    sized blocks into a file on each file system and verifies them
 *    (crc32c), then fio's psync engine verifies the same blocks again
 *    (verify_only), through ordinary memory.
 * Needs the fs bed and the image with fio (vm/run-vm.sh --fio): their
 * absence in a boot that has them fails, as in tool/fio-engine.
 */
#define _GNU_SOURCE
#include "../fs/fs-buf.h"
#include "tool-test.h"

#define FIO	"/usr/bin/fio"
#define ENGINE	"/usr/lib/fio/dmabuf-engine.so"
#define MIB	(1U << 20)
#define SEED	0xf11e
#define SSEED	0x5a4e		/* the sparse file */

static const char *d0, *d1;
static int fd0, fd1;

/* The len bytes at off of fd (a drive) must be the pattern of position pos. */
static void check_dev(int fd, uint64_t off, size_t len, uint64_t pos, uint32_t seed,
		      const char *what)
{
	unsigned char *buf = t_malloc(len);
	ssize_t r = pread(fd, buf, len, off);

	if (r != (ssize_t)len)
		t_fail("%s: pread %zu at %llu: %s", what, len, (unsigned long long)off,
		       r < 0 ? strerror(errno) : "short");
	if (t_verify(buf, len, pos, seed, what))
		t_fail("%s: the drive does not hold what the copy was given", what);
	free(buf);
}

/* The len bytes at off of fd must be zeroes. */
static void check_zero(int fd, uint64_t off, size_t len, const char *what)
{
	unsigned char *buf = t_malloc(len);
	ssize_t r = pread(fd, buf, len, off);
	size_t i;

	if (r != (ssize_t)len)
		t_fail("%s: pread %zu at %llu: %s", what, len, (unsigned long long)off,
		       r < 0 ? strerror(errno) : "short");
	for (i = 0; i < len; i++)
		if (buf[i])
			t_fail("%s: byte %llu is 0x%02x, want 0 (a hole of the source)", what,
			       (unsigned long long)(off + i), buf[i]);
	free(buf);
}

/* A copy that exited 0, verified, and took the dma-buf path on the file sides. */
static void copy_direct(struct tt_run *r, const char *type)
{
	char want[32];

	snprintf(want, sizeof(want), "(%s on /dev/", type);
	if (r->status || !strstr(r->out, "verified:"))
		tt_fail(r, "copy failed");
	if (strstr(r->out, "through host memory") || strstr(r->err, "note:"))
		tt_fail(r, "a file on %s went through the CPU path", type);
	if (!strstr(r->out, want))
		tt_fail(r, "the file side does not say it is on %s", type);
	printf("%s\n", r->cmd);
}

/* Every byte of the file path is 0xa5 (dmabuf-io bench's written pattern). */
static void check_a5(const char *path, size_t len, const char *what)
{
	unsigned char *buf = t_malloc(len);
	size_t got = ft_file_read(path, buf, 0, len), i;

	if (got != len)
		t_fail("%s: read(2) gave %zu of %zu bytes", what, got, len);
	for (i = 0; i < len; i++)
		if (buf[i] != 0xa5)
			t_fail("%s: byte %zu of the file is 0x%02x, not the 0xa5 bench wrote",
			       what, i, buf[i]);
	free(buf);
}

static void bench_file(const struct ft_fs *f, const char *path)
{
	const char *modes[] = { "dmabuf", "premapped" };
	struct tt_run r;
	long before;
	int i, fd;

	for (i = 0; i < 2; i++) {
		before = pt_bios();
		tt_run(&r, "bench", "-m", modes[i], "-q", "8", "-n", "2000", "--json", path, NULL);
		if (r.status || tt_json_get(&r, "ios") != 2000)
			tt_fail(&r, "bench -m %s on a file on %s", modes[i], f->type);
		if (strstr(r.out, "\"iommu\": \"n/a\"") || strstr(r.out, "\"iommu\": \"unknown\""))
			tt_fail(&r, "no IOMMU mode of the file system's drive in the output");
		if (i == 1 && !strstr(r.out, "\"premapped\": true"))
			tt_fail(&r, "want the buffer premapped for a file on %s", f->type);
		pt_expect_bios(before, 2000, "bench reads of a file");
		printf("%s: bench -m %s 4k random reads QD8: %.1f KIOPS, CPU %.1f us/IO\n",
		       f->type, modes[i], tt_json_get(&r, "iops") / 1e3,
		       tt_json_get(&r, "cpu_us_per_io"));
		tt_free(&r);

		/* rewrite the file with a pattern, then bench writes all of it */
		fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (fd < 0)
			t_fail("%s: %s", path, strerror(errno));
		dt_dev_fill(fd, 0, 8 * MIB, SEED + 1);
		close(fd);
		before = pt_bios();
		tt_run(&r, "bench", "-m", modes[i], "-w", "write", "-p", "seq", "-b", "64k",
		       "-q", "4", "-n", "128", path, NULL);
		if (r.status)
			tt_fail(&r, "bench -m %s writing a file on %s", modes[i], f->type);
		tt_free(&r);
		pt_expect_bios(before, 128, "bench writes of a file");
		check_a5(path, 8 * MIB, "after bench -w write");
		printf("%s: bench -m %s -w write: all 8 MiB of the file written, read back\n",
		       f->type, modes[i]);
	}
}

/*
 * The sparse file: [0, 1M) data, [1M, 2M) a hole, [2M, 3M) data, [3M, 4M)
 * unwritten (fallocate).
 */
static void make_sparse(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0644);

	if (fd < 0)
		t_fail("%s: %s", path, strerror(errno));
	dt_dev_fill(fd, 0, MIB, SSEED);
	dt_dev_fill(fd, 2 * MIB, MIB, SSEED);
	ft_fallocate(fd, 0, 3 * MIB, MIB, "the sparse file's unwritten extent");
	if (fsync(fd))
		t_fail("fsync: %s", strerror(errno));
	close(fd);
}

static void sparse(const struct ft_fs *f, const char *path)
{
	struct tt_run r;
	const char *line;

	make_sparse(path);
	tt_run(&r, "copy", "-b", "768k", "-o", "40m", path, d1, NULL);
	if (r.status || !strstr(r.out, "verified:"))
		tt_fail(&r, "copying a sparse file on %s", f->type);
	if (!strstr(r.out, "met a hole or an unwritten extent"))
		tt_fail(&r, "the chunks with holes are not reported");
	check_dev(fd1, 40 * MIB, MIB, 0, SSEED, "sparse copy, first MiB");
	check_zero(fd1, 41 * MIB, MIB, "sparse copy, the hole");
	check_dev(fd1, 42 * MIB, MIB, 2 * MIB, SSEED, "sparse copy, third MiB");
	check_zero(fd1, 43 * MIB, MIB, "sparse copy, the unwritten extent");
	line = strstr(r.out, "met a hole");
	while (line > r.out && line[-1] != '\n')
		line--;
	printf("%s: copy of a sparse file:\n%.*s\n", f->type, (int)strcspn(line, "\n"), line);
	tt_free(&r);

	/* without a CPU mapping the holes cannot be filled: a clear failure */
	tt_run(&r, "copy", "--no-cpu-map", "-b", "768k", "-o", "40m", path, d1, NULL);
	if (r.status != 1 || !strstr(r.err, "hole or an unwritten") ||
	    !strstr(r.err, "no CPU mapping"))
		tt_fail(&r, "want copy --no-cpu-map of a sparse file refused, naming the hole");
	tt_free(&r);

	/* bench stops there, naming the hole: a read that ends before it ... */
	tt_run(&r, "bench", "-m", "dmabuf", "-p", "seq", "-b", "768k", "-q", "1", "-n", "4",
	       path, NULL);
	if (r.status != 1 || !strstr(r.err, "short read: 262144 of 786432 bytes, it ended "
					    "before a hole or an unwritten"))
		tt_fail(&r, "want bench to fail at the short read before the hole");
	tt_free(&r);
	/* ... and one that starts in it (premapped: the same) */
	tt_run(&r, "bench", "-m", "premapped", "-p", "seq", "-b", "512k", "-o", "1m", "-q", "1",
	       "-n", "2", path, NULL);
	if (r.status != 1 || !strstr(r.err, "the read starts in a hole or an unwritten"))
		tt_fail(&r, "want bench to fail at a read starting in the hole");
	tt_free(&r);
	printf("%s: sparse file: copy fills the holes through the CPU, bench names them\n",
	       f->type);
}

/* fio: the engine writes and verifies, then psync verifies the same blocks. */
static void fio_file(const struct ft_fs *f, const char *path)
{
	char fn[300];
	struct tt_run r;
	long before;

	snprintf(fn, sizeof(fn), "--filename=%s", path);
	before = pt_bios();
	tt_execv(&r, FIO, (const char *[]){ "--name=file-verify", "--ioengine=external:" ENGINE,
		fn, "--direct=1", "--rw=randwrite", "--bsrange=4k-256k", "--iodepth=8",
		"--size=16m", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", NULL });
	if (r.status || !strstr(r.out, "err= 0") || !strstr(r.out, "WRITE: bw=") ||
	    !strstr(r.out, "READ: bw="))
		tt_fail(&r, "fio's dmabuf engine on a file on %s", f->type);
	tt_free(&r);
	pt_expect_bios(before, 2, "fio's dmabuf engine on a file");
	tt_execv(&r, FIO, (const char *[]){ "--name=file-verify", "--ioengine=psync",
		fn, "--direct=1", "--rw=randwrite", "--bsrange=4k-256k", "--size=16m",
		"--verify=crc32c", "--verify_only=1", "--verify_fatal=1", NULL });
	if (r.status || !strstr(r.out, "err= 0") || !strstr(r.out, "READ: bw="))
		tt_fail(&r, "fio's psync engine does not find what the dmabuf engine wrote "
			"on %s", f->type);
	tt_free(&r);
	printf("%s: fio dmabuf engine wrote and verified 16 MiB of a file; psync verified it again\n",
	       f->type);
}

/* ext4 mounted data=journal: the refusal names the mount option. */
static void data_journal(struct ft_fs *f, const char *path)
{
	struct tt_run r;

	ft_umount(f);
	ft_mount_opts(f, "data=journal");
	tt_run(&r, "bench", "-m", "dmabuf", "-n", "10", path, NULL);
	if (r.status != 1 || !strstr(r.err, "ext4 is mounted data=journal"))
		tt_fail(&r, "want bench -m dmabuf refused on data=journal, saying so");
	tt_free(&r);
	ft_umount(f);
	ft_mount_opts(f, NULL);
	printf("ext4 data=journal: refused, naming data=journal\n");
}

static void test_fs(struct ft_fs *f, const struct ft_fs *other)
{
	char a[256], b[256], s[256], t[256], fio[256];
	struct tt_run r;
	long before;

	snprintf(a, sizeof(a), "%s/a", f->dir);
	snprintf(s, sizeof(s), "%s/sparse", f->dir);
	snprintf(fio, sizeof(fio), "%s/fio", f->dir);

	/* drive 0 -> a new file: WRITE_FIXED on the file */
	tt_run(&r, "copy", "-s", "8m", "-b", "256k", d0, a, NULL);
	copy_direct(&r, f->type);
	if (!strstr(r.out, "WRITE_FIXED from the dma-buf, registered for it") ||
	    strstr(r.out, "WRITE through"))
		tt_fail(&r, "the file destination did not use WRITE_FIXED");
	tt_free(&r);
	if (ft_file_verify(a, 0, 8 * MIB, SEED, "drive 0 -> file"))
		t_fail("%s: the file does not hold what drive 0 held", f->type);

	/* the file -> drive 1 @ 16M (MDTS splits): READ_FIXED on the file */
	tt_run(&r, "copy", "-b", "1m", "-q", "3", "-o", "16m", a, d1, NULL);
	copy_direct(&r, f->type);
	if (!strstr(r.out, "READ_FIXED into the dma-buf, registered for it"))
		tt_fail(&r, "the file source did not use READ_FIXED");
	tt_free(&r);
	check_dev(fd1, 16 * MIB, 8 * MIB, 0, SEED, "file -> drive 1 @ 16M");

	/* the file -> tmpfs: only the file's reads build dma-buf bios */
	snprintf(t, sizeof(t), "/tmp/files-%s", f->type);
	unlink(t);
	before = pt_bios();
	tt_run(&r, "copy", "-b", "256k", a, t, NULL);
	if (r.status || !strstr(r.out, "READ_FIXED into the dma-buf") ||
	    !strstr(r.err, "note: /tmp/files-"))
		tt_fail(&r, "copy from a file on %s to tmpfs", f->type);
	tt_free(&r);
	pt_expect_bios(before, 32, "copy's reads of a file on ext4/xfs (32 chunks)");
	unlink(t);

	/* ext4 -> xfs (or back): both sides files, both through the dma-buf */
	if (other) {
		snprintf(b, sizeof(b), "%s/from-%s", other->dir, f->type);
		tt_run(&r, "copy", "-b", "512k", a, b, NULL);
		if (r.status || strstr(r.err, "note:") ||
		    !strstr(r.out, "READ_FIXED into the dma-buf") ||
		    !strstr(r.out, "WRITE_FIXED from the dma-buf"))
			tt_fail(&r, "copy from a file on %s to one on %s", f->type, other->type);
		printf("%s\n", r.cmd);
		tt_free(&r);
		if (ft_file_verify(b, 0, 8 * MIB, SEED, "file -> file on the other fs"))
			t_fail("%s -> %s: the copy is wrong", f->type, other->type);
	}

	bench_file(f, a);
	sparse(f, s);
	fio_file(f, fio);
	if (!strcmp(f->type, "ext4"))
		data_journal(f, a);
}

static void tmpfs(void)
{
	const char *path = "/tmp/files-tmpfs";
	const char *modes[] = { "dmabuf", "premapped" };
	struct tt_run r;
	int fd, i;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		t_fail("%s: %s", path, strerror(errno));
	dt_dev_fill(fd, 0, 2 * MIB, SEED + 2);
	close(fd);
	for (i = 0; i < 2; i++) {
		tt_run(&r, "bench", "-m", modes[i], "-n", "10", path, NULL);
		if (r.status != 1 || !strstr(r.err, "it is on tmpfs") ||
		    !strstr(r.err, "only ext4 and xfs"))
			tt_fail(&r, "want bench -m %s on tmpfs refused, naming tmpfs", modes[i]);
		tt_free(&r);
	}
	tt_run(&r, "copy", "-o", "48m", path, d1, NULL);
	if (r.status || !strstr(r.err, "note: /tmp/files-tmpfs cannot take dma-buf I/O: it is on tmpfs") ||
	    !strstr(r.out, "READ through host memory") || !strstr(r.out, "verified:"))
		tt_fail(&r, "want copy from tmpfs through the CPU, with a note naming tmpfs");
	tt_free(&r);
	check_dev(fd1, 48 * MIB, 2 * MIB, 0, SEED + 2, "tmpfs -> drive 1 @ 48M");
	unlink(path);
	printf("tmpfs: bench refused naming tmpfs; copy through the CPU with a note\n");
}

int main(void)
{
	int nfs = ft_start(), i;

	if (access(FIO, X_OK) || access(ENGINE, R_OK))
		t_missing("fio or %s in this image (make guest with fio installed, "
			  "vm/run-vm.sh --fio)", ENGINE);
	tt_tool();
	d0 = strdup(t_need_nvme(0));
	d1 = strdup(t_need_nvme(1));
	fd0 = t_open_nvme(0, 0);
	fd1 = t_open_nvme(1, 0);
	dt_dev_fill(fd0, 0, 8 * MIB, SEED);

	tmpfs();
	for (i = 0; i < nfs; i++)
		ft_mount(&ft_fs[i]);
	for (i = 0; i < nfs; i++)
		test_fs(&ft_fs[i], i + 1 < nfs ? &ft_fs[i + 1] : NULL);
	for (i = 0; i < nfs; i++)
		if (ft_fs[i].mounted)
			ft_umount(&ft_fs[i]);
	close(fd0);
	close(fd1);
	return T_EXIT_PASS;
}
