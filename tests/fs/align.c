// SPDX-License-Identifier: MIT
/*
 * READ_FIXED and WRITE_FIXED on a file at the offsets and sizes its direct
 * I/O alignment allows (statx STATX_DIOALIGN), on ext4 and on xfs, with a
 * udmabuf and with a premapped buffer.
 *
 * File offsets are {0, 1, 3, 7, 8, 2049} and sizes {1, 7, 8, 9, 129, 2051}
 * times the file offset alignment (512 on the bed's drives: sub-block,
 * block-straddling, a 64 KiB + 512 I/O that the xfs drive's 32 KiB MDTS
 * splits, and 1 MiB + 1.5 KiB); buffer offsets {0, 1} times the memory
 * alignment, one block minus it and one block plus a sector.  Each
 * combination reads (guards poisoned around the destination) and then
 * writes a new pattern, checked at once with a plain O_DIRECT pread.  The
 * test keeps a copy of what the file must hold; at the end the page cache
 * is dropped and the whole file read with read(2) must equal it.
 */
#include "fs-buf.h"

#define FILE_SIZE	(4 * DT_MIB)
#define BUF_SIZE	(2 * DT_MIB)
#define SEED		0xa11e
#define GUARD		512U

static struct io_uring ring;
static unsigned char *shadow;	/* what the file holds */
static uint32_t wseed = SEED;	/* a new pattern for every write */

static void one(const char *where, int fd, const struct ft_buf *b, size_t boff,
		unsigned int len, uint64_t off)
{
	size_t lo = boff >= GUARD ? boff - GUARD : 0;
	size_t hi = boff + len + GUARD <= b->size ? boff + len + GUARD : b->size;
	char what[192];
	int ret;

	snprintf(what, sizeof(what), "%s: %u bytes at file offset %llu, buffer +%zu",
		 where, len, (unsigned long long)off, boff);
	ft_poison(b, lo, hi - lo);
	ret = ft_io(&ring, 0, fd, b, 0, boff, len, off);
	dt_expect_len(ret, len, "%s: READ_FIXED", what);
	if (ft_cmp(b, boff, shadow + off, len, what) ||
	    ft_check_poison(b, lo, boff - lo, "guard before") ||
	    ft_check_poison(b, boff + len, hi - boff - len, "guard after"))
		t_fail("%s: READ_FIXED delivered wrong data", what);

	wseed++;
	ft_fill(b, boff, len, off, wseed);
	t_fill(shadow + off, len, off, wseed);
	ret = ft_io(&ring, 1, fd, b, 0, boff, len, off);
	dt_expect_len(ret, len, "%s: WRITE_FIXED", what);
	if (ft_dio_cmp(fd, off, shadow + off, len, what))
		t_fail("%s: WRITE_FIXED stored wrong data", what);
}

static void test(struct ft_fs *f, int kind)
{
	static const unsigned int offs[] = { 0, 1, 3, 7, 8, 2049 };
	static const unsigned int lens[] = { 1, 7, 8, 9, 129, 2051 };
	unsigned int i, j, k, n = 0, boffs[4];
	struct ft_align a;
	struct ft_buf b;
	const char *where = ft_where(f, kind);
	long bios;
	int fd;

	fd = ft_create(f, "align", 0);
	a = ft_dioalign(fd);
	if (4096 % a.mem || a.off > 4096 || 4096 % a.off)
		t_fail("%s: direct I/O alignment mem %u, offset %u: not what the matrix assumes",
		       where, a.mem, a.off);
	boffs[0] = 0;
	boffs[1] = a.mem;
	boffs[2] = 4096 - a.mem;
	boffs[3] = 4096 + a.off;

	/* the file's first contents, written the ordinary way */
	t_fill(shadow, FILE_SIZE, 0, SEED);
	if (pwrite(fd, shadow, FILE_SIZE, 0) != FILE_SIZE)
		t_fail("%s: pwrite: %s", where, strerror(errno));

	ft_buf_alloc(&b, kind, BUF_SIZE);
	ft_register(&ring, 0, &b, fd);
	bios = pt_bios();
	for (i = 0; i < DT_ARRAY_SIZE(offs); i++)
		for (j = 0; j < DT_ARRAY_SIZE(boffs); j++)
			for (k = 0; k < DT_ARRAY_SIZE(lens); k++, n += 2)
				one(where, fd, &b, boffs[j], lens[k] * a.off,
				    (uint64_t)offs[i] * a.off);
	ft_expect_path(&b, bios, n, where);
	ft_clear(&ring, 0);
	ft_buf_free(&b);
	close(fd);

	if (ft_file_cmp(ft_path(f, "align"), 0, shadow, FILE_SIZE, where))
		t_fail("%s: the file does not hold what was written", where);
	printf("%s: alignment mem %u, offset %u (reads %u): %u I/Os verified\n",
	       where, a.mem, a.off, a.read_off, n);
}

int main(void)
{
	ft_start();
	shadow = t_malloc(FILE_SIZE);
	return ft_run(&ring, 8, test, FT_NKINDS, 0, "align");
}
