// SPDX-License-Identifier: MIT
/*
 * Smoke: ordinary registered buffers (io_uring_register_buffers) with
 * IORING_OP_WRITE_FIXED / READ_FIXED on the NVMe bed drives.  I/O starts at
 * the beginning, the middle and the very end of each registered buffer, one
 * buffer does not start on a page boundary, data written through one slot
 * is read back through the other and through a plain READ, and an address
 * outside the registered range fails with -EFAULT.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include "test.h"

#define SLOT0_SIZE	(4U << 20)
#define SLOT1_SIZE	(1U << 20)
#define SLOT1_SKEW	512		/* slot 1 starts 512 bytes into a page */

struct fixed_case {
	int wslot, rslot;		/* write from, read into */
	unsigned int woff, roff;	/* offsets into the slots */
	unsigned int len;
};

static const struct fixed_case cases[] = {
	{ 0, 0, 0, 0, 512 },
	{ 0, 0, 4096, 8192, 4096 },
	{ 0, 1, 512, 1536, 65536 },
	{ 1, 0, 0, 0, SLOT1_SIZE },			/* all of slot 1 */
	{ 0, 0, 0, 0, SLOT0_SIZE },			/* all of slot 0 */
	{ 0, 1, SLOT0_SIZE - 4096, SLOT1_SIZE - 4096, 4096 },	/* ends at the end */
	{ 1, 1, 3584, 0, 131072 + 512 },
};

static char *slot[2];

static void check_io(int ret, unsigned int len, const char *op, int n, uint64_t off)
{
	if (ret != (int)len)
		t_fail("drive %d: %s %u bytes at %llu: res %d (%s)", n, op, len,
		       (unsigned long long)off, ret, ret < 0 ? strerror(-ret) : "short");
}

static void test_drive(struct io_uring *ring, int n)
{
	unsigned int i, seed = 10 + n;
	uint64_t off = 0;
	char *plain = t_malloc(SLOT0_SIZE);
	int fd = t_open_nvme(n, 0), ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++, seed++) {
		const struct fixed_case *c = &cases[i];
		char *w = slot[c->wslot] + c->woff, *r = slot[c->rslot] + c->roff;
		char what[96];

		t_fill(w, c->len, off, seed);
		ret = t_io(ring, IORING_OP_WRITE_FIXED, fd, (uintptr_t)w, c->len, off, c->wslot);
		check_io(ret, c->len, "WRITE_FIXED", n, off);
		memset(r, 0x5a, c->len);
		ret = t_io(ring, IORING_OP_READ_FIXED, fd, (uintptr_t)r, c->len, off, c->rslot);
		check_io(ret, c->len, "READ_FIXED", n, off);
		snprintf(what, sizeof(what), "drive %d case %u: slot %d +%u -> slot %d +%u",
			 n, i, c->wslot, c->woff, c->rslot, c->roff);
		if (t_verify(r, c->len, off, seed, what))
			t_fail("%s: READ_FIXED data differs", what);
		memset(plain, 0x5a, c->len);
		ret = t_io(ring, IORING_OP_READ, fd, (uintptr_t)plain, c->len, off, -1);
		check_io(ret, c->len, "READ", n, off);
		if (t_verify(plain, c->len, off, seed, what))
			t_fail("%s: plain READ after WRITE_FIXED differs", what);
		off += c->len + 4096;
	}

	/* an I/O reaching 4 KiB past the end of slot 1 */
	ret = t_io(ring, IORING_OP_READ_FIXED, fd,
		   (uintptr_t)slot[1] + SLOT1_SIZE - 4096, 8192, 0, 1);
	if (ret != -EFAULT)
		t_fail("drive %d: READ_FIXED past the registered buffer: res %d, want -EFAULT",
		       n, ret);
	printf("drive %d (%s): %zu cases ok\n", n, t_nvme_path(n),
	       sizeof(cases) / sizeof(cases[0]));
	free(plain);
	close(fd);
}

int main(void)
{
	struct io_uring ring;
	struct iovec iov[2];
	char *skewed;
	int ret;

	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		t_missing("io_uring (CONFIG_IO_URING): io_uring_queue_init: %s", strerror(-ret));
	slot[0] = t_malloc(SLOT0_SIZE);
	skewed = t_malloc(SLOT1_SIZE + 4096);
	slot[1] = skewed + SLOT1_SKEW;
	iov[0] = (struct iovec){ slot[0], SLOT0_SIZE };
	iov[1] = (struct iovec){ slot[1], SLOT1_SIZE };
	ret = io_uring_register_buffers(&ring, iov, 2);
	if (ret)
		t_fail("io_uring_register_buffers: %s", strerror(-ret));

	test_drive(&ring, 0);
	if (t_bed_drives() > 1)
		test_drive(&ring, 1);
	else
		printf("a bed of one drive: split I/O not covered\n");

	ret = io_uring_unregister_buffers(&ring);
	if (ret)
		t_fail("io_uring_unregister_buffers: %s", strerror(-ret));
	io_uring_queue_exit(&ring);
	free(slot[0]);
	free(skewed);
	return T_EXIT_PASS;
}
