// SPDX-License-Identifier: MIT
/*
 * WRITE_FIXED into a range whose page cache another thread keeps dirtying
 * through a shared mapping of the file, on ext4 and xfs, with a udmabuf
 * and with a premapped buffer.
 *
 * Before a direct write the kernel writes back and invalidates the page
 * cache of its range; a page dirtied again in between cannot be
 * invalidated, and where ordinary direct I/O falls back to buffered I/O a
 * dma-buf write must fail -EBUSY (the CPU cannot copy from the dma-buf).
 * So every write must move its whole length or fail -EBUSY, nothing
 * else, and some must fail: 60 writes, more until one did (up to 240; in
 * this bed three in four do, a write that fell back to the page cache
 * would never).  Afterwards, with the mapping gone, a last write must
 * succeed and be read back with read(2) through the page cache after
 * dropping it.
 */
#include "fs-buf.h"

#include <pthread.h>
#include <stdatomic.h>

#define B		4096U
#define RANGE		(16 * B)
#define SEED		0xc011
#define SEED_MAP	0x3a9

static struct io_uring ring;
static atomic_int stop;
static unsigned char *fmap;
static unsigned long dirtied;

static void *dirtier(void *arg)
{
	unsigned char *page = t_malloc(B);
	unsigned int i = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		size_t off = (size_t)(i++ % (RANGE / B)) * B;

		t_fill(page, B, off, SEED_MAP);
		memcpy(fmap + off, page, B);
		dirtied++;
	}
	free(page);
	return NULL;
}

static void test(struct ft_fs *f, int kind)
{
	const char *where = ft_where(f, kind);
	unsigned long n = t_scale(60), i, busy = 0;
	struct ft_buf b;
	pthread_t thr;
	int fd, ret;

	fd = ft_create(f, "collide", 0);
	dt_dev_fill(fd, 0, RANGE, SEED);
	fmap = t_mmap(fd, RANGE, PROT_READ | PROT_WRITE);
	ft_buf_alloc(&b, kind, RANGE);
	ft_fill(&b, 0, RANGE, 0, SEED);
	ft_register(&ring, 0, &b, fd);

	atomic_store(&stop, 0);
	dirtied = 0;
	if (pthread_create(&thr, NULL, dirtier, NULL))
		t_fail("pthread_create");
	for (i = 0; i < 4 * n && (i < n || !busy); i++) {
		unsigned int len = (1 + i % (RANGE / B)) * B;

		ret = ft_io(&ring, 1, fd, &b, 0, 0, len, 0);
		if (ret == -EBUSY)
			busy++;
		else
			dt_expect_len(ret, len, "%s: WRITE_FIXED %lu of %u bytes into a dirtied range",
				      where, i, len);
	}
	atomic_store(&stop, 1);
	pthread_join(thr, NULL);
	munmap(fmap, RANGE);
	if (!busy)
		t_fail("%s: %lu writes into a range dirtied through a mapping all succeeded: none met a page it could not invalidate?",
		       where, i);

	dt_expect_len(ft_io(&ring, 1, fd, &b, 0, 0, RANGE, 0), RANGE,
		      "%s: WRITE_FIXED after the mapping went", where);
	ft_clear(&ring, 0);
	ft_buf_free(&b);
	close(fd);
	if (ft_file_verify(ft_path(f, "collide"), 0, RANGE, SEED, where))
		t_fail("%s: the last write is not in the file", where);
	unlink(ft_path(f, "collide"));
	printf("%s: %lu writes while %lu pages were dirtied through a mapping: %lu -EBUSY, the rest whole\n",
	       where, i, dirtied, busy);
}

int main(void)
{
	ft_start();
	return ft_run(&ring, 8, test, FT_NKINDS, 0, NULL);
}
