/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the guest tests (tests/<area>/<name>.c).
 *
 * A test is one program per feature.  main() returns T_EXIT_PASS,
 * T_EXIT_FAIL or T_EXIT_SKIP; t_fail(), t_missing() and t_skip() print one
 * line and exit.  The guest init runs every test under a timeout and turns
 * the exit code into a TAP line; whatever the test prints becomes TAP
 * diagnostics.
 *
 * Skip or fail: in the test bed the feature (dma-buf registered buffers),
 * the drives it boots with and the kernel options kernel/config gives it
 * are known to be there, so their absence fails the test (t_missing(),
 * t_require_dmabuf_io(), t_open_nvme()).  A skip is only for what this
 * bed really does not have: a drive beyond the dmabuf_rw.drives= it was
 * booted with, a route the emulator cannot deliver (tests/p2p), a bed
 * option it was booted without.  make check lists every skip with its
 * reason.
 *
 * Test bed (vm/run-vm.sh): emulated NVMe controllers with serial numbers
 * "dmabuf-rw-0", "dmabuf-rw-1", ...  In the standard bed drive 0 is a 64 MiB
 * file-backed drive and drive 1 the same with a small MDTS (32 KiB), so
 * large I/O is split.  t_open_nvme(n) finds drive n by serial number.
 * Boots that run fs/ tests have two more, file systems made on the host:
 * drive 2 ext4, drive 3 xfs (small MDTS), named by dmabuf_rw.fs=
 * (tests/fs/fs-test.h); other tests leave them alone.
 *
 * Debug kernels: make check-debug boots with dmabuf_rw.debug=1 (KASAN,
 * lockdep and kmemleak make the kernel side of a test several times
 * slower); long loops take their count from t_scale(n), which is n there
 * divided by T_DEBUG_SCALE (at least 1) and n otherwise, so the suite
 * keeps its verdicts and fits the boot's time limit.
 */
#ifndef DMABUF_RW_TEST_H
#define DMABUF_RW_TEST_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <liburing.h>

#include "dmabuf-rw.h"

#define T_EXIT_PASS	0
#define T_EXIT_FAIL	1
#define T_EXIT_SKIP	77

/* Print "FAIL: file:line: message" and exit T_EXIT_FAIL. */
#define t_fail(fmt, ...) \
	t_exit(T_EXIT_FAIL, "FAIL: %s:%d: " fmt, __FILE__, __LINE__, ##__VA_ARGS__)
/*
 * Something the bed provides is not there: print "FAIL: missing: message"
 * (what is missing, one line) and exit T_EXIT_FAIL.
 */
#define t_missing(fmt, ...) \
	t_exit(T_EXIT_FAIL, "FAIL: missing: " fmt, ##__VA_ARGS__)
/*
 * Print "SKIP: message" (the reason, one line) and exit T_EXIT_SKIP: only
 * for what this bed really does not have (see above).
 */
#define t_skip(fmt, ...) \
	t_exit(T_EXIT_SKIP, "SKIP: " fmt, ##__VA_ARGS__)
/* Fail unless cond holds; prints the condition. */
#define t_assert(cond) \
	do { if (!(cond)) t_fail("assertion failed: %s", #cond); } while (0)

void t_exit(int code, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/*
 * Position-dependent pattern: the byte at position pos (a device offset or
 * any address space the test chooses) is a function of (pos, seed) alone, so
 * a buffer filled for one range can be checked against any overlapping range
 * and misplaced data is caught.
 */
void t_fill(void *buf, size_t len, uint64_t pos, uint32_t seed);
/*
 * Check buf against the pattern for [pos, pos + len).  On mismatch prints
 * "<what>: N bytes differ, first at buffer offset X (pos Y): got 0x.. want
 * 0x.." and returns -1; returns 0 if every byte matches.
 */
int t_verify(const void *buf, size_t len, uint64_t pos, uint32_t seed,
	     const char *what);

/* Write the pattern for [off, off + len) of the drive fd; fails the test on error. */
void t_fill_dev(int fd, uint64_t off, size_t len, uint32_t seed);

/* Memory. */
void *t_malloc(size_t size);			/* page aligned, zeroed */
void *t_mmap(int fd, size_t size, int prot);	/* MAP_SHARED at offset 0 */

/*
 * NVMe test drives.  t_bed_drives() is the number of drives the bed was
 * booted with (dmabuf_rw.drives=, 2 when absent: vm/run-vm.sh's default).
 * t_nvme_path() returns the /dev/nvmeXnY path of bed drive n or NULL.
 * t_need_nvme() returns it, failing the test when the bed has drive n but
 * it is missing and skipping it when the bed was booted with fewer drives;
 * t_open_nvme() does the same and opens it O_RDWR | O_DIRECT | flags.
 */
int t_bed_drives(void);
const char *t_nvme_path(int n);
const char *t_need_nvme(int n);
int t_open_nvme(int n, int flags);
uint64_t t_dev_size(int fd);			/* bytes */
unsigned int t_dev_lbsize(int fd);		/* logical block size */

/*
 * dma-bufs: allocate test buffers with dmabuf_rw_udmabuf_create() and
 * dmabuf_rw_heap_alloc() from lib/dmabuf-rw.h.
 * t_dmabuf_sync(): DMA_BUF_IOCTL_SYNC, flags DMA_BUF_SYNC_{START,END}|RW.
 */
int t_dmabuf_sync(int dmabuf_fd, unsigned long long flags);

/*
 * One synchronous io_uring I/O: opcode (IORING_OP_READ, _WRITE, _READ_FIXED,
 * _WRITE_FIXED, ...) on fd at offset off.  addr is the buffer address (for a
 * dma-buf slot: the byte offset into the dma-buf); buf_index is the
 * registered buffer slot for the _FIXED opcodes.  Returns cqe->res.
 */
int t_io(struct io_uring *ring, int opcode, int fd, uint64_t addr,
	 unsigned int len, uint64_t off, int buf_index);

/*
 * Kernel command line: the value of key=value (malloc'ed; "" for a bare
 * key), or NULL when absent.  The run script passes its settings
 * as dmabuf_rw.<name>=<value>.
 */
const char *t_cmdline(const char *key);

/*
 * The value of key in a "Key: value kB" file such as /proc/meminfo or
 * /proc/self/status, in KiB; fails the test if the file or the key is
 * missing.
 */
long t_proc_kb(const char *path, const char *key);

/*
 * Debug kernel (dmabuf_rw.debug=1 on the command line, which make
 * check-debug passes): t_debug() is 1 there, and t_scale(n) returns the
 * loop count to use for n: n / T_DEBUG_SCALE (at least 1) there, n
 * otherwise.
 */
#define T_DEBUG_SCALE	10
int t_debug(void);
unsigned long t_scale(unsigned long n);

/*
 * Fail, saying what is missing, unless the kernel has dma-buf registered
 * buffers (the feature under test; dmabuf_rw_probe()).
 */
static inline void t_require_dmabuf_io(void)
{
	int ret = dmabuf_rw_probe();

	if (ret == -EOPNOTSUPP)
		t_missing("dma-buf registered buffers: the kernel rejects IORING_RSRC_UPDATE_EXTENDED");
	if (ret)
		t_missing("dma-buf registered buffers: probing them failed: %s", strerror(-ret));
}

#endif /* DMABUF_RW_TEST_H */
