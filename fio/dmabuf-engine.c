// SPDX-License-Identifier: GPL-2.0-only
/*
 * fio external I/O engine "dmabuf": io_uring I/O through dma-buf registered
 * buffers, for comparing against fio's own io_uring engine on the same job.
 *
 *	ioengine=external:/path/to/dmabuf-engine.so
 *	direct=1, filename=/dev/nvme0n1 (a block device whose driver supports
 *	dma-buf I/O)
 *
 * Each job's I/O buffers (fio's iomem) are one dma-buf: a udmabuf (or
 * dmabuf_heap=NAME: /dev/dma_heap/NAME; dmabuf_source=drm:PATH, a GEM
 * buffer of a DRM device; dmabuf_source=fd:N, a slice of a dma-buf fio was
 * given as descriptor N, one slice per job), mapped for the CPU so that fio
 * can fill and verify buffers as usual, with DMA_BUF_IOCTL_SYNC around
 * that when verifying.  A dma-buf without a CPU mapping (device memory)
 * works too: fio's buffers are then host memory that fio fills and reads
 * for nothing, the I/O moves the dma-buf's contents, and verify is refused.  When fio opens a file the dma-buf is
 * registered for it in the job's ring (IORING_REGISTER_BUFFERS_UPDATE with
 * IORING_RSRC_UPDATE_EXTENDED, slot = the file's number) and reads and
 * writes are READ_FIXED / WRITE_FIXED whose address is the io_u's offset
 * in the dma-buf.  The ring is set up like fio's io_uring engine
 * (SINGLE_ISSUER, DEFER_TASKRUN, COOP_TASKRUN, CQ sized to the depth), so
 * the only difference between the two engines on one job is the buffer.
 *
 * With premapped, no dma-buf: fio's buffers are ordinary anonymous memory,
 * registered for each file with IO_REGBUF_F_TARGET, so the drive maps them
 * once (dmabuf_rw_register_premapped()); reads and writes are READ_FIXED /
 * WRITE_FIXED with pointers, as for the io_uring engine's fixedbufs, and
 * fio fills and verifies them as usual.  Where the kernel keeps mapping
 * per I/O (swiotlb, non-coherent DMA) the job runs on and says so.
 *
 * Built against the headers of the fio it is loaded into (fio/build-engine.sh
 * fetches Debian's fio source for the installed version), GPL like fio.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <aio.h>
#include <linux/dma-buf.h>
#include <scsi/sg.h>
#include <linux/aio_abi.h>

#include "fio.h"
#include "optgroup.h"
#include "verify.h"

#include <liburing.h>
#include "dmabuf-rw.h"

/*
 * struct io_u has a union whose members depend on fio's configure (libaio,
 * POSIX aio, SG, RDMA).  The POSIX aiocb, always there on Linux, is the
 * largest, so the layout does not depend on which optional libraries the
 * fio binary was configured with.
 */
_Static_assert(sizeof(os_aiocb_t) >= sizeof(struct iocb) &&
	       sizeof(os_aiocb_t) >= sizeof(struct sg_io_hdr) &&
	       sizeof(os_aiocb_t) >= sizeof(void *),
	       "struct io_u layout depends on fio's configure options");

struct dmabuf_options {
	void *pad;		/* fio: ->off1 of an option must not be 0 */
	unsigned int hipri;
	char *heap;
	char *source;
	unsigned int no_map;
	unsigned int premapped;
};

static struct fio_option options[] = {
	{
		.name	= "hipri",
		.lname	= "High Priority",
		.type	= FIO_OPT_STR_SET,
		.off1	= offsetof(struct dmabuf_options, hipri),
		.help	= "Use polled completions (IORING_SETUP_IOPOLL)",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_IOURING,
	},
	{
		.name	= "dmabuf_heap",
		.lname	= "dma-heap",
		.type	= FIO_OPT_STR_STORE,
		.off1	= offsetof(struct dmabuf_options, heap),
		.help	= "Allocate the dma-buf from /dev/dma_heap/NAME instead of udmabuf",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_IOURING,
	},
	{
		.name	= "dmabuf_source",
		.lname	= "dma-buf source",
		.type	= FIO_OPT_STR_STORE,
		.off1	= offsetof(struct dmabuf_options, source),
		.help	= "udmabuf, heap:NAME, drm:PATH (a GEM buffer of a DRM device) or "
			  "fd:N (a dma-buf passed in as descriptor N, a slice per job)",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_IOURING,
	},
	{
		.name	= "dmabuf_no_map",
		.lname	= "No CPU mapping",
		.type	= FIO_OPT_STR_SET,
		.off1	= offsetof(struct dmabuf_options, no_map),
		.help	= "Do not map the dma-buf for the CPU, as for device memory",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_IOURING,
	},
	{
		.name	= "premapped",
		.lname	= "Premapped host memory",
		.type	= FIO_OPT_STR_SET,
		.off1	= offsetof(struct dmabuf_options, premapped),
		.help	= "No dma-buf: register fio's own buffers mapped once for each "
			  "file (IO_REGBUF_F_TARGET)",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_IOURING,
	},
	{
		.name	= NULL,
	},
};

struct dmabuf_data {
	struct io_uring ring;
	int dmabuf_fd;
	void *map;
	size_t map_size;
	__u64 base;			/* where the job's buffers start in the dma-buf */
	bool host_standin;		/* map is host memory: no CPU mapping */
	bool premapped;			/* map is fio's memory, premapped per file */
	unsigned int premap_logged;	/* 1: said it is premapped, 2: that it is not */
	bool sync;			/* DMA_BUF_IOCTL_SYNC around fio's CPU access */
	struct io_u **events;		/* reaped, handed out by .event */
	struct io_u **pending;		/* queued by .queue, SQE prepared, not submitted */
	unsigned int nr_pending;
	struct io_u **retry;		/* completed with -EAGAIN, to be reissued */
	unsigned int nr_retry;
	unsigned int *again;		/* per io_u index: consecutive -EAGAIN */
	unsigned long long reissued;	/* -EAGAIN completions reissued */
	unsigned int sq_retries;	/* reissue SQEs in the SQ ring, not submitted */
	unsigned int depth;
};

/* Consecutive -EAGAIN completions of one I/O before it fails. */
#define DMABUF_EAGAIN_MAX	1000

static int dmabuf_ring_init(struct thread_data *td, struct dmabuf_data *dd)
{
	struct dmabuf_options *o = td->eo;
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN |
		  IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	if (o->hipri)
		p.flags |= IORING_SETUP_IOPOLL;
	p.cq_entries = dd->depth;
	ret = io_uring_queue_init_params(dd->depth, &dd->ring, &p);
	if (ret == -EINVAL) {	/* older kernel: fio's engine drops the same flags */
		memset(&p, 0, sizeof(p));
		if (o->hipri)
			p.flags |= IORING_SETUP_IOPOLL;
		ret = io_uring_queue_init_params(dd->depth, &dd->ring, &p);
	}
	if (ret) {
		log_err("dmabuf: io_uring_queue_init: %s\n", strerror(-ret));
		return ret;
	}
	/* one slot per file: the dma-buf is registered per target */
	ret = io_uring_register_buffers_sparse(&dd->ring, td->o.nr_files);
	if (ret)
		log_err("dmabuf: io_uring_register_buffers_sparse(%u): %s\n",
			td->o.nr_files, strerror(-ret));
	return ret;
}

static int dmabuf_init(struct thread_data *td)
{
	struct dmabuf_options *o = td->eo;
	struct dmabuf_data *dd;
	int ret;

	if (!td->o.odirect) {
		log_err("dmabuf: needs direct=1 (dma-buf I/O is O_DIRECT only)\n");
		return 1;
	}
	if (o->premapped && (o->source || o->heap || o->no_map)) {
		log_err("dmabuf: premapped registers fio's own memory, no dma-buf: drop "
			"dmabuf_source, dmabuf_heap and dmabuf_no_map from the job\n");
		return 1;
	}
	ret = dmabuf_rw_probe();
	if (ret == -EOPNOTSUPP) {
		log_err("dmabuf: this kernel does not support dma-buf registered buffers "
			"(IORING_RSRC_UPDATE_EXTENDED)\n");
		return 1;
	}
	dd = calloc(1, sizeof(*dd));
	if (!dd)
		return 1;
	dd->dmabuf_fd = -1;
	dd->depth = td->o.iodepth;
	dd->events = calloc(dd->depth, sizeof(*dd->events));
	dd->pending = calloc(dd->depth, sizeof(*dd->pending));
	dd->retry = calloc(dd->depth, sizeof(*dd->retry));
	dd->again = calloc(dd->depth, sizeof(*dd->again));
	dd->premapped = o->premapped;
	/* premapped memory is ordinary memory: nothing to sync */
	dd->sync = td->o.verify != VERIFY_NONE && !dd->premapped;
	td->io_ops_data = dd;
	if (!dd->events || !dd->pending || !dd->retry || !dd->again)
		return 1;
	return dmabuf_ring_init(td, dd) ? 1 : 0;
}

static void dmabuf_cleanup(struct thread_data *td)
{
	struct dmabuf_data *dd = td->io_ops_data;

	if (!dd)
		return;
	if (dd->reissued)
		log_info("dmabuf: %llu -EAGAIN completions reissued (the exporter moved "
			 "the buffer)\n", dd->reissued);
	if (dd->ring.ring_fd > 0)
		io_uring_queue_exit(&dd->ring);
	free(dd->events);
	free(dd->pending);
	free(dd->retry);
	free(dd->again);
	free(dd);
	td->io_ops_data = NULL;
}

/* "fd:N": a slice of a dma-buf fio was handed, the job's own. */
static int dmabuf_fd_source(struct thread_data *td, struct dmabuf_data *dd,
			    const char *spec, size_t size)
{
	int n = atoi(spec + 3), fd;
	off_t total;

	total = lseek(n, 0, SEEK_END);
	if (total < 0) {
		log_err("dmabuf: %s: descriptor %d is not an open dma-buf: %s\n", spec, n,
			strerror(errno));
		return -EBADF;
	}
	dd->base = (__u64)td->subjob_number * size;
	if ((__u64)total < dd->base + size) {
		log_err("dmabuf: %s: the dma-buf has %lld bytes; job %u needs %zu from %llu\n",
			spec, (long long)total, td->subjob_number, size,
			(unsigned long long)dd->base);
		return -ENOSPC;
	}
	fd = fcntl(n, F_DUPFD_CLOEXEC, 3);
	return fd < 0 ? -errno : fd;
}

static int dmabuf_alloc(struct thread_data *td, struct dmabuf_data *dd, size_t size,
			char *what, size_t len)
{
	struct dmabuf_options *o = td->eo;
	const char *src = o->source;
	int fd;

	if (!src && o->heap) {
		snprintf(what, len, "/dev/dma_heap/%s", o->heap);
		return dmabuf_rw_heap_alloc(o->heap, size);
	}
	if (!src || !strcmp(src, "udmabuf")) {
		snprintf(what, len, "/dev/udmabuf");
		fd = dmabuf_rw_udmabuf_create(size, NULL);
		if (fd == -EINVAL)
			snprintf(what, len, "/dev/udmabuf (over udmabuf.size_limit_mb? "
				 "lower iodepth or bs)");
		return fd;
	}
	snprintf(what, len, "%s", src);
	if (!strncmp(src, "heap:", 5))
		return dmabuf_rw_heap_alloc(src + 5, size);
	if (!strncmp(src, "drm:", 4))
		return dmabuf_rw_drm_alloc(src + 4, size);
	if (!strncmp(src, "fd:", 3) && src[3] >= '0' && src[3] <= '9')
		return dmabuf_fd_source(td, dd, src, size);
	log_err("dmabuf: unknown dmabuf_source=%s: use udmabuf, heap:NAME, drm:PATH "
		"or fd:N\n", src);
	return -EINVAL;
}

/*
 * fio's I/O buffers: the dma-buf, mapped for the CPU.  Without a CPU
 * mapping, host memory stands in for fio to fill and read; verify is then
 * refused, since what moves is the dma-buf's contents.
 */
static int dmabuf_iomem_alloc(struct thread_data *td, size_t size)
{
	struct dmabuf_data *dd = td->io_ops_data;
	struct dmabuf_options *o = td->eo;
	size_t page = sysconf(_SC_PAGESIZE);
	char what[160];
	void *map = MAP_FAILED;
	int fd;

	size = (size + page - 1) & ~(page - 1);
	if (dd->premapped) {
		/* registered (and mapped) per file when fio opens it */
		map = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (map == MAP_FAILED) {
			log_err("dmabuf: mmap of %zu bytes: %s\n", size, strerror(errno));
			return 1;
		}
		dd->map = map;
		dd->map_size = size;
		td->orig_buffer = map;
		return 0;
	}
	fd = dmabuf_alloc(td, dd, size, what, sizeof(what));
	if (fd < 0) {
		log_err("dmabuf: allocating a %zu-byte dma-buf from %s: %s\n", size, what,
			strerror(-fd));
		return 1;
	}
	if (!o->no_map)
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, dd->base);
	if (map == MAP_FAILED) {
		if (td->o.verify != VERIFY_NONE) {
			log_err("dmabuf: verify needs the CPU to read the buffers, and the dma-buf "
				"from %s has no CPU mapping (%s): drop verify, or check the data "
				"another way (read it back with ioengine=io_uring)\n", what,
				o->no_map ? "dmabuf_no_map" : strerror(errno));
			close(fd);
			return 1;
		}
		map = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (map == MAP_FAILED) {
			log_err("dmabuf: mmap: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		dd->host_standin = true;
		log_info("dmabuf: the dma-buf from %s has no CPU mapping: I/O moves its "
			 "contents, not what fio fills in\n", what);
	}
	dd->dmabuf_fd = fd;
	dd->map = map;
	dd->map_size = size;
	td->orig_buffer = map;
	return 0;
}

static void dmabuf_iomem_free(struct thread_data *td)
{
	struct dmabuf_data *dd = td->io_ops_data;

	if (!dd || !dd->map)
		return;
	munmap(dd->map, dd->map_size);
	if (dd->dmabuf_fd >= 0)
		close(dd->dmabuf_fd);
	dd->map = NULL;
	dd->dmabuf_fd = -1;
	td->orig_buffer = NULL;
}

static int dmabuf_sync_ioctl(int fd, __u64 flags)
{
	struct dma_buf_sync sync = { .flags = flags };
	int ret;

	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	} while (ret && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

/*
 * Around fio's CPU access when it verifies: its fill of a write buffer is
 * done (make it visible to the device), or a read's data is to be seen by
 * the CPU.  The ioctl covers the whole dma-buf, so only verifying jobs pay.
 */
static int dmabuf_cpu_sync(struct dmabuf_data *dd, __u64 dir)
{
	int ret;

	if (!dd->sync || dd->host_standin)
		return 0;
	ret = dmabuf_sync_ioctl(dd->dmabuf_fd, DMA_BUF_SYNC_START | dir);
	if (!ret)
		ret = dmabuf_sync_ioctl(dd->dmabuf_fd, DMA_BUF_SYNC_END | dir);
	return ret;
}

/* Say once per job which way its buffers are mapped for the drive. */
static void dmabuf_premap_log(struct dmabuf_data *dd, struct fio_file *f, int premapped)
{
	if (premapped && !(dd->premap_logged & 1)) {
		log_info("dmabuf: %s: fio's buffers are premapped (mapped once for the "
			 "device)\n", f->file_name);
		dd->premap_logged |= 1;
	} else if (!premapped && !(dd->premap_logged & 2)) {
		log_err("dmabuf: %s: fio's buffers are registered but NOT premapped: the "
			"kernel maps them per I/O (swiotlb bouncing or non-coherent DMA), so "
			"this job measures fixed buffers\n", f->file_name);
		dd->premap_logged |= 2;
	}
}

/* fio's memory in slot f->fileno, mapped once for f's device. */
static int dmabuf_register_premapped(struct thread_data *td, struct fio_file *f)
{
	struct dmabuf_data *dd = td->io_ops_data;
	int ret;

	ret = dmabuf_rw_register_premapped(&dd->ring, f->fileno, dd->map, dd->map_size,
					   f->fd);
	if (ret) {
		log_err("dmabuf: registering fio's buffers premapped for %s: %s%s\n",
			f->file_name, strerror(-ret),
			ret == -EINVAL ? " (a kernel without IO_REGBUF_F_TARGET refuses it so)" :
			ret == -EOPNOTSUPP || ret == -ENOTTY ?
			" (the device's driver does not support it)" :
			ret == -ENOMEM ? " (RLIMIT_MEMLOCK too low? ulimit -l)" : "");
		return ret;
	}
	ret = dmabuf_rw_buffer_premapped(&dd->ring, f->fileno);
	if (ret < 0) {
		log_err("dmabuf: cannot tell whether the buffers for %s are premapped "
			"(the ring's fdinfo): %s\n", f->file_name, strerror(-ret));
		return ret;
	}
	dmabuf_premap_log(dd, f, ret);
	return 0;
}

/* What a registration error most likely means, for the message. */
static const char *dmabuf_register_hint(const struct fio_file *f, int err)
{
	switch (err) {
	case -EXDEV:
		return " (no peer-to-peer route between the memory's device and the drive: "
		       "put both below one PCIe switch, or use host memory)";
	case -EOPNOTSUPP:
	case -ENOTTY:
		return f->filetype == FIO_TYPE_FILE ?
		       " (the file system cannot do dma-buf I/O: ext4 and xfs can, for files "
		       "without inline data, data journalling, encryption, verity or DAX)" :
		       " (the device's driver does not support dma-buf I/O)";
	default:
		return "";
	}
}

static int dmabuf_open_file(struct thread_data *td, struct fio_file *f)
{
	struct dmabuf_data *dd = td->io_ops_data;
	int ret;

	/* the kernel says which files can: NVMe, files on ext4 and xfs */
	if (f->filetype != FIO_TYPE_BLOCK && f->filetype != FIO_TYPE_FILE) {
		log_err("dmabuf: %s is neither a block device nor a regular file; "
			"dma-buf I/O needs an NVMe namespace or a file on ext4 or xfs\n",
			f->file_name);
		td_verror(td, EINVAL, "dmabuf open");
		return 1;
	}
	ret = generic_open_file(td, f);
	/* fio also opens files before .init, to read their size */
	if (ret || !dd || !dd->map)
		return ret;
	if (dd->premapped) {
		ret = dmabuf_register_premapped(td, f);
	} else {
		ret = dmabuf_rw_register_dmabuf(&dd->ring, f->fileno, dd->dmabuf_fd, f->fd);
		if (ret)
			log_err("dmabuf: registering the dma-buf for %s: %s%s\n", f->file_name,
				strerror(-ret), dmabuf_register_hint(f, ret));
	}
	if (ret) {
		td_verror(td, -ret, "dmabuf register");
		if (generic_close_file(td, f))
			log_err("dmabuf: closing %s failed\n", f->file_name);
		return 1;
	}
	return 0;
}

static int dmabuf_close_file(struct thread_data *td, struct fio_file *f)
{
	struct dmabuf_data *dd = td->io_ops_data;

	if (dd && dd->map && f->fd != -1)
		dmabuf_rw_clear_buffer(&dd->ring, f->fileno);
	return generic_close_file(td, f);
}

static int dmabuf_prep_sqe(struct thread_data *td, struct io_u *io_u)
{
	struct dmabuf_data *dd = td->io_ops_data;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&dd->ring);
	struct fio_file *f = io_u->file;
	/* a dma-buf slot's addresses are offsets into the dma-buf */
	__u64 off = dd->base + ((char *)io_u->xfer_buf - td->orig_buffer);

	if (!sqe)
		return -EBUSY;
	/* a premapped slot is an ordinary fixed buffer: pointers */
	switch (io_u->ddir) {
	case DDIR_READ:
		if (dd->premapped)
			io_uring_prep_read_fixed(sqe, f->fd, io_u->xfer_buf,
						 io_u->xfer_buflen, io_u->offset, f->fileno);
		else
			dmabuf_rw_prep_read(sqe, f->fd, f->fileno, off, io_u->xfer_buflen,
					    io_u->offset);
		break;
	case DDIR_WRITE:
		if (dd->premapped)
			io_uring_prep_write_fixed(sqe, f->fd, io_u->xfer_buf,
						  io_u->xfer_buflen, io_u->offset, f->fileno);
		else
			dmabuf_rw_prep_write(sqe, f->fd, f->fileno, off, io_u->xfer_buflen,
					     io_u->offset);
		break;
	case DDIR_SYNC:
		io_uring_prep_fsync(sqe, f->fd, 0);
		break;
	case DDIR_DATASYNC:
		io_uring_prep_fsync(sqe, f->fd, IORING_FSYNC_DATASYNC);
		break;
	default:
		return -EINVAL;
	}
	io_uring_sqe_set_data(sqe, io_u);
	return 0;
}

static enum fio_q_status dmabuf_queue(struct thread_data *td, struct io_u *io_u)
{
	struct dmabuf_data *dd = td->io_ops_data;
	int ret;

	fio_ro_check(td, io_u);
	if (dd->nr_pending == dd->depth)
		return FIO_Q_BUSY;
	if (io_u->ddir == DDIR_TRIM) {	/* FIO_ASYNCIO_SYNC_TRIM: done here */
		if (dd->nr_pending)
			return FIO_Q_BUSY;
		do_io_u_trim(td, io_u);
		io_u_mark_submit(td, 1);
		io_u_mark_complete(td, 1);
		return FIO_Q_COMPLETED;
	}
	if (io_u->ddir == DDIR_WRITE) {
		ret = dmabuf_cpu_sync(dd, DMA_BUF_SYNC_WRITE);
		if (ret) {
			io_u->error = -ret;
			return FIO_Q_COMPLETED;
		}
	}
	ret = dmabuf_prep_sqe(td, io_u);
	if (ret == -EBUSY)
		return FIO_Q_BUSY;
	if (ret) {
		io_u->error = -ret;
		return FIO_Q_COMPLETED;
	}
	dd->again[io_u->index] = 0;
	dd->pending[dd->nr_pending++] = io_u;
	return FIO_Q_QUEUED;
}

/* Issue times for the n first pending io_us (FIO_ASYNCIO_SETS_ISSUE_TIME). */
static void dmabuf_queued(struct thread_data *td, unsigned int n)
{
	struct dmabuf_data *dd = td->io_ops_data;
	struct timespec now;
	unsigned int i;

	if (fio_fill_issue_time(td)) {
		fio_gettime(&now, NULL);
		for (i = 0; i < n; i++) {
			dd->pending[i]->issue_time = now;
			io_u_queued(td, dd->pending[i]);
		}
		if (td->o.read_iolog_file)
			td->last_issue = now;
	}
	io_u_mark_submit(td, n);
	memmove(dd->pending, dd->pending + n, (dd->nr_pending - n) * sizeof(*dd->pending));
	dd->nr_pending -= n;
}

/*
 * The SQ ring holds, oldest first, reissue SQEs (only prepared while no
 * io_u was pending) and then the SQEs of pending io_us; the kernel takes
 * them in that order.  Account n taken SQEs.
 */
static void dmabuf_account(struct thread_data *td, unsigned int n)
{
	struct dmabuf_data *dd = td->io_ops_data;
	unsigned int k = n < dd->sq_retries ? n : dd->sq_retries;

	dd->sq_retries -= k;
	n -= k;
	if (n)
		dmabuf_queued(td, n < dd->nr_pending ? n : dd->nr_pending);
}

/* Submit what the SQ ring holds; 0 once it is empty, or -errno. */
static int dmabuf_submit_all(struct thread_data *td)
{
	struct dmabuf_data *dd = td->io_ops_data;
	int ret;

	while (io_uring_sq_ready(&dd->ring)) {
		ret = io_uring_submit(&dd->ring);
		if (ret > 0) {
			dmabuf_account(td, ret);
			continue;
		}
		if (ret == -EINTR || ret == -EAGAIN || ret == -EBUSY || !ret) {
			/* completions first: they free room for the kernel */
			io_uring_get_events(&dd->ring);
			usleep(1);
			continue;
		}
		return ret;
	}
	if (dd->nr_pending || dd->sq_retries) {
		log_err("dmabuf: %u io_us pending with an empty SQ ring\n",
			dd->nr_pending + dd->sq_retries);
		return -EIO;
	}
	return 0;
}

/*
 * Reissue the io_us that completed with -EAGAIN.  Their SQEs go into the
 * ring only when no pending io_u's SQE is there waiting for .commit, so
 * that submitting them never submits an uncommitted one.
 */
static int dmabuf_flush_retries(struct thread_data *td)
{
	struct dmabuf_data *dd = td->io_ops_data;
	unsigned int i = 0;

	if (!dd->nr_retry || dd->nr_pending)
		return 0;
	while (i < dd->nr_retry && !dmabuf_prep_sqe(td, dd->retry[i])) {
		dd->sq_retries++;
		i++;
	}
	memmove(dd->retry, dd->retry + i, (dd->nr_retry - i) * sizeof(*dd->retry));
	dd->nr_retry -= i;
	return dmabuf_submit_all(td);
}

static int dmabuf_commit(struct thread_data *td)
{
	int ret;

	ret = dmabuf_submit_all(td);
	if (!ret)
		ret = dmabuf_flush_retries(td);
	if (ret)
		td_verror(td, -ret, "io_uring_submit");
	return ret;
}

/* Reap up to max completions; those the kernel asks to reissue (-EAGAIN) wait. */
static unsigned int dmabuf_reap(struct thread_data *td, unsigned int have,
				unsigned int max)
{
	struct dmabuf_data *dd = td->io_ops_data;
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;
	int ret;

	io_uring_for_each_cqe(&dd->ring, head, cqe) {
		struct io_u *io_u = io_uring_cqe_get_data(cqe);

		if (have >= max)
			break;
		seen++;
		if (cqe->res == -EAGAIN && io_u->index < dd->depth &&
		    ++dd->again[io_u->index] < DMABUF_EAGAIN_MAX) {
			/* documented: the mapping was invalidated under the I/O */
			dd->retry[dd->nr_retry++] = io_u;
			dd->reissued++;
			continue;
		}
		io_u->error = 0;
		if (cqe->res < 0)
			io_u->error = -cqe->res;
		else if ((unsigned long long)cqe->res != io_u->xfer_buflen)
			io_u->resid = io_u->xfer_buflen - cqe->res;
		if (!io_u->error && io_u->ddir == DDIR_READ) {
			ret = dmabuf_cpu_sync(dd, DMA_BUF_SYNC_READ);
			if (ret)
				io_u->error = -ret;
		}
		dd->events[have++] = io_u;
	}
	io_uring_cq_advance(&dd->ring, seen);
	return have;
}

/* The time left until end into *left; false once it has passed. */
static bool dmabuf_time_left(const struct timespec *end, struct __kernel_timespec *left)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (end->tv_sec - now.tv_sec) * 1000000000LL + end->tv_nsec - now.tv_nsec;
	if (ns <= 0)
		return false;
	left->tv_sec = ns / 1000000000LL;
	left->tv_nsec = ns % 1000000000LL;
	return true;
}

/* Wait for min completions, or until the timeout t (NULL: none) passes. */
static int dmabuf_getevents(struct thread_data *td, unsigned int min,
			    unsigned int max, const struct timespec *t)
{
	struct dmabuf_data *dd = td->io_ops_data;
	struct __kernel_timespec kts;
	struct io_uring_cqe *cqe;
	struct timespec end;
	unsigned int events = 0;
	int ret;

	if (t) {
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += t->tv_sec + (end.tv_nsec + t->tv_nsec) / 1000000000L;
		end.tv_nsec = (end.tv_nsec + t->tv_nsec) % 1000000000L;
	}
	for (;;) {
		events = dmabuf_reap(td, events, max);
		/* an io_u waiting to be reissued must not wait for .commit */
		if (dd->nr_retry && dd->nr_pending)
			ret = dmabuf_commit(td);
		else
			ret = dmabuf_flush_retries(td);
		if (ret) {
			td_verror(td, -ret, "io_uring_submit");
			return ret;
		}
		if (events && events >= min)
			break;
		if (!min) {
			/* a poll (min 0): run deferred task work once, reap again */
			io_uring_get_events(&dd->ring);
			events = dmabuf_reap(td, events, max);
			break;
		}
		if (t && !dmabuf_time_left(&end, &kts))
			break;
		/* DEFER_TASKRUN: completions are posted when we enter to wait */
		if (t) {
			ret = io_uring_wait_cqes(&dd->ring, &cqe, 1, &kts, NULL);
		} else {
			ret = io_uring_wait_cqe(&dd->ring, &cqe);
		}
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY &&
		    ret != -ETIME) {
			td_verror(td, -ret, "io_uring_wait_cqe");
			return ret;
		}
	}
	return events;
}

static struct io_u *dmabuf_event(struct thread_data *td, int event)
{
	struct dmabuf_data *dd = td->io_ops_data;

	return dd->events[event];
}

struct ioengine_ops ioengine = {
	.name			= "dmabuf",
	.version		= FIO_IOOPS_VERSION,
	.flags			= FIO_ASYNCIO_SYNC_TRIM | FIO_NO_OFFLOAD |
				  FIO_ASYNCIO_SETS_ISSUE_TIME,
	.init			= dmabuf_init,
	.queue			= dmabuf_queue,
	.commit			= dmabuf_commit,
	.getevents		= dmabuf_getevents,
	.event			= dmabuf_event,
	.cleanup		= dmabuf_cleanup,
	.open_file		= dmabuf_open_file,
	.close_file		= dmabuf_close_file,
	.get_file_size		= generic_get_file_size,
	.iomem_alloc		= dmabuf_iomem_alloc,
	.iomem_free		= dmabuf_iomem_free,
	.options		= options,
	.option_struct_size	= sizeof(struct dmabuf_options),
};
