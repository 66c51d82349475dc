// SPDX-License-Identifier: MIT
/* Helpers shared by the guest tests; see test.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>
#include <linux/fs.h>

#include "test.h"

/* Line-buffered output: a test killed by the timeout keeps what it printed. */
__attribute__((constructor)) static void t_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

void t_exit(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(code);
}

/*
 * Pattern word for 8-byte word index w: the low 40 bits are w scrambled by
 * the seed, the high 24 bits a hash of (w, seed).  Any word can therefore be
 * decoded back to the position it was written for, which turns "mismatch"
 * into "this is the data of position Y" when I/O lands in the wrong place.
 */
#define T_LOW_BITS	40
#define T_LOW_MASK	((1ULL << T_LOW_BITS) - 1)

static uint64_t t_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t t_word(uint64_t w, uint32_t seed)
{
	uint64_t s = t_mix(seed + 0x9e3779b97f4a7c15ULL);

	return ((w ^ s) & T_LOW_MASK) |
	       (t_mix(w * 0x9e3779b97f4a7c15ULL ^ s) << T_LOW_BITS);
}

static uint8_t t_byte(uint64_t pos, uint32_t seed)
{
	return t_word(pos >> 3, seed) >> ((pos & 7) * 8);
}

void t_fill(void *buf, size_t len, uint64_t pos, uint32_t seed)
{
	uint8_t *p = buf;
	size_t i = 0;

	for (; i < len && ((pos + i) & 7); i++)
		p[i] = t_byte(pos + i, seed);
	for (; i + 8 <= len; i += 8) {
		uint64_t v = t_word((pos + i) >> 3, seed);

		memcpy(p + i, &v, 8);	/* little endian: byte k is bits 8k.. */
	}
	for (; i < len; i++)
		p[i] = t_byte(pos + i, seed);
}

/* Describe where the 8-byte aligned word around buffer offset i came from. */
static void t_whence(const uint8_t *p, size_t len, size_t i, uint64_t pos,
		     uint32_t seed, char *out, size_t outlen)
{
	size_t start = i - ((pos + i) & 7);
	uint64_t got, w, s = t_mix(seed + 0x9e3779b97f4a7c15ULL);

	if (start > i || start + 8 > len) {
		snprintf(out, outlen, "unaligned word at buffer edge");
		return;
	}
	memcpy(&got, p + start, 8);
	w = (got & T_LOW_MASK) ^ (s & T_LOW_MASK);
	if (got == 0)
		snprintf(out, outlen, "zeroes");
	else if (t_word(w, seed) == got)
		snprintf(out, outlen, "data written for pos %llu (off by %lld)",
			 (unsigned long long)(w << 3),
			 (long long)((w << 3) - (pos + start)));
	else
		snprintf(out, outlen, "not this pattern (stale or foreign data)");
}

void t_fill_dev(int fd, uint64_t off, size_t len, uint32_t seed)
{
	void *pat = t_malloc(len);

	t_fill(pat, len, off, seed);
	if (pwrite(fd, pat, len, off) != (ssize_t)len)
		t_fail("writing the pattern to the drive at %llu: %s",
		       (unsigned long long)off, strerror(errno));
	free(pat);
}

int t_verify(const void *buf, size_t len, uint64_t pos, uint32_t seed,
	     const char *what)
{
	const uint8_t *p = buf;
	size_t i, first = 0, bad = 0;
	char whence[96];

	for (i = 0; i < len; i++) {
		/* fast path: whole words */
		if (!((pos + i) & 7) && i + 8 <= len) {
			uint64_t v = t_word((pos + i) >> 3, seed);

			if (!memcmp(p + i, &v, 8)) {
				i += 7;
				continue;
			}
		}
		if (p[i] != t_byte(pos + i, seed) && !bad++)
			first = i;
	}
	if (!bad)
		return 0;
	t_whence(p, len, first, pos, seed, whence, sizeof(whence));
	printf("%s: %zu of %zu bytes differ, first at buffer offset %zu (pos %llu): got 0x%02x want 0x%02x; %s\n",
	       what, bad, len, first, (unsigned long long)(pos + first),
	       p[first], t_byte(pos + first, seed), whence);
	return -1;
}

void *t_malloc(size_t size)
{
	void *p;

	if (posix_memalign(&p, 4096, size ? size : 1))
		t_fail("posix_memalign(%zu) failed", size);
	memset(p, 0, size);
	return p;
}

void *t_mmap(int fd, size_t size, int prot)
{
	void *p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		t_fail("mmap(fd %d, %zu): %s", fd, size, strerror(errno));
	return p;
}

const char *t_nvme_path(int n)
{
	static char path[64];
	char want[32], buf[PATH_MAX];
	struct dirent *d, *e;
	const char *ret = NULL;
	DIR *dir, *ctrl;

	snprintf(want, sizeof(want), "dmabuf-rw-%d", n);
	dir = opendir("/sys/class/nvme");
	if (!dir)
		return NULL;
	while (!ret && (d = readdir(dir))) {
		FILE *f;
		size_t l;

		if (strncmp(d->d_name, "nvme", 4))
			continue;
		snprintf(buf, sizeof(buf), "/sys/class/nvme/%s/serial", d->d_name);
		f = fopen(buf, "r");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
		for (l = strlen(buf); l && (buf[l - 1] == '\n' || buf[l - 1] == ' '); l--)
			buf[l - 1] = 0;
		if (strcmp(buf, want))
			continue;
		/* the namespace: nvmeXnY, or nvmeAcBnY (multipath: /dev/nvmeAnY) */
		snprintf(buf, sizeof(buf), "/sys/class/nvme/%s", d->d_name);
		ctrl = opendir(buf);
		if (!ctrl)
			continue;
		while ((e = readdir(ctrl))) {
			unsigned int a, b, y;

			if (sscanf(e->d_name, "nvme%uc%un%u", &a, &b, &y) == 3)
				snprintf(path, sizeof(path), "/dev/nvme%un%u", a, y);
			else if (sscanf(e->d_name, "nvme%un%u", &a, &y) == 2)
				snprintf(path, sizeof(path), "/dev/nvme%un%u", a, y);
			else
				continue;
			ret = path;
			break;
		}
		closedir(ctrl);
	}
	closedir(dir);
	return ret;
}

int t_bed_drives(void)
{
	const char *d = t_cmdline("dmabuf_rw.drives");

	return d && *d ? atoi(d) : 2;
}

const char *t_need_nvme(int n)
{
	const char *path = t_nvme_path(n);
	int drives = t_bed_drives();

	if (path)
		return path;
	if (n >= drives)
		t_skip("the bed has %d NVMe drive(s), this test needs drive %d", drives, n);
	t_missing("NVMe test drive %d (serial dmabuf-rw-%d), one of the bed's %d", n, n, drives);
}

int t_open_nvme(int n, int flags)
{
	const char *path = t_need_nvme(n);
	int fd;

	fd = open(path, O_RDWR | O_DIRECT | flags);
	if (fd < 0)
		t_fail("open %s: %s", path, strerror(errno));
	return fd;
}

uint64_t t_dev_size(int fd)
{
	uint64_t size;

	if (ioctl(fd, BLKGETSIZE64, &size))
		t_fail("BLKGETSIZE64: %s", strerror(errno));
	return size;
}

unsigned int t_dev_lbsize(int fd)
{
	int lbs;

	if (ioctl(fd, BLKSSZGET, &lbs))
		t_fail("BLKSSZGET: %s", strerror(errno));
	return lbs;
}

int t_dmabuf_sync(int dmabuf_fd, unsigned long long flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl(dmabuf_fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

int t_io(struct io_uring *ring, int opcode, int fd, uint64_t addr,
	 unsigned int len, uint64_t off, int buf_index)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		t_fail("no free SQE");
	io_uring_prep_rw(opcode, sqe, fd, (void *)(uintptr_t)addr, len, off);
	if (opcode == IORING_OP_READ_FIXED || opcode == IORING_OP_WRITE_FIXED)
		sqe->buf_index = buf_index;
	ret = io_uring_submit(ring);
	if (ret != 1)
		t_fail("io_uring_submit: %d", ret);
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		t_fail("io_uring_wait_cqe: %s", strerror(-ret));
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

const char *t_cmdline(const char *key)
{
	static char line[4096];
	size_t klen = strlen(key);
	char *tok, *save;
	FILE *f;

	f = fopen("/proc/cmdline", "r");
	if (!f)
		return NULL;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	for (tok = strtok_r(line, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (strncmp(tok, key, klen))
			continue;
		if (tok[klen] == '=')
			return strdup(tok + klen + 1);
		if (!tok[klen])
			return "";
	}
	return NULL;
}

long t_proc_kb(const char *path, const char *key)
{
	size_t klen = strlen(key);
	char line[256];
	long val = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		t_fail("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			val = atol(line + klen + 1);
	fclose(f);
	if (val < 0)
		t_fail("no %s in %s", key, path);
	return val;
}

int t_debug(void)
{
	static int debug = -1;
	const char *v;

	if (debug < 0) {
		v = t_cmdline("dmabuf_rw.debug");
		debug = v && strcmp(v, "0");
	}
	return debug;
}

unsigned long t_scale(unsigned long n)
{
	if (!t_debug())
		return n;
	return n / T_DEBUG_SCALE ? n / T_DEBUG_SCALE : 1;
}
