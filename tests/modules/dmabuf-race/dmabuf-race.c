// SPDX-License-Identifier: GPL-2.0
/*
 * dmabuf-race: widen race windows of the dma-buf I/O path for tests.
 *
 * While /sys/module/dmabuf_race/parameters/bio_put_delay_us is not 0, a
 * kprobe on bio_put() spins that many microseconds before a bio that still
 * carries a dma-buf map (BIO_DMABUF) is put.  The probe exists only while
 * the delay is set, so loading the module costs nothing.  The completion of direct I/O must have
 * dropped the map before it completed the iocb: a bio that reaches
 * bio_put() with its map after the iocb completed lets the submitter free
 * the token under it.  With the delay, that window is milliseconds wide and
 * a test that unregisters the buffer as soon as its I/O completes hits it
 * every few I/Os; delayed_puts counts the puts that were delayed.
 */
#include <linux/bio.h>
#include <linux/delay.h>
#include <linux/kprobes.h>
#include <linux/module.h>

static unsigned int bio_put_delay_us;
static DEFINE_MUTEX(race_lock);
static struct kprobe race_kp;

static atomic_t delayed_puts = ATOMIC_INIT(0);
static int get_delayed(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&delayed_puts));
}

static const struct kernel_param_ops delayed_ops = { .get = get_delayed };
module_param_cb(delayed_puts, &delayed_ops, NULL, 0444);

static int race_bio_put(struct kprobe *p, struct pt_regs *regs)
{
	struct bio *bio = (struct bio *)regs_get_kernel_argument(regs, 0);
	unsigned int us = READ_ONCE(bio_put_delay_us);

	if (!us || !bio_flagged(bio, BIO_DMABUF) || bio_flagged(bio, BIO_CLONED))
		return 0;
	atomic_inc(&delayed_puts);
	while (us > 1000) {
		mdelay(1);
		us -= 1000;
	}
	udelay(us);
	return 0;
}

/* Setting the delay arms the probe, 0 disarms it. */
static int set_delay(const char *val, const struct kernel_param *kp)
{
	unsigned int us;
	int ret = kstrtouint(val, 0, &us);

	if (ret)
		return ret;
	if (us > 100000)
		return -EINVAL;
	mutex_lock(&race_lock);
	if (us && !bio_put_delay_us) {
		race_kp = (struct kprobe) {
			.symbol_name	= "bio_put",
			.pre_handler	= race_bio_put,
		};
		ret = register_kprobe(&race_kp);
	} else if (!us && bio_put_delay_us) {
		unregister_kprobe(&race_kp);
	}
	if (!ret)
		WRITE_ONCE(bio_put_delay_us, us);
	mutex_unlock(&race_lock);
	return ret;
}

static const struct kernel_param_ops delay_ops = {
	.set	= set_delay,
	.get	= param_get_uint,
};
module_param_cb(bio_put_delay_us, &delay_ops, &bio_put_delay_us, 0644);
MODULE_PARM_DESC(bio_put_delay_us, "spin before putting a bio that holds a dma-buf map");

static void __exit race_exit(void)
{
	if (bio_put_delay_us)
		unregister_kprobe(&race_kp);
}

module_exit(race_exit);
MODULE_DESCRIPTION("widen race windows of dma-buf I/O, for tests");
MODULE_LICENSE("GPL");
