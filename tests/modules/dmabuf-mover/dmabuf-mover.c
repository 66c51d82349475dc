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

struct mover_buf {
	struct dma_buf		*dmabuf;
	struct mover_pages	*cur;
	unsigned int		pinned;
	u64			moves, retired, pending, stale_bytes, maps;
	u64			mapped, attachments;
};

/* Module-wide counts, so tests can see that importers released everything. */
static atomic64_t mover_buffers, mover_mapped, mover_attachments;

struct mover_sgt {
	struct sg_table		sgt;
	struct mover_pages	*mp;
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
	ret = sg_alloc_table_from_pages(&ms->sgt, buf->cur->pages, buf->cur->nr,
					0, attach->dmabuf->size, GFP_KERNEL);
	if (ret)
		goto err_free;
	ret = dma_map_sgtable(attach->dev, &ms->sgt, dir, 0);
	if (ret)
		goto err_table;
	ms->mp = buf->cur;
	ms->mp->users++;
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
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	buf->mapped--;
	atomic64_dec(&mover_mapped);
	if (!--ms->mp->users && ms->mp->retired)
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

/*
 * Install the PTE under the reservation lock: a move zaps CPU mappings under
 * the same lock, so no PTE to an old page can be installed after the zap.
 */
static vm_fault_t mover_fault(struct vm_fault *vmf)
{
	struct dma_buf *dmabuf = vmf->vma->vm_private_data;
	struct mover_buf *buf = dmabuf->priv;
	vm_fault_t ret;

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

static void mover_release(struct dma_buf *dmabuf)
{
	struct mover_buf *buf = dmabuf->priv;

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

static long mover_create(struct dmabuf_mover_create __user *uarg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct dmabuf_mover_create arg;
	struct mover_buf *buf;
	struct dma_buf *dmabuf;
	int fd;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.size || arg.size & ~PAGE_MASK || arg.size > SZ_1G || arg.pad)
		return -EINVAL;

	buf = kzalloc_obj(*buf);
	if (!buf)
		return -ENOMEM;
	buf->cur = mover_pages_alloc(arg.size >> PAGE_SHIFT);
	if (!buf->cur) {
		kfree(buf);
		return -ENOMEM;
	}
	info.ops = &mover_ops;
	info.size = arg.size;
	info.flags = O_RDWR;
	info.priv = buf;
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
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
static long mover_move(struct dmabuf_mover_move __user *uarg)
{
	struct dmabuf_mover_move arg;
	struct mover_pages *old, *new;
	struct dma_buf *dmabuf;
	struct mover_buf *buf;
	unsigned int i;
	long ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	dmabuf = mover_get(arg.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	buf = dmabuf->priv;

	ret = -ENOMEM;
	new = mover_pages_alloc(dmabuf->size >> PAGE_SHIFT);
	if (!new)
		goto out_put;

	dma_resv_lock(dmabuf->resv, NULL);
	ret = -EBUSY;
	if (buf->pinned)
		goto out_unlock;

	/* Importers stop using their mappings and fence what is in flight. */
	dma_buf_invalidate_mappings(dmabuf);
	ret = dma_resv_wait_timeout(dmabuf->resv, DMA_RESV_USAGE_BOOKKEEP,
				    false, msecs_to_jiffies(arg.timeout_ms));
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
out_put:
	dma_buf_put(dmabuf);
	return ret;
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
		return mover_move(uarg);
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
