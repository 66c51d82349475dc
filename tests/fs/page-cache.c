// SPDX-License-Identifier: MIT
/*
 * dma-buf I/O and the page cache of the same file, on ext4 and xfs, with a
 * udmabuf and with a premapped buffer: as for any direct I/O, a read sees
 * what buffered writes and a shared mapping left dirty in the page cache
 * (written back first), and buffered reads and the mapping see what a write
 * put on the drive (the cached pages dropped), nothing stale.
 *
 *   buffered write, not synced, then READ_FIXED: the new data;
 *   page cache filled by buffered reads, then WRITE_FIXED, then buffered
 *     read (caches not dropped): the new data;
 *   mapping read (pages mapped), then WRITE_FIXED, then the mapping: the
 *     new data;
 *   store through the mapping, not synced, then READ_FIXED: the new data.
 * At the end the file, read with read(2) after dropping the page cache,
 * holds all of it.
 */
#include "fs-buf.h"

#include <sys/mman.h>

#define K64		(64 * FT_KIB)
#define SIZE		(4 * K64)
#define S0		0x9c00

static struct io_uring ring;

static void test(struct ft_fs *f, int kind)
{
	const char *where = ft_where(f, kind);
	unsigned char *want = t_malloc(SIZE), *tmp = t_malloc(SIZE), *map;
	struct ft_buf b;
	char what[96];
	int fd, pfd;

	fd = ft_create(f, "pc", 0);
	t_fill(want, SIZE, 0, S0);
	dt_dev_fill(fd, 0, SIZE, S0);
	pfd = open(ft_path(f, "pc"), O_RDWR | O_CLOEXEC);
	if (pfd < 0)
		t_fail("%s: buffered open: %s", where, strerror(errno));
	ft_buf_alloc(&b, kind, SIZE);
	ft_register(&ring, 0, &b, fd);

	/* a buffered write left dirty */
	t_fill(want + K64, K64 / 2, K64, S0 + 1);
	if (pwrite(pfd, want + K64, K64 / 2, K64) != K64 / 2)
		t_fail("%s: buffered pwrite: %s", where, strerror(errno));
	snprintf(what, sizeof(what), "%s: READ_FIXED after a buffered write", where);
	ft_poison(&b, 0, 2 * K64);
	dt_expect_len(ft_io(&ring, 0, fd, &b, 0, 0, 2 * K64, K64 / 2), 2 * K64, "%s", what);
	if (ft_cmp(&b, 0, want + K64 / 2, 2 * K64, what))
		t_fail("%s: stale data", what);

	/* cached pages, then a write */
	if (pread(pfd, tmp, SIZE, 0) != SIZE)
		t_fail("%s: buffered pread: %s", where, strerror(errno));
	t_fill(want + 2 * K64, K64, 2 * K64, S0 + 2);
	ft_fill(&b, 0, K64, 2 * K64, S0 + 2);
	snprintf(what, sizeof(what), "%s: buffered read after WRITE_FIXED", where);
	dt_expect_len(ft_io(&ring, 1, fd, &b, 0, 0, K64, 2 * K64), K64, "%s", what);
	if (pread(pfd, tmp, SIZE, 0) != SIZE || memcmp(tmp, want, SIZE))
		t_fail("%s: the page cache kept stale data", what);

	/* mapped pages, then a write */
	map = t_mmap(pfd, SIZE, PROT_READ | PROT_WRITE);
	memcpy(tmp, map, SIZE);
	t_fill(want + 3 * K64, K64, 3 * K64, S0 + 3);
	ft_fill(&b, 0, K64, 3 * K64, S0 + 3);
	snprintf(what, sizeof(what), "%s: the mapping after WRITE_FIXED", where);
	dt_expect_len(ft_io(&ring, 1, fd, &b, 0, 0, K64, 3 * K64), K64, "%s", what);
	if (memcmp(map, want, SIZE))
		t_fail("%s: the mapping kept stale data", what);

	/* a store through the mapping left dirty */
	t_fill(want, 4096, 0, S0 + 4);
	memcpy(map, want, 4096);
	snprintf(what, sizeof(what), "%s: READ_FIXED after a store through the mapping", where);
	ft_poison(&b, 0, 2 * 4096);
	dt_expect_len(ft_io(&ring, 0, fd, &b, 0, 0, 2 * 4096, 0), 2 * 4096, "%s", what);
	if (ft_cmp(&b, 0, want, 2 * 4096, what))
		t_fail("%s: stale data", what);

	munmap(map, SIZE);
	ft_clear(&ring, 0);
	ft_buf_free(&b);
	close(pfd);
	close(fd);
	if (ft_file_cmp(ft_path(f, "pc"), 0, want, SIZE, where))
		t_fail("%s: the file does not hold what was written", where);
	unlink(ft_path(f, "pc"));
	free(want);
	free(tmp);
	printf("%s: buffered writes, cached pages, mapped pages and stores through the mapping: coherent\n",
	       where);
}

int main(void)
{
	ft_start();
	return ft_run(&ring, 8, test, FT_NKINDS, 0, NULL);
}
