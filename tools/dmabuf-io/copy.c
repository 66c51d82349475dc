// SPDX-License-Identifier: MIT
/*
 * dmabuf-io copy: SRC -> dma-buf -> DST, chunk by chunk, QD chunks in
 * flight, then verify.  Each side moves data with READ_FIXED or
 * WRITE_FIXED on the dma-buf registered for it: a block device, or a file
 * on ext4 or xfs (iomap direct I/O to the file system's device).  A file
 * the kernel refuses (another file system, inline data, data journalling,
 * encryption, verity, DAX, no O_DIRECT) bounces through host memory and
 * the dma-buf's mmap instead, with a note saying why, as the output does.
 * A dma-buf read from a file ends short before a hole or an unwritten
 * extent (-ENODATA if it starts in one): the rest of such a chunk is read
 * into host memory and copied into the dma-buf by the CPU, and counted.
 *
 * Verification is independent of the copy path: SRC and DST are read back
 * with plain O_DIRECT reads and compared, and a hash of every chunk as the
 * CPU saw it in the dma-buf (after DMA_BUF_IOCTL_SYNC) is compared with the
 * hash of the source data, so data misplaced symmetrically by the read and
 * the write is caught too.  A dma-buf the CPU cannot map (device memory,
 * VRAM) is verified through the drives only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/dma-buf.h>

#include "dmabuf-io.h"
#include "dmabuf-rw.h"

static const char copy_help[] =
"usage: dmabuf-io copy [options] SRC DST\n"
"\n"
"Copy SRC to DST through one dma-buf and verify the result.  Each side uses the\n"
"dma-buf directly, READ_FIXED from SRC into it and WRITE_FIXED from it to DST,\n"
"if it is an NVMe block device or a file on ext4 or xfs.  A file the kernel\n"
"refuses (another file system; inline data, data journalling, encryption,\n"
"verity, DAX) bounces through host memory and the dma-buf's mmap instead, with\n"
"a note saying why.  Holes and unwritten extents of a SRC file, which dma-buf\n"
"reads stop at, are read into host memory and copied in by the CPU.  DST is\n"
"created if it does not exist.\n"
"\n"
"  -s, --size SIZE        bytes to copy (default: SRC from --src-offset to its end)\n"
"  -i, --src-offset OFF   where to start reading SRC (default 0)\n"
"  -o, --dst-offset OFF   where to start writing DST (default 0)\n"
"  -b, --bs SIZE          I/O size, one chunk of the dma-buf (default 1m)\n"
"  -q, --qd N             chunks in flight (default 4); the dma-buf is QD x BS\n"
"  -d, --dmabuf KIND      udmabuf (default), heap (the system dma-heap), heap:NAME,\n"
"                         fd:N (a dma-buf passed in as descriptor N), drm:PATH\n"
"                         (a GEM buffer of DRM device PATH, /dev/dri/card0),\n"
"                         vfio:BDF[/BAR] (device memory: a BAR of a PCI device\n"
"                         bound to vfio-pci)\n"
"      --no-cpu-map       never map the dma-buf for the CPU (as for device\n"
"                         memory that cannot be): verify through the drives only\n"
"      --force            write to DST even when it is in use (mounted, swap,\n"
"                         held by device-mapper or md, opened exclusively)\n"
"      --no-verify        skip the read-back comparison\n"
"  -h, --help             this text\n"
"\n"
"Numbers are decimal (0x for hex).  Sizes take k, m, g, t suffixes, binary\n"
"(4k = 4KiB = 4096), or with B decimal (4kB = 4000); SIZE and offsets must\n"
"be multiples of the devices' block size.  Exit status: 0 copied and verified, 1 failed (I/O error\n"
"or a difference, with its first offset), 2 bad usage.\n"
"\n"
"example: dmabuf-io copy -s 64m -o 1g /dev/nvme0n1 /dev/nvme1n1\n";

static const struct option copy_opts[] = {
	{ "size",	required_argument, NULL, 's' },
	{ "src-offset",	required_argument, NULL, 'i' },
	{ "dst-offset",	required_argument, NULL, 'o' },
	{ "bs",		required_argument, NULL, 'b' },
	{ "qd",		required_argument, NULL, 'q' },
	{ "dmabuf",	required_argument, NULL, 'd' },
	{ "no-verify",	no_argument,	   NULL, 'V' },
	{ "no-cpu-map",	no_argument,	   NULL, 'M' },
	{ "force",	no_argument,	   NULL, 'F' },
	{ "help",	no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct copy_side {
	struct dio_target *t;
	uint64_t off;
	bool direct_io;		/* dma-buf registered for it */
	unsigned int slot;
	char why[600];		/* a file the kernel refused: why */
};

struct copy {
	const char *src_path, *dst_path;
	uint64_t size, soff, doff;
	bool have_size, verify, no_map, force;
	unsigned int bs, qd;
	const char *spec;

	struct dio_target src_t, dst_t;
	struct copy_side src, dst;
	struct dio_dmabuf dbuf;
	struct io_uring ring;
	unsigned char *host;	/* bounce memory for file sides, QD x BS */
	uint64_t nchunks, next_chunk;
	uint64_t *chunk_of;	/* per slot: its chunk */
	uint64_t *hash;		/* per chunk: as seen in the dma-buf */
	unsigned int *again;	/* per slot: consecutive -EAGAIN */
	uint64_t eagain;
	uint64_t holes;		/* chunks of SRC whose rest the CPU read */
};

#define BAD(...)	do { dio_usage_err("copy", __VA_ARGS__); return -1; } while (0)

static int copy_parse(struct copy *c, int argc, char **argv)
{
	uint64_t v;
	int o;

	c->bs = 1 << 20;
	c->qd = 4;
	c->spec = "udmabuf";
	c->verify = true;
	optind = 1;
	while ((o = getopt_long(argc, argv, "s:i:o:b:q:d:h", copy_opts, NULL)) != -1) {
		switch (o) {
		case 's':
			if (dio_parse_size(optarg, &c->size) || !c->size)
				BAD("bad --size '%s': a size, e.g. 64m", optarg);
			c->have_size = true;
			break;
		case 'i':
			if (dio_parse_size(optarg, &c->soff))
				BAD("bad --src-offset '%s': a size, e.g. 0, 1m", optarg);
			break;
		case 'o':
			if (dio_parse_size(optarg, &c->doff))
				BAD("bad --dst-offset '%s': a size, e.g. 0, 1m", optarg);
			break;
		case 'b':
			if (dio_parse_size(optarg, &v) || !v || v > (64U << 20))
				BAD("bad --bs '%s': a size from 512 to 64m", optarg);
			c->bs = v;
			break;
		case 'q':
			if (dio_parse_uint(optarg, 1, 256, &v))
				BAD("bad --qd '%s': a number from 1 to 256", optarg);
			c->qd = v;
			break;
		case 'd':
			if (dio_dmabuf_check_spec(optarg))
				BAD("unknown --dmabuf '%s': use udmabuf, heap, heap:NAME, fd:N, "
				    "drm:PATH or vfio:BDF[/BAR]", optarg);
			c->spec = optarg;
			break;
		case 'V':
			c->verify = false;
			break;
		case 'M':
			c->no_map = true;
			break;
		case 'F':
			c->force = true;
			break;
		case 'h':
			fputs(copy_help, stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'dmabuf-io copy --help'.\n");
			return -1;
		}
	}
	if (argc - optind != 2)
		BAD("%s", argc - optind < 2 ? "need SRC and DST" : "too many arguments: SRC DST only");
	c->src_path = argv[optind];
	c->dst_path = argv[optind + 1];
	return 0;
}

/* Open both sides; one shared descriptor when they are the same device. */
static int copy_open(struct copy *c)
{
	struct stat s, d;
	int fd;

	if (stat(c->src_path, &s)) {
		dio_err("%s: %s", c->src_path, strerror(errno));
		return -2;
	}
	if (stat(c->dst_path, &d) && errno == ENOENT) {
		fd = open(c->dst_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			dio_err("%s: cannot create it: %s", c->dst_path, strerror(errno));
			return -2;
		}
		close(fd);
	}
	if (stat(c->dst_path, &d)) {
		dio_err("%s: %s", c->dst_path, strerror(errno));
		return -2;
	}
	c->src.t = &c->src_t;
	c->dst.t = &c->dst_t;
	if (S_ISBLK(s.st_mode) && S_ISBLK(d.st_mode) && s.st_rdev == d.st_rdev) {
		if (dio_target_open(&c->dst_t, c->dst_path, true, false, c->force))
			return -2;
		c->src.t = &c->dst_t;
	} else {
		if (S_ISREG(s.st_mode) && S_ISREG(d.st_mode) &&
		    s.st_dev == d.st_dev && s.st_ino == d.st_ino)
			c->dst.t = c->src.t;	/* same file: overlap checked below */
		if (dio_target_open(&c->src_t, c->src_path, c->dst.t == c->src.t, false,
				    c->force))
			return -2;
		if (c->dst.t != c->src.t &&
		    dio_target_open(&c->dst_t, c->dst_path, true, false, c->force))
			return -2;
	}
	return 0;
}

static int copy_check(struct copy *c)
{
	unsigned int lb = c->src.t->lbsize > c->dst.t->lbsize ?
			  c->src.t->lbsize : c->dst.t->lbsize;

	if (c->soff >= c->src.t->size)
		BAD("--src-offset %llu is at or beyond the end of %s (%llu bytes)",
		    (unsigned long long)c->soff, c->src_path,
		    (unsigned long long)c->src.t->size);
	if (!c->have_size)
		c->size = c->src.t->size - c->soff;
	if (c->size > c->src.t->size - c->soff)
		BAD("--size %llu from --src-offset %llu reaches beyond the end of %s (%llu bytes)",
		    (unsigned long long)c->size, (unsigned long long)c->soff, c->src_path,
		    (unsigned long long)c->src.t->size);
	if (c->dst.t->blockdev && (c->doff > c->dst.t->size || c->size > c->dst.t->size - c->doff))
		BAD("%llu bytes at --dst-offset %llu do not fit in %s (%llu bytes)",
		    (unsigned long long)c->size, (unsigned long long)c->doff, c->dst_path,
		    (unsigned long long)c->dst.t->size);
	if (c->size % lb || c->soff % lb || c->doff % lb || c->bs % lb)
		BAD("size, offsets and --bs must be multiples of the block size (%u)%s", lb,
		    c->have_size ? "" : "; SRC's size is not: give --size");
	if (c->src.t == c->dst.t && c->soff < c->doff + c->size && c->doff < c->soff + c->size)
		BAD("source and destination ranges overlap on %s", c->src_path);
	return 0;
}

/*
 * Register the dma-buf in slot for side s.  A block device must take it; a
 * file the kernel refuses (or a kernel without dma-buf I/O) leaves the side
 * to the CPU path, with a note saying why.  0, or -1 after the message.
 */
static int copy_register(struct copy *c, struct copy_side *s, unsigned int slot)
{
	struct dio_target *t = s->t;
	char why[512];
	int ret, probe;

	if (t->blockdev) {
		if (dio_dmabuf_register(&c->ring, slot, &c->dbuf, t))
			return -1;
		s->direct_io = true;
		return 0;
	}
	/* without O_DIRECT (the file system has none) the kernel says EINVAL */
	ret = t->direct ? dmabuf_rw_register_dmabuf(&c->ring, slot, c->dbuf.fd, t->fd) : -EINVAL;
	if (!ret) {
		s->direct_io = true;
		return 0;
	}
	probe = dmabuf_rw_probe();
	if (probe == -EOPNOTSUPP) {
		snprintf(why, sizeof(why), "this kernel has no dma-buf registered buffers");
	} else if (!probe && dio_file_refused(ret, t)) {
		dio_file_unsupported_why(t, why, sizeof(why));
	} else {
		dio_dmabuf_register_err(ret, &c->dbuf, t);
		return -1;
	}
	snprintf(s->why, sizeof(s->why), "%s (%s)", why, strerror(-ret));
	return 0;
}

/* Register the dma-buf for each side (once if they share the target). */
static int copy_setup(struct copy *c)
{
	size_t area = (size_t)c->qd * c->bs;
	const struct copy_side *cpu;
	int ret;

	if (c->size < area)
		area = (c->size + c->bs - 1) / c->bs * c->bs;
	c->qd = area / c->bs;
	c->nchunks = (c->size + c->bs - 1) / c->bs;
	if (dio_dmabuf_create(&c->dbuf, c->spec, area))
		return -1;
	c->dbuf.no_map = c->no_map;
	ret = dio_ring_init(&c->ring, c->qd, false);
	if (ret) {
		dio_err("io_uring_queue_init: %s", strerror(-ret));
		return -1;
	}
	ret = io_uring_register_buffers_sparse(&c->ring, 2);
	if (ret) {
		dio_err("io_uring_register_buffers_sparse: %s", strerror(-ret));
		return -1;
	}
	if (copy_register(c, &c->src, 0))
		return -1;
	c->dst.slot = c->dst.t == c->src.t ? 0 : 1;
	if (!c->dst.slot) {
		c->dst.direct_io = c->src.direct_io;
		memcpy(c->dst.why, c->src.why, sizeof(c->dst.why));
	} else if (copy_register(c, &c->dst, 1)) {
		return -1;
	}
	/*
	 * A side the kernel refused bounces through the CPU view; the hash
	 * check and holes in a file SRC want it too, where there is one.
	 */
	cpu = !c->src.direct_io ? &c->src : !c->dst.direct_io ? &c->dst : NULL;
	if (dio_dmabuf_map(&c->dbuf, false) && cpu) {
		dio_err("%s cannot take dma-buf I/O: %s; and the copy through the CPU needs "
			"the dma-buf's CPU mapping, which %s", cpu->t->path, cpu->why,
			c->no_map ? "--no-cpu-map forbids" : "its exporter does not give");
		return -1;
	}
	if (cpu && (c->src.direct_io || c->dst.direct_io || c->src.t == c->dst.t))
		dio_err("note: %s cannot take dma-buf I/O: %s; it goes through host memory "
			"and the dma-buf's CPU mapping instead", cpu->t->path, cpu->why);
	else if (cpu)
		dio_err("note: neither side takes dma-buf I/O: %s: %s; %s: %s; both go through "
			"host memory and the dma-buf's CPU mapping", c->src.t->path, c->src.why,
			c->dst.t->path, c->dst.why);
	c->src.off = c->soff;
	c->dst.off = c->doff;
	/* bounce memory; a file SRC's holes are read there too */
	if (cpu || !c->src.t->blockdev) {
		if (posix_memalign((void **)&c->host, 4096, area)) {
			dio_err("out of memory");
			return -1;
		}
	}
	c->chunk_of = calloc(c->qd, sizeof(*c->chunk_of));
	c->hash = calloc(c->nchunks, sizeof(*c->hash));
	c->again = calloc(c->qd, sizeof(*c->again));
	if (!c->chunk_of || !c->hash || !c->again) {
		dio_err("out of memory");
		return -1;
	}
	return 0;
}

static uint64_t copy_hash(const unsigned char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ len, w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static unsigned int copy_len(const struct copy *c, uint64_t chunk)
{
	uint64_t left = c->size - chunk * c->bs;

	return left < c->bs ? left : c->bs;
}

/* user_data: slot << 1 | phase (0 read, 1 write) */
static void copy_prep(struct copy *c, unsigned int slot, int phase)
{
	struct copy_side *s = phase ? &c->dst : &c->src;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);
	uint64_t chunk = c->chunk_of[slot], off = s->off + chunk * c->bs;
	unsigned int len = copy_len(c, chunk);
	size_t at = (size_t)slot * c->bs;

	if (s->direct_io && phase)	/* the offset into the dma-buf */
		dmabuf_rw_prep_write(sqe, s->t->fd, s->slot, c->dbuf.base + at, len, off);
	else if (s->direct_io)
		dmabuf_rw_prep_read(sqe, s->t->fd, s->slot, c->dbuf.base + at, len, off);
	else
		io_uring_prep_rw(phase ? IORING_OP_WRITE : IORING_OP_READ,
				 sqe, s->t->fd, c->host + at, len, off);
	io_uring_sqe_set_data64(sqe, (uint64_t)slot << 1 | phase);
}

/* CPU access to slot's chunk in the dma-buf, bracketed by the sync ioctl. */
static int copy_cpu(struct copy *c, unsigned int slot, int what)
{
	unsigned long long dir = what == 1 ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ;
	size_t at = (size_t)slot * c->bs;
	unsigned int len = copy_len(c, c->chunk_of[slot]);
	int ret;

	ret = dio_dmabuf_sync(&c->dbuf, DMA_BUF_SYNC_START | dir);
	if (ret)
		goto fail;
	if (what == 0)		/* hash what the read left in the dma-buf */
		c->hash[c->chunk_of[slot]] = copy_hash(c->dbuf.map + at, len);
	else if (what == 1)	/* bounce in: host -> dma-buf */
		memcpy(c->dbuf.map + at, c->host + at, len);
	else			/* bounce out: dma-buf -> host */
		memcpy(c->host + at, c->dbuf.map + at, len);
	ret = dio_dmabuf_sync(&c->dbuf, DMA_BUF_SYNC_END | dir);
	if (!ret)
		return 0;
fail:
	dio_err("DMA_BUF_IOCTL_SYNC: %s", strerror(-ret));
	return -1;
}

/*
 * A dma-buf read from the file SRC delivered got of the chunk's len bytes
 * and stopped before a hole or an unwritten extent (-ENODATA: got 0).  The
 * rest is read with an ordinary read into host memory, where holes are
 * zeroes, and copied into the dma-buf by the CPU.  -1 after a message when
 * that cannot be done.
 */
static int copy_fill_hole(struct copy *c, unsigned int slot, unsigned int got, int res)
{
	uint64_t off = c->src.off + c->chunk_of[slot] * c->bs;
	unsigned int len = copy_len(c, c->chunk_of[slot]), done;
	size_t at = (size_t)slot * c->bs;
	char why[600];
	ssize_t r;
	int ret;

	if (!c->dbuf.map) {
		dio_err("reading %u bytes at offset %llu of %s: %s; and the dma-buf has no CPU "
			"mapping to copy those zeroes in through", len, (unsigned long long)off,
			c->src.t->path, dio_file_io_why(c->src.t, false, res, len, why, sizeof(why)));
		return -1;
	}
	for (done = got; done < len; done += r) {
		r = pread(c->src.t->fd, c->host + at + done, len - done, off + done);
		if (r <= 0) {
			dio_err("reading %s at %llu (the rest of a chunk after a hole): %s",
				c->src.t->path, (unsigned long long)(off + done),
				r < 0 ? strerror(errno) : "end of file");
			return -1;
		}
	}
	ret = dio_dmabuf_sync(&c->dbuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	if (!ret) {
		memcpy(c->dbuf.map + at + got, c->host + at + got, len - got);
		ret = dio_dmabuf_sync(&c->dbuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	}
	if (ret) {
		dio_err("DMA_BUF_IOCTL_SYNC: %s", strerror(-ret));
		return -1;
	}
	c->holes++;
	return 0;
}

/* Start the write of a chunk that is now in the dma-buf. */
static int copy_read_done(struct copy *c, unsigned int slot)
{
	if (!c->src.direct_io && copy_cpu(c, slot, 1))
		return -1;
	if (c->verify && c->dbuf.map && copy_cpu(c, slot, 0))
		return -1;
	if (!c->dst.direct_io && copy_cpu(c, slot, 2))
		return -1;
	copy_prep(c, slot, 1);
	return 0;
}

static int copy_run(struct copy *c)
{
	unsigned int slot, inflight = 0, head, seen;
	struct io_uring_cqe *cqe;
	char msg[600];
	int ret, phase;

	for (slot = 0; slot < c->qd && c->next_chunk < c->nchunks; slot++, inflight++) {
		c->chunk_of[slot] = c->next_chunk++;
		copy_prep(c, slot, 0);
	}
	while (inflight) {
		ret = io_uring_submit_and_wait(&c->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			dio_err("io_uring_submit_and_wait: %s", strerror(-ret));
			return -1;
		}
		seen = 0;
		io_uring_for_each_cqe(&c->ring, head, cqe) {
			uint64_t chunk;
			unsigned int len;

			seen++;
			slot = cqe->user_data >> 1;
			phase = cqe->user_data & 1;
			chunk = c->chunk_of[slot];
			len = copy_len(c, chunk);
			if (cqe->res == -EAGAIN && ++c->again[slot] < DIO_EAGAIN_MAX) {
				/* mapping invalidated: reissue */
				c->eagain++;
				copy_prep(c, slot, phase);
				continue;
			}
			if (cqe->res == -EAGAIN) {
				dio_err("an I/O failed with -EAGAIN %u times in a row: the exporter "
					"keeps moving the dma-buf", DIO_EAGAIN_MAX);
				return -1;
			}
			c->again[slot] = 0;
			/* a file SRC: short before a hole, or starting in one */
			if (!phase && c->src.direct_io && !c->src.t->blockdev &&
			    ((cqe->res >= 0 && cqe->res < (int)len) || cqe->res == -ENODATA)) {
				if (copy_fill_hole(c, slot, cqe->res > 0 ? cqe->res : 0, cqe->res))
					return -1;
			} else if (cqe->res != (int)len) {
				const struct copy_side *s = phase ? &c->dst : &c->src;
				const char *why = s->direct_io ?
					dio_file_io_why(s->t, phase, cqe->res, len, msg, sizeof(msg)) : NULL;

				dio_err("%s %u bytes at offset %llu of %s: %s",
					phase ? "writing" : "reading", len,
					(unsigned long long)(s->off + chunk * c->bs), s->t->path,
					why ? why : cqe->res < 0 ? strerror(-cqe->res) : "short transfer");
				return -1;
			}
			if (!phase) {
				if (copy_read_done(c, slot))
					return -1;
			} else if (c->next_chunk < c->nchunks) {
				c->chunk_of[slot] = c->next_chunk++;
				copy_prep(c, slot, 0);
			} else {
				inflight--;
			}
		}
		io_uring_cq_advance(&c->ring, seen);
	}
	if (fdatasync(c->dst.t->fd)) {
		dio_err("fdatasync %s: %s", c->dst_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Read both ranges back with plain O_DIRECT reads and compare. */
static int copy_verify(struct copy *c)
{
	unsigned char *a, *b;
	uint64_t chunk, pos;
	unsigned int len;
	ssize_t r;
	size_t i;
	int ret = -1;

	if (posix_memalign((void **)&a, 4096, c->bs) || posix_memalign((void **)&b, 4096, c->bs)) {
		dio_err("out of memory");
		return -1;
	}
	for (chunk = 0; chunk < c->nchunks; chunk++) {
		len = copy_len(c, chunk);
		pos = chunk * c->bs;
		r = pread(c->src.t->fd, a, len, c->soff + pos);
		if (r != (ssize_t)len) {
			dio_err("verify: reading %s at %llu: %s", c->src_path,
				(unsigned long long)(c->soff + pos), r < 0 ? strerror(errno) : "short");
			goto out;
		}
		r = pread(c->dst.t->fd, b, len, c->doff + pos);
		if (r != (ssize_t)len) {
			dio_err("verify: reading %s at %llu: %s", c->dst_path,
				(unsigned long long)(c->doff + pos), r < 0 ? strerror(errno) : "short");
			goto out;
		}
		if (memcmp(a, b, len)) {
			for (i = 0; a[i] == b[i]; i++)
				;
			dio_err("verify FAILED: %s offset %llu differs from %s offset %llu "
				"(got 0x%02x, want 0x%02x)", c->dst_path,
				(unsigned long long)(c->doff + pos + i), c->src_path,
				(unsigned long long)(c->soff + pos + i), b[i], a[i]);
			goto out;
		}
		if (c->dbuf.map && copy_hash(a, len) != c->hash[chunk]) {
			dio_err("verify FAILED: the dma-buf did not hold the data of %s offset %llu..%llu "
				"after it was read (CPU view after DMA_BUF_IOCTL_SYNC)", c->src_path,
				(unsigned long long)(c->soff + pos),
				(unsigned long long)(c->soff + pos + len - 1));
			goto out;
		}
	}
	ret = 0;
out:
	free(a);
	free(b);
	return ret;
}

static void copy_cleanup(struct copy *c)
{
	if (c->ring.ring_fd > 0)
		io_uring_queue_exit(&c->ring);
	dio_dmabuf_destroy(&c->dbuf);
	dio_target_close(&c->src_t);	/* an unused one has fd -1 */
	dio_target_close(&c->dst_t);
	free(c->host);
	free(c->chunk_of);
	free(c->hash);
	free(c->again);
}

static void copy_describe(const struct copy_side *s, int phase)
{
	char fs[128] = "";

	if (!s->t->blockdev)
		snprintf(fs, sizeof(fs), "%s on %s, ", s->t->fstype,
			 s->t->fssrc[0] ? s->t->fssrc : "?");
	if (s->direct_io)
		printf("  %s %s %s (%sIOMMU: %s): %s the dma-buf, registered for it\n",
		       phase ? "write" : "read ", phase ? "to  " : "from", s->t->path, fs,
		       s->t->iommu, phase ? "WRITE_FIXED from" : "READ_FIXED into");
	else
		printf("  %s %s %s: %s through host memory and the dma-buf's mmap: it "
		       "cannot take dma-buf I/O: %s\n",
		       phase ? "write" : "read ", phase ? "to  " : "from", s->t->path,
		       phase ? "WRITE" : "READ", s->why);
}

int dio_cmd_copy(int argc, char **argv)
{
	struct copy c;
	char sz[32], bs[32], area[32];
	double t0, t;
	int ret;

	memset(&c, 0, sizeof(c));
	c.src_t.fd = c.dst_t.fd = -1;
	c.dbuf.fd = -1;
	ret = copy_parse(&c, argc, argv);
	if (!ret)
		ret = copy_open(&c);
	if (!ret)
		ret = copy_check(&c);
	if (ret) {
		copy_cleanup(&c);
		return ret == -1 ? DIO_EXIT_USAGE : DIO_EXIT_FAIL;
	}
	if (copy_setup(&c)) {
		copy_cleanup(&c);
		return DIO_EXIT_FAIL;
	}
	printf("copy %s @%llu -> %s @%llu: %s in %llu chunk%s of %s, QD %u, through a %s %s\n",
	       c.src_path, (unsigned long long)c.soff, c.dst_path, (unsigned long long)c.doff,
	       dio_fmt_size(c.size, sz, sizeof(sz)), (unsigned long long)c.nchunks,
	       c.nchunks > 1 ? "s" : "", dio_fmt_size(c.bs, bs, sizeof(bs)), c.qd,
	       dio_fmt_size(c.dbuf.size, area, sizeof(area)), c.dbuf.desc);
	copy_describe(&c.src, 0);
	copy_describe(&c.dst, 1);
	fflush(stdout);
	t0 = dio_now();
	ret = copy_run(&c);
	t = dio_now() - t0;
	if (!ret) {
		printf("  copied %s in %.3f s (%.1f MB/s)\n", sz, t, c.size / t / 1e6);
		if (c.eagain)
			printf("  %llu -EAGAIN completions reissued (mapping invalidated)\n",
			       (unsigned long long)c.eagain);
		if (c.holes)
			printf("  %llu chunk%s of %s met a hole or an unwritten extent, where "
			       "dma-buf reads stop: the rest of %s was read into host memory "
			       "and copied into the dma-buf by the CPU\n",
			       (unsigned long long)c.holes, c.holes > 1 ? "s" : "", c.src_path,
			       c.holes > 1 ? "each" : "it");
	}
	if (!ret && c.verify) {
		ret = copy_verify(&c);
		if (!ret && c.dbuf.map)
			printf("  verified: %s of %s equal %s of %s, and the dma-buf held "
			       "the source data of every chunk\n", sz, c.dst_path, sz, c.src_path);
		else if (!ret)
			printf("  verified: %s of %s equal %s of %s (read back through the "
			       "drives: the dma-buf has no CPU mapping)\n", sz, c.dst_path, sz,
			       c.src_path);
	}
	fflush(stdout);
	copy_cleanup(&c);
	return ret ? DIO_EXIT_FAIL : 0;
}
