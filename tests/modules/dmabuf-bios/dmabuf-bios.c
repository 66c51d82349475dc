// SPDX-License-Identifier: GPL-2.0
/*
 * dmabuf-bios: count the bios that carry their data in a dma-buf I/O map.
 *
 * A registered buffer mapped once for its target (IO_REGBUF_F_TARGET) and
 * an ordinary one look the same from user space once registered: the only
 * difference is the path each I/O takes.  Direct I/O through a dma-buf I/O
 * token builds exactly one bio per I/O with bio_set_dmabuf() (the block
 * layer's split clones do not call it), so counting those calls tells the
 * tests which path an I/O took: one per READ_FIXED/WRITE_FIXED that used
 * the long-lived mapping, none for one that was mapped per I/O.
 *
 * While /sys/module/dmabuf_bios/parameters/armed is 1, a kprobe on
 * bio_set_dmabuf() increments parameters/bios.  The probe exists only while
 * armed, so loading the module (every test boot and the benchmarks do)
 * costs nothing.
 */
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/mutex.h>

static DEFINE_MUTEX(bios_lock);
static struct kprobe bios_kp;
static bool armed;
static atomic_long_t bios = ATOMIC_LONG_INIT(0);

static int bios_pre(struct kprobe *p, struct pt_regs *regs)
{
	atomic_long_inc(&bios);
	return 0;
}

static int get_bios(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&bios));
}

static const struct kernel_param_ops bios_ops = { .get = get_bios };
module_param_cb(bios, &bios_ops, NULL, 0444);
MODULE_PARM_DESC(bios, "bio_set_dmabuf() calls seen while armed");

/* 1 registers the probe, 0 removes it. */
static int set_armed(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret)
		return ret;
	mutex_lock(&bios_lock);
	if (on && !armed) {
		bios_kp = (struct kprobe) {
			.symbol_name	= "bio_set_dmabuf",
			.pre_handler	= bios_pre,
		};
		ret = register_kprobe(&bios_kp);
	} else if (!on && armed) {
		unregister_kprobe(&bios_kp);
	}
	if (!ret)
		armed = on;
	mutex_unlock(&bios_lock);
	return ret;
}

static int get_armed(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(armed));
}

static const struct kernel_param_ops armed_ops = {
	.set	= set_armed,
	.get	= get_armed,
};
module_param_cb(armed, &armed_ops, NULL, 0644);
MODULE_PARM_DESC(armed, "count bio_set_dmabuf() calls while 1");

static void __exit bios_exit(void)
{
	if (armed)
		unregister_kprobe(&bios_kp);
}

module_exit(bios_exit);
MODULE_DESCRIPTION("count bios built from dma-buf I/O maps, for tests");
MODULE_LICENSE("GPL");
