// SPDX-License-Identifier: MIT
/*
 * I/O across the end of a DMA range that is almost 4 GiB long.  A dma-buf
 * map range can be up to 4 GiB - 1 byte; offsets into it near 4 GiB plus the
 * bytes a split or a partial completion advances must not wrap around 32
 * bits, or the rest of the I/O goes to the wrong place.
 *
 * The test exporter's F_WRAP buffer (tests/modules/dmabuf-mover) has a first
 * range of 4 GiB - 4 KiB and a second one of 1 MiB, with memory only in the
 * last MiB of the first range and in the second.  On drive 1 (MDTS 32 KiB)
 * every I/O below is split, and the splits advance the bio across the range
 * end from offsets near 4 GiB.  Writes are checked on the drive with plain
 * O_DIRECT reads, reads in the dma-buf through its mmap.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "test.h"
#include "dmabuf-rw.h"
#include "../inval/mover.h"

#define SEED	0x4a4a
#define RANGE	DMABUF_MOVER_WRAP_RANGE
#define WINDOW	DMABUF_MOVER_WRAP_WINDOW

/* dma-buf offset relative to the range end, length */
static const struct { long rel; unsigned int len; } cases[] = {
	{ -(20 << 10), 128 << 10 },	/* split 12 KiB past the range end */
	{ -(4 << 10), 64 << 10 },		/* 4 KiB before, 60 KiB after */
	{ -(36 << 10), 256 << 10 },	/* second split crosses it */
	{ -(1 << 20), 2 << 20 },	/* both windows, whole */
	{ 0, 96 << 10 },		/* starts at the second range */
	{ -(96 << 10), 96 << 10 },	/* ends at the first range's end */
};

static struct io_uring ring;

static int io(int op, int fd, uint64_t addr, unsigned int len, uint64_t off)
{
	int ret;

	do {
		ret = t_io(&ring, op, fd, addr, len, off, 0);
	} while (ret == -EAGAIN);
	return ret;
}

int main(void)
{
	struct dmabuf_mover_create c = { .size = DMABUF_MOVER_WRAP_SIZE,
					 .flags = DMABUF_MOVER_F_WRAP };
	unsigned char *map, *win, *host;
	int dev, fd, ret;

	t_require_dmabuf_io();
	dev = mover_open();
	if (ioctl(dev, DMABUF_MOVER_CREATE, &c))
		t_fail("DMABUF_MOVER_CREATE F_WRAP: %s", strerror(errno));
	map = mmap(NULL, DMABUF_MOVER_WRAP_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED, c.fd, 0);
	if (map == MAP_FAILED)
		t_fail("mmap of the F_WRAP buffer: %s", strerror(errno));
	win = map + RANGE - WINDOW;	/* the backed part: 2 MiB */
	host = t_malloc(2 * WINDOW);
	fd = t_open_nvme(1, 0);

	if (io_uring_queue_init(4, &ring, 0) || io_uring_register_buffers_sparse(&ring, 1))
		t_fail("ring setup");
	ret = dmabuf_rw_register_dmabuf(&ring, 0, c.fd, fd);
	if (ret < 0)
		t_fail("register the F_WRAP buffer for drive 1: %s", strerror(-ret));

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t boff = RANGE + cases[i].rel, dev_off = (uint64_t)i << 22;
		unsigned int len = cases[i].len;
		unsigned char *p = map + boff;

		/* write: dma-buf -> drive, checked with a plain read */
		t_fill(p, len, dev_off, SEED + i);
		ret = io(IORING_OP_WRITE_FIXED, fd, boff, len, dev_off);
		if (ret != (int)len)
			t_fail("write of %u at buffer offset %#llx: %d (%s)", len,
			       (unsigned long long)boff, ret, ret < 0 ? strerror(-ret) : "short");
		if (pread(fd, host, len, dev_off) != (ssize_t)len)
			t_fail("pread: %s", strerror(errno));
		if (t_verify(host, len, dev_off, SEED + i, "drive after write"))
			t_fail("write of %u at buffer offset %#llx stored wrong data",
			       len, (unsigned long long)boff);

		/* read: drive -> dma-buf, checked through the mmap */
		t_fill(host, len, dev_off, SEED + 100 + i);
		if (pwrite(fd, host, len, dev_off) != (ssize_t)len)
			t_fail("pwrite: %s", strerror(errno));
		memset(win, 0, 2 * WINDOW);
		ret = io(IORING_OP_READ_FIXED, fd, boff, len, dev_off);
		if (ret != (int)len)
			t_fail("read of %u at buffer offset %#llx: %d (%s)", len,
			       (unsigned long long)boff, ret, ret < 0 ? strerror(-ret) : "short");
		if (t_verify(p, len, dev_off, SEED + 100 + i, "dma-buf after read"))
			t_fail("read of %u at buffer offset %#llx delivered wrong data",
			       len, (unsigned long long)boff);
		for (uint64_t b = 0; b < 2 * WINDOW; b++)
			if ((win + b < p || win + b >= p + len) && win[b])
				t_fail("read of %u at buffer offset %#llx wrote outside it, at %#llx",
				       len, (unsigned long long)boff,
				       (unsigned long long)(RANGE - WINDOW + b));
		printf("%u bytes at buffer offset %#llx (range end %+ld): ok\n", len,
		       (unsigned long long)boff, cases[i].rel);
	}
	io_uring_queue_exit(&ring);
	munmap(map, DMABUF_MOVER_WRAP_SIZE);
	close(c.fd);
	close(fd);
	return T_EXIT_PASS;
}
