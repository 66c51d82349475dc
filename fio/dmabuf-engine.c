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
 * dmabuf_heap=NAME: /dev/dma_heap/NAME), mapped for the CPU so that fio can
 * fill and verify buffers as usual.  When fio opens a file the dma-buf is
 * registered for it in the job's ring (IORING_REGISTER_BUFFERS_UPDATE with
 * IORING_RSRC_UPDATE_EXTENDED, slot = the file's number) and reads and
 * writes are READ_FIXED / WRITE_FIXED whose address is the io_u's offset
 * in the dma-buf.  The ring is set up like fio's io_uring engine
 * (SINGLE_ISSUER, DEFER_TASKRUN, COOP_TASKRUN, CQ sized to the depth), so
 * the only difference between the two engines on one job is the buffer.
 *
 * Built against the headers of the fio it is loaded into (fio/build-engine.sh
 * fetches Debian's fio source for the installed version), GPL like fio.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <aio.h>
#include <scsi/sg.h>
#include <linux/aio_abi.h>

#include "fio.h"
#include "optgroup.h"

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
		.name	= NULL,
	},
};

struct dmabuf_data {
	struct io_uring ring;
	int dmabuf_fd;
	void *map;
	size_t map_size;
	struct io_u **events;		/* reaped, handed out by .event */
	struct io_u **pending;		/* queued, not yet submitted */
	unsigned int nr_pending;
	unsigned int depth;
};

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
	struct dmabuf_data *dd;
	int ret;

	if (!td->o.odirect) {
		log_err("dmabuf: needs direct=1 (dma-buf I/O is O_DIRECT only)\n");
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
	td->io_ops_data = dd;
	if (!dd->events || !dd->pending)
		return 1;
	return dmabuf_ring_init(td, dd) ? 1 : 0;
}

static void dmabuf_cleanup(struct thread_data *td)
{
	struct dmabuf_data *dd = td->io_ops_data;

	if (!dd)
		return;
	if (dd->ring.ring_fd > 0)
		io_uring_queue_exit(&dd->ring);
	free(dd->events);
	free(dd->pending);
	free(dd);
	td->io_ops_data = NULL;
}

/* fio's I/O buffers: the dma-buf, mapped for the CPU. */
static int dmabuf_iomem_alloc(struct thread_data *td, size_t size)
{
	struct dmabuf_data *dd = td->io_ops_data;
	struct dmabuf_options *o = td->eo;
	size_t page = sysconf(_SC_PAGESIZE);
	void *map;
	int fd;

	size = (size + page - 1) & ~(page - 1);
	if (o->heap)
		fd = dmabuf_rw_heap_alloc(o->heap, size);
	else
		fd = dmabuf_rw_udmabuf_create(size, NULL);
	if (fd < 0) {
		log_err("dmabuf: allocating a %zu-byte dma-buf from %s%s: %s%s\n", size,
			o->heap ? "/dev/dma_heap/" : "/dev/udmabuf", o->heap ? o->heap : "",
			strerror(-fd), !o->heap && fd == -EINVAL ?
			" (over udmabuf.size_limit_mb? lower iodepth or bs)" : "");
		return 1;
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		log_err("dmabuf: mmap of the dma-buf: %s\n", strerror(errno));
		close(fd);
		return 1;
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
	close(dd->dmabuf_fd);
	dd->map = NULL;
	dd->dmabuf_fd = -1;
	td->orig_buffer = NULL;
}

static int dmabuf_open_file(struct thread_data *td, struct fio_file *f)
{
	struct dmabuf_data *dd = td->io_ops_data;
	int ret;

	if (f->filetype != FIO_TYPE_BLOCK) {
		log_err("dmabuf: %s is not a block device; dma-buf I/O needs one whose "
			"driver supports it (NVMe)\n", f->file_name);
		td_verror(td, EINVAL, "dmabuf open");
		return 1;
	}
	ret = generic_open_file(td, f);
	/* fio also opens files before .init, to read their size */
	if (ret || !dd || dd->dmabuf_fd < 0)
		return ret;
	ret = dmabuf_rw_register_dmabuf(&dd->ring, f->fileno, dd->dmabuf_fd, f->fd);
	if (ret) {
		log_err("dmabuf: registering the dma-buf for %s: %s%s\n", f->file_name,
			strerror(-ret), ret == -EOPNOTSUPP || ret == -ENOTTY ?
			" (the device's driver does not support dma-buf I/O)" : "");
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

	if (dd && dd->dmabuf_fd >= 0 && f->fd != -1)
		dmabuf_rw_clear_buffer(&dd->ring, f->fileno);
	return generic_close_file(td, f);
}

static int dmabuf_prep_sqe(struct thread_data *td, struct io_u *io_u)
{
	struct dmabuf_data *dd = td->io_ops_data;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&dd->ring);
	struct fio_file *f = io_u->file;
	/* a dma-buf slot's addresses are offsets into the dma-buf */
	void *addr = (void *)(uintptr_t)((char *)io_u->xfer_buf - td->orig_buffer);

	if (!sqe)
		return -EBUSY;
	switch (io_u->ddir) {
	case DDIR_READ:
		io_uring_prep_read_fixed(sqe, f->fd, addr, io_u->xfer_buflen,
					 io_u->offset, f->fileno);
		break;
	case DDIR_WRITE:
		io_uring_prep_write_fixed(sqe, f->fd, addr, io_u->xfer_buflen,
					  io_u->offset, f->fileno);
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
	ret = dmabuf_prep_sqe(td, io_u);
	if (ret == -EBUSY)
		return FIO_Q_BUSY;
	if (ret) {
		io_u->error = -ret;
		return FIO_Q_COMPLETED;
	}
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

static int dmabuf_commit(struct thread_data *td)
{
	struct dmabuf_data *dd = td->io_ops_data;
	int ret;

	while (dd->nr_pending) {
		ret = io_uring_submit(&dd->ring);
		if (ret > 0) {
			dmabuf_queued(td, ret > (int)dd->nr_pending ? dd->nr_pending : ret);
			continue;
		}
		if (ret == -EINTR || ret == -EAGAIN || ret == -EBUSY || !ret) {
			usleep(1);
			continue;
		}
		td_verror(td, -ret, "io_uring_submit");
		return ret;
	}
	return 0;
}

/* Reap up to max completions; reissue those the kernel asks to (-EAGAIN). */
static unsigned int dmabuf_reap(struct thread_data *td, unsigned int have,
				unsigned int max, unsigned int *reissued)
{
	struct dmabuf_data *dd = td->io_ops_data;
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;

	io_uring_for_each_cqe(&dd->ring, head, cqe) {
		struct io_u *io_u = io_uring_cqe_get_data(cqe);

		if (have >= max)
			break;
		seen++;
		if (cqe->res == -EAGAIN && !dmabuf_prep_sqe(td, io_u)) {
			/* documented: the mapping was invalidated under the I/O */
			(*reissued)++;
			continue;
		}
		io_u->error = 0;
		if (cqe->res < 0)
			io_u->error = -cqe->res;
		else if ((unsigned long long)cqe->res != io_u->xfer_buflen)
			io_u->resid = io_u->xfer_buflen - cqe->res;
		dd->events[have++] = io_u;
	}
	io_uring_cq_advance(&dd->ring, seen);
	return have;
}

static int dmabuf_getevents(struct thread_data *td, unsigned int min,
			    unsigned int max, const struct timespec *t)
{
	struct dmabuf_data *dd = td->io_ops_data;
	unsigned int events = 0, reissued;
	int ret;

	for (;;) {
		reissued = 0;
		events = dmabuf_reap(td, events, max, &reissued);
		if (reissued)
			io_uring_submit(&dd->ring);
		if (events >= min)
			break;
		/* DEFER_TASKRUN: completions are posted when we enter to wait */
		ret = io_uring_submit_and_wait(&dd->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			td_verror(td, -ret, "io_uring_submit_and_wait");
			return ret;
		}
	}
	if (!events) {
		/* a poll for completions (min 0): run deferred task work once */
		io_uring_get_events(&dd->ring);
		events = dmabuf_reap(td, 0, max, &reissued);
		if (reissued)
			io_uring_submit(&dd->ring);
	}
	(void)t;
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
