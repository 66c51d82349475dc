// SPDX-License-Identifier: GPL-2.0
/*
 * dmabuf-mover: test exporter for dma-buf importers that support
 * invalidate_mappings().  See dmabuf-mover.h for the user interface.
 *
 * Everything about a buffer's pages is protected by the dma-buf's
 * reservation lock, which dma-buf already holds around map_dma_buf and
 * unmap_dma_buf for dynamic exporters.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/highmem.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "dmabuf-mover.h"

/* One generation of backing pages. */
struct mover_pages {
	struct page		**pages;
	unsigned int		nr;
	unsigned int		users;	/* sg tables mapping these pages */
	bool			retired;
};

/* DMABUF_MOVER_F_WRAP: the two backed windows, 1 MiB each */
#define WRAP_ORDER	(20 - PAGE_SHIFT)
#define WRAP_NR		(1U << WRAP_ORDER)

struct mover_buf {
	struct dma_buf		*dmabuf;
	struct mover_pages	*cur;
	struct page		*wrap[2];	/* F_WRAP: first pages */
	unsigned int		pinned;
	u64			moves, retired, pending, stale_bytes, maps;
	u64			mapped, attachments;
};

/* Module-wide counts, so tests can see that importers released everything. */
static atomic64_t mover_buffers, mover_mapped, mover_attachments;

struct mover_sgt {
	struct sg_table		sgt;
	struct mover_pages	*mp;
	dma_addr_t		wrap_dma[2];	/* F_WRAP: the real mappings */
};

static struct mover_pages *mover_pages_alloc(unsigned int nr)
{
	struct mover_pages *mp;
	unsigned int i;

	mp = kzalloc_obj(*mp);
	if (!mp)
		return NULL;
	mp->pages = kvzalloc_objs(struct page *, nr);
	if (!mp->pages)
		goto err;
	mp->nr = nr;
	for (i = 0; i < nr; i++) {
		mp->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!mp->pages[i])
			goto err;
	}
	return mp;
err:
	for (i = 0; mp->pages && i < nr && mp->pages[i]; i++)
		__free_page(mp->pages[i]);
	kvfree(mp->pages);
	kfree(mp);
	return NULL;
}

static void mover_pages_free(struct mover_pages *mp)
{
	unsigned int i;

	for (i = 0; i < mp->nr; i++)
		__free_page(mp->pages[i]);
	kvfree(mp->pages);
	kfree(mp);
}

/* Old pages no importer maps any more: count what DMA wrote after the move. */
static void mover_pages_retire(struct mover_buf *buf, struct mover_pages *mp)
{
	unsigned int i, j;

	for (i = 0; i < mp->nr; i++) {
		const u8 *p = page_address(mp->pages[i]);

		for (j = 0; j < PAGE_SIZE; j++)
			buf->stale_bytes += p[j] != DMABUF_MOVER_POISON;
	}
	buf->retired++;
	buf->pending--;
	mover_pages_free(mp);
}

/*
 * F_WRAP: range 0 ends with window 0, range 1 is window 1.  Range 0's DMA
 * address is window 0's minus the unbacked part before it, modulo 2^64:
 * importers add offsets to it, and only offsets in the window reach DMA.
 */
static int mover_map_wrap(struct dma_buf_attachment *attach,
			  struct mover_sgt *ms, enum dma_data_direction dir)
{
	struct mover_buf *buf = attach->dmabuf->priv;
	struct scatterlist *sg;
	int i, ret;

	ret = sg_alloc_table(&ms->sgt, 2, GFP_KERNEL);
	if (ret)
		return ret;
	for (i = 0; i < 2; i++) {
		ms->wrap_dma[i] = dma_map_page(attach->dev, buf->wrap[i], 0,
					       DMABUF_MOVER_WRAP_WINDOW, dir);
		ret = dma_mapping_error(attach->dev, ms->wrap_dma[i]);
		if (ret)
			goto err;
	}
	sg = ms->sgt.sgl;
	sg_dma_address(sg) = ms->wrap_dma[0] -
		(DMABUF_MOVER_WRAP_RANGE - DMABUF_MOVER_WRAP_WINDOW);
	sg_dma_len(sg) = DMABUF_MOVER_WRAP_RANGE;
	sg = sg_next(sg);
	sg_dma_address(sg) = ms->wrap_dma[1];
	sg_dma_len(sg) = DMABUF_MOVER_WRAP_WINDOW;
	return 0;
err:
	while (i--)
		dma_unmap_page(attach->dev, ms->wrap_dma[i],
			       DMABUF_MOVER_WRAP_WINDOW, dir);
	sg_free_table(&ms->sgt);
	return ret;
}

static struct sg_table *mover_map(struct dma_buf_attachment *attach,
				  enum dma_data_direction dir)
{
	struct mover_buf *buf = attach->dmabuf->priv;
	struct mover_sgt *ms;
	int ret;

	dma_resv_assert_held(attach->dmabuf->resv);
	ms = kzalloc_obj(*ms);
	if (!ms)
		return ERR_PTR(-ENOMEM);
	if (buf->wrap[0]) {
		ret = mover_map_wrap(attach, ms, dir);
		if (ret)
			goto err_free;
		goto mapped;
	}
	ret = sg_alloc_table_from_pages(&ms->sgt, buf->cur->pages, buf->cur->nr,
					0, attach->dmabuf->size, GFP_KERNEL);
	if (ret)
		goto err_free;
	ret = dma_map_sgtable(attach->dev, &ms->sgt, dir, 0);
	if (ret)
		goto err_table;
	ms->mp = buf->cur;
	ms->mp->users++;
mapped:
	buf->maps++;
	buf->mapped++;
	atomic64_inc(&mover_mapped);
	return &ms->sgt;

err_table:
	sg_free_table(&ms->sgt);
err_free:
	kfree(ms);
	return ERR_PTR(ret);
}

static void mover_unmap(struct dma_buf_attachment *attach,
			struct sg_table *sgt, enum dma_data_direction dir)
{
	struct mover_sgt *ms = container_of(sgt, struct mover_sgt, sgt);
	struct mover_buf *buf = attach->dmabuf->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (buf->wrap[0]) {
		dma_unmap_page(attach->dev, ms->wrap_dma[0],
			       DMABUF_MOVER_WRAP_WINDOW, dir);
		dma_unmap_page(attach->dev, ms->wrap_dma[1],
			       DMABUF_MOVER_WRAP_WINDOW, dir);
	} else {
		dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	}
	sg_free_table(sgt);
	buf->mapped--;
	atomic64_dec(&mover_mapped);
	if (ms->mp && !--ms->mp->users && ms->mp->retired)
		mover_pages_retire(buf, ms->mp);
	kfree(ms);
}

static int mover_attach(struct dma_buf *dmabuf,
			struct dma_buf_attachment *attach)
{
	struct mover_buf *buf = dmabuf->priv;

	dma_resv_lock(dmabuf->resv, NULL);
	buf->attachments++;
	dma_resv_unlock(dmabuf->resv);
	atomic64_inc(&mover_attachments);
	return 0;
}

static void mover_detach(struct dma_buf *dmabuf,
			 struct dma_buf_attachment *attach)
{
	struct mover_buf *buf = dmabuf->priv;

	dma_resv_lock(dmabuf->resv, NULL);
	buf->attachments--;
	dma_resv_unlock(dmabuf->resv);
	atomic64_dec(&mover_attachments);
}

static int mover_pin(struct dma_buf_attachment *attach)
{
	struct mover_buf *buf = attach->dmabuf->priv;

	buf->pinned++;
	return 0;
}

static void mover_unpin(struct dma_buf_attachment *attach)
{
	struct mover_buf *buf = attach->dmabuf->priv;

	buf->pinned--;
}

/* F_WRAP buffers never move: only the two windows have pages. */
static vm_fault_t mover_fault_wrap(struct vm_fault *vmf, struct mover_buf *buf)
{
	const pgoff_t w0 = (DMABUF_MOVER_WRAP_RANGE -
			    DMABUF_MOVER_WRAP_WINDOW) >> PAGE_SHIFT;
	pgoff_t i = vmf->pgoff - w0;

	if (vmf->pgoff < w0 || i >= 2 * WRAP_NR)
		return VM_FAULT_SIGBUS;
	return vmf_insert_page(vmf->vma, vmf->address,
			       buf->wrap[i / WRAP_NR] + i % WRAP_NR);
}

/*
 * Install the PTE under the reservation lock: a move zaps CPU mappings under
 * the same lock, so no PTE to an old page can be installed after the zap.
 */
static vm_fault_t mover_fault(struct vm_fault *vmf)
{
	struct dma_buf *dmabuf = vmf->vma->vm_private_data;
	struct mover_buf *buf = dmabuf->priv;
	vm_fault_t ret;

	if (buf->wrap[0])
		return mover_fault_wrap(vmf, buf);
	if (dma_resv_lock_interruptible(dmabuf->resv, NULL))
		return VM_FAULT_NOPAGE;
	if (vmf->pgoff >= buf->cur->nr)
		ret = VM_FAULT_SIGBUS;
	else
		ret = vmf_insert_page(vmf->vma, vmf->address,
				      buf->cur->pages[vmf->pgoff]);
	dma_resv_unlock(dmabuf->resv);
	return ret;
}

static const struct vm_operations_struct mover_vm_ops = {
	.fault = mover_fault,
};

static int mover_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	/* pages are inserted at fault time, see mover_fault() */
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND);
	vma->vm_ops = &mover_vm_ops;
	vma->vm_private_data = dmabuf;
	return 0;
}

static void mover_wrap_free(struct mover_buf *buf)
{
	unsigned int i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; buf->wrap[i] && j < WRAP_NR; j++)
			__free_page(buf->wrap[i] + j);
}

static void mover_release(struct dma_buf *dmabuf)
{
	struct mover_buf *buf = dmabuf->priv;

	if (buf->wrap[0])
		mover_wrap_free(buf);
	else
		mover_pages_free(buf->cur);
	kfree(buf);
	atomic64_dec(&mover_buffers);
}

static const struct dma_buf_ops mover_ops = {
	.attach		= mover_attach,
	.detach		= mover_detach,
	.pin		= mover_pin,
	.unpin		= mover_unpin,
	.map_dma_buf	= mover_map,
	.unmap_dma_buf	= mover_unmap,
	.mmap		= mover_mmap,
	.release	= mover_release,
};

/* Split, so that each page can be mapped into user space on its own. */
static int mover_wrap_alloc(struct mover_buf *buf)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		buf->wrap[i] = alloc_pages(GFP_KERNEL | __GFP_ZERO, WRAP_ORDER);
		if (!buf->wrap[i]) {
			mover_wrap_free(buf);
			return -ENOMEM;
		}
		split_page(buf->wrap[i], WRAP_ORDER);
	}
	return 0;
}

static long mover_create(struct dmabuf_mover_create __user *uarg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct dmabuf_mover_create arg;
	struct mover_buf *buf;
	struct dma_buf *dmabuf;
	int fd, ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & ~DMABUF_MOVER_F_WRAP)
		return -EINVAL;
	if (arg.flags & DMABUF_MOVER_F_WRAP) {
		if (arg.size != DMABUF_MOVER_WRAP_SIZE)
			return -EINVAL;
	} else if (!arg.size || arg.size & ~PAGE_MASK || arg.size > SZ_1G) {
		return -EINVAL;
	}

	buf = kzalloc_obj(*buf);
	if (!buf)
		return -ENOMEM;
	if (arg.flags & DMABUF_MOVER_F_WRAP)
		ret = mover_wrap_alloc(buf);
	else
		ret = (buf->cur = mover_pages_alloc(arg.size >> PAGE_SHIFT)) ?
		      0 : -ENOMEM;
	if (ret) {
		kfree(buf);
		return ret;
	}
	info.ops = &mover_ops;
	info.size = arg.size;
	info.flags = O_RDWR;
	info.priv = buf;
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		if (buf->wrap[0])
			mover_wrap_free(buf);
		else
			mover_pages_free(buf->cur);
		kfree(buf);
		return PTR_ERR(dmabuf);
	}
	buf->dmabuf = dmabuf;
	atomic64_inc(&mover_buffers);
	fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	arg.fd = fd;
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		return -EFAULT;
	return 0;
}

static struct dma_buf *mover_get(int fd)
{
	struct dma_buf *dmabuf = dma_buf_get(fd);

	if (IS_ERR(dmabuf))
		return dmabuf;
	if (dmabuf->ops != &mover_ops) {
		dma_buf_put(dmabuf);
		return ERR_PTR(-EINVAL);
	}
	return dmabuf;
}

/* Move the buffer to new pages, the way a GPU driver evicts a buffer. */
static long mover_do_move(struct dma_buf *dmabuf, unsigned int timeout_ms)
{
	struct mover_buf *buf = dmabuf->priv;
	struct mover_pages *old, *new;
	unsigned int i;
	long ret;

	if (buf->wrap[0])
		return -EINVAL;
	new = mover_pages_alloc(dmabuf->size >> PAGE_SHIFT);
	if (!new)
		return -ENOMEM;

	dma_resv_lock(dmabuf->resv, NULL);
	ret = -EBUSY;
	if (buf->pinned)
		goto out_unlock;

	/* Importers stop using their mappings and fence what is in flight. */
	dma_buf_invalidate_mappings(dmabuf);
	ret = dma_resv_wait_timeout(dmabuf->resv, DMA_RESV_USAGE_BOOKKEEP,
				    false, msecs_to_jiffies(timeout_ms));
	if (ret <= 0) {
		ret = ret ?: -ETIMEDOUT;
		goto out_unlock;
	}

	old = buf->cur;
	for (i = 0; i < old->nr; i++)
		memcpy(page_address(new->pages[i]),
		       page_address(old->pages[i]), PAGE_SIZE);
	buf->cur = new;
	new = NULL;
	/* CPU mappings fault in the new pages from now on. */
	unmap_mapping_range(dmabuf->file->f_mapping, 0, 0, 1);
	for (i = 0; i < old->nr; i++)
		memset(page_address(old->pages[i]), DMABUF_MOVER_POISON,
		       PAGE_SIZE);
	old->retired = true;
	buf->pending++;
	buf->moves++;
	if (!old->users)
		mover_pages_retire(buf, old);
	ret = 0;
out_unlock:
	dma_resv_unlock(dmabuf->resv);
	if (new)
		mover_pages_free(new);
	return ret;
}

struct mover_work {
	struct work_struct	work;
	struct dma_buf		*dmabuf;
	unsigned int		timeout_ms;
	long			ret;
};

static void mover_move_work(struct work_struct *work)
{
	struct mover_work *mw = container_of(work, struct mover_work, work);

	mw->ret = mover_do_move(mw->dmabuf, mw->timeout_ms);
}

static long mover_move(struct dmabuf_mover_move __user *uarg, bool worker)
{
	struct dmabuf_mover_move arg;
	struct mover_work mw;
	struct dma_buf *dmabuf;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	dmabuf = mover_get(arg.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	if (!worker) {
		mw.ret = mover_do_move(dmabuf, arg.timeout_ms);
	} else {
		/* where GPU drivers queue their eviction and restore work */
		mw.dmabuf = dmabuf;
		mw.timeout_ms = arg.timeout_ms;
		INIT_WORK_ONSTACK(&mw.work, mover_move_work);
		queue_work(system_percpu_wq, &mw.work);
		flush_work(&mw.work);
		destroy_work_on_stack(&mw.work);
	}
	dma_buf_put(dmabuf);
	return mw.ret;
}

static long mover_stats(struct dmabuf_mover_stats __user *uarg)
{
	struct dmabuf_mover_stats arg;
	struct dma_buf *dmabuf;
	struct mover_buf *buf;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.fd == -1) {
		memset(&arg, 0, sizeof(arg));
		arg.fd = -1;
		arg.buffers = atomic64_read(&mover_buffers);
		arg.mapped = atomic64_read(&mover_mapped);
		arg.attachments = atomic64_read(&mover_attachments);
		return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
	}
	dmabuf = mover_get(arg.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	buf = dmabuf->priv;
	dma_resv_lock(dmabuf->resv, NULL);
	arg.moves = buf->moves;
	arg.retired = buf->retired;
	arg.pending = buf->pending;
	arg.stale_bytes = buf->stale_bytes;
	arg.maps = buf->maps;
	arg.mapped = buf->mapped;
	arg.attachments = buf->attachments;
	dma_resv_unlock(dmabuf->resv);
	dma_buf_put(dmabuf);
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static long mover_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case DMABUF_MOVER_CREATE:
		return mover_create(uarg);
	case DMABUF_MOVER_MOVE:
		return mover_move(uarg, false);
	case DMABUF_MOVER_MOVE_WORKER:
		return mover_move(uarg, true);
	case DMABUF_MOVER_STATS:
		return mover_stats(uarg);
	}
	return -ENOTTY;
}

static const struct file_operations mover_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= mover_ioctl,
};

static struct miscdevice mover_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "dmabuf_mover",
	.fops	= &mover_fops,
};

module_misc_device(mover_dev);
MODULE_DESCRIPTION("dma-buf exporter that moves buffers on demand, for tests");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("DMA_BUF");
