/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the p2p/ tests: NVMe I/O straight into and out of
 * device memory, the GPU case, on top of dmabuf-test.h.
 *
 * The bed (vm/run-vm.sh --p2p SIZE, booted by make check for p2p/ tests):
 * the NVMe drives sit behind one PCIe switch (root port 00:10.0) together
 * with an ivshmem device, BAR "sw"; a second ivshmem, BAR "rp", has a root
 * port of its own (00:11.0).  BAR 2 of each stands in for GPU memory: the
 * test binds the device to vfio-pci and exports the BAR as a dma-buf
 * (VFIO_DEVICE_FEATURE_DMA_BUF), which NVMe reads into and writes from
 * peer to peer.  The BARs' memory is a file on the host; the host's bar
 * agent (vm/bar-agent.c) checks and writes it, and the drive images, on
 * request, through the mailbox of a third ivshmem device (00:12.0): what
 * the devices really did, seen from outside the guest.
 *
 * Whether a drive can reach a BAR is the kernel's P2PDMA decision
 * (drivers/pci/p2pdma.c), recomputed here from the topology:
 * p2p_route() says which route the kernel must pick and p2p_outcome()
 * what must happen on this emulator.
 */
#ifndef DMABUF_RW_P2P_TEST_H
#define DMABUF_RW_P2P_TEST_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <linux/pci_regs.h>
#include <dmabuf-rw/vfio.h>

#include "../dmabuf/dmabuf-test.h"
#include "../../vm/bar-agent.h"

#define P2P_SW_PORT	"0000:00:10.0"	/* root port above the switch */
#define P2P_RP_PORT	"0000:00:11.0"	/* root port of BAR "rp" */
#define P2P_CTL_DEV	"0000:00:12.0"	/* the agent's mailbox */
#define P2P_POISON	0xa5

/* ---- sysfs ---- */

/* First line of a sysfs file, without the newline; "" if unreadable. */
static inline const char *p2p_sysfs(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline const char *p2p_sysfs(const char *fmt, ...)
{
	static char buf[256];
	char path[PATH_MAX];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	buf[0] = 0;
	f = fopen(path, "r");
	if (!f)
		return buf;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

static inline int p2p_sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* ---- the host's bar agent ---- */

static struct bar_agent_mbox *p2p_mbox;

static inline void p2p_agent_open(void)
{
	const char *dir = "/sys/bus/pci/devices/" P2P_CTL_DEV;
	char path[PATH_MAX];
	int fd, i;

	if (p2p_mbox)
		return;
	if (strcmp(p2p_sysfs("%s/vendor", dir), "0x1af4") ||
	    strcmp(p2p_sysfs("%s/device", dir), "0x1110"))
		t_fail("no ivshmem mailbox at %s: not the --p2p bed?", P2P_CTL_DEV);
	/* the device has no driver: enable memory decode for the mapping */
	snprintf(path, sizeof(path), "%s/enable", dir);
	if (strcmp(p2p_sysfs("%s", path), "1"))
		p2p_sysfs_write(path, "1");
	snprintf(path, sizeof(path), "%s/resource2", dir);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		t_fail("open %s: %s", path, strerror(errno));
	p2p_mbox = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p2p_mbox == MAP_FAILED)
		t_fail("mmap %s: %s", path, strerror(errno));
	close(fd);
	for (i = 0; i < 1000; i++) {
		if (__atomic_load_n(&p2p_mbox->magic, __ATOMIC_ACQUIRE) == BAR_AGENT_MAGIC)
			return;
		usleep(10000);
	}
	t_fail("the host's bar agent is not running (no magic in the mailbox)");
}

/*
 * One request to the agent: op on [off, off + len) of target.  Returns 0
 * (done, or the range matches), 1 (mismatch: described on stdout, what
 * says where) or fails the test when the agent errs or does not answer.
 */
static inline int p2p_host(enum bar_agent_op op, const char *target, uint64_t off,
			   uint64_t len, uint64_t pos, uint32_t seed, int byte,
			   const char *what)
{
	struct bar_agent_mbox *m;
	uint32_t seq;
	int i;

	p2p_agent_open();
	m = p2p_mbox;
	seq = __atomic_load_n(&m->guest_seq, __ATOMIC_RELAXED) + 1;
	m->op = op;
	memset(m->target, 0, sizeof(m->target));
	strncpy(m->target, target, sizeof(m->target) - 1);
	m->off = off;
	m->len = len;
	m->pos = pos;
	m->seed = seed;
	m->byte = byte;
	__atomic_store_n(&m->guest_seq, seq, __ATOMIC_RELEASE);
	for (i = 0; __atomic_load_n(&m->agent_seq, __ATOMIC_ACQUIRE) != seq; i++) {
		if (i == 60 * 10000)
			t_fail("the host's bar agent did not answer request %u in 60 s", seq);
		usleep(100);
	}
	if (m->status < 0)
		t_fail("host agent, %s: error %d: %.*s", what, m->status,
		       (int)sizeof(m->msg), m->msg);
	if (m->status)
		printf("host view of %s +%llu: %llu of %llu bytes differ, first at +%llu: got 0x%02x want 0x%02x (%s)\n",
		       target, (unsigned long long)off, (unsigned long long)m->bad,
		       (unsigned long long)len, (unsigned long long)m->first,
		       m->got, m->want, what);
	return m->status;
}

/* The host checks target [off, +len) against the pattern of pos. */
static inline int p2p_host_verify(const char *target, uint64_t off, uint64_t len,
				  uint64_t pos, uint32_t seed, const char *what)
{
	return p2p_host(BAR_AGENT_VERIFY, target, off, len, pos, seed, 0, what);
}

/* The host checks that every byte of target [off, +len) is byte. */
static inline int p2p_host_check(const char *target, uint64_t off, uint64_t len,
				 int byte, const char *what)
{
	return p2p_host(BAR_AGENT_CHECK, target, off, len, 0, 0, byte, what);
}

static inline void p2p_host_fill(const char *target, uint64_t off, uint64_t len,
				 uint64_t pos, uint32_t seed)
{
	p2p_host(BAR_AGENT_FILL, target, off, len, pos, seed, 0, "fill");
}

static inline void p2p_host_set(const char *target, uint64_t off, uint64_t len,
				int byte)
{
	p2p_host(BAR_AGENT_SET, target, off, len, 0, 0, byte, "set");
}

/* ---- the bed ---- */

/*
 * Skip unless this is the --p2p bed (dmabuf_rw.p2p=); there, fail unless
 * the kernel has dma-buf I/O and vfio-pci with its container interface.
 */
static inline void p2p_require(void)
{
	if (!t_cmdline("dmabuf_rw.p2p"))
		t_skip("not the device-memory bed (vm/run-vm.sh --p2p; make check boots it)");
	dt_require();
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK))
		t_missing("vfio-pci (CONFIG_VFIO_PCI)");
	if (access("/dev/vfio/vfio", F_OK))
		t_missing("the VFIO container interface /dev/vfio/vfio (CONFIG_VFIO_CONTAINER)");
	p2p_agent_open();
}

static inline const char *p2p_iommu_mode(void)
{
	const char *m = t_cmdline("dmabuf_rw.iommu");

	return m ? m : "?";
}

/* ---- device memory: an ivshmem BAR through vfio-pci ---- */

struct p2p_bar {
	const char *name;		/* "sw" or "rp": the agent's target */
	char bdf[16];
	char path[PATH_MAX];		/* its sysfs device directory, resolved */
	int container, group, device;	/* VFIO fds */
	uint64_t size;			/* BAR 2 */
	uint64_t bar_off;		/* region offsets in the device fd */
	uint64_t cfg_off;
	unsigned char *map;		/* BAR 2 through the VFIO region mmap */
};

/* The ivshmem device behind root port port, or NULL. */
static inline const char *p2p_find_ivshmem(const char *port, char *bdf, size_t len)
{
	char path[PATH_MAX], real[PATH_MAX], want[32];
	struct dirent *d;
	DIR *dir = opendir("/sys/bus/pci/devices");

	if (!dir)
		return NULL;
	snprintf(want, sizeof(want), "/%s/", port);
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		if (strcmp(p2p_sysfs("/sys/bus/pci/devices/%s/vendor", d->d_name), "0x1af4") ||
		    strcmp(p2p_sysfs("/sys/bus/pci/devices/%s/device", d->d_name), "0x1110"))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", d->d_name);
		if (!realpath(path, real) || !strstr(real, want))
			continue;
		snprintf(bdf, len, "%.15s", d->d_name);
		closedir(dir);
		return bdf;
	}
	closedir(dir);
	return NULL;
}

/* Bind bdf to vfio-pci (idempotent); without an IOMMU in no-IOMMU mode. */
static inline void p2p_bind_vfio(const char *bdf, bool noiommu)
{
	char path[PATH_MAX], drv[PATH_MAX];
	ssize_t n;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, drv, sizeof(drv) - 1);
	if (n > 0) {
		drv[n] = 0;
		if (strstr(drv, "/vfio-pci"))
			return;
		t_fail("%s is bound to %s, not vfio-pci", bdf, drv);
	}
	if (noiommu) {
		ret = p2p_sysfs_write("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "1");
		if (ret)
			t_fail("enabling VFIO no-IOMMU mode: %s", strerror(-ret));
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	ret = p2p_sysfs_write(path, "vfio-pci");
	if (ret)
		t_fail("%s: %s", path, strerror(-ret));
	ret = p2p_sysfs_write("/sys/bus/pci/drivers/vfio-pci/bind", bdf);
	if (ret)
		t_fail("binding %s to vfio-pci: %s", bdf, strerror(-ret));
}

/*
 * Open BAR name ("sw", "rp") through VFIO: its group (/dev/vfio/N, or
 * /dev/vfio/noiommu-N without an IOMMU) in a new container with the type1
 * or no-IOMMU backend, the device, and an mmap of BAR 2.
 */
static inline void p2p_bar_open_device(struct p2p_bar *b);

static inline void p2p_bar_open(struct p2p_bar *b, const char *name)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], link[PATH_MAX];
	const char *group;
	bool noiommu;
	ssize_t n;

	memset(b, 0, sizeof(*b));
	b->name = name;
	if (!p2p_find_ivshmem(!strcmp(name, "sw") ? P2P_SW_PORT : P2P_RP_PORT,
			      b->bdf, sizeof(b->bdf)))
		t_fail("no ivshmem device for BAR %s", name);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", b->bdf);
	if (!realpath(path, b->path))
		t_fail("%s: %s", path, strerror(errno));

	/* an IOMMU group before vfio-pci: a real IOMMU */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", b->bdf);
	noiommu = access(path, F_OK) != 0;
	p2p_bind_vfio(b->bdf, noiommu);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		t_fail("%s: no IOMMU group after binding to vfio-pci", b->bdf);
	link[n] = 0;
	group = strrchr(link, '/') + 1;
	noiommu = !strcmp(p2p_sysfs("/sys/kernel/iommu_groups/%s/name", group), "vfio-noiommu");
	snprintf(path, sizeof(path), "/dev/vfio/%s%s", noiommu ? "noiommu-" : "", group);

	b->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (b->container < 0)
		t_fail("open /dev/vfio/vfio: %s", strerror(errno));
	b->group = open(path, O_RDWR | O_CLOEXEC);
	if (b->group < 0)
		t_fail("open %s: %s", path, strerror(errno));
	if (ioctl(b->group, VFIO_GROUP_GET_STATUS, &status))
		t_fail("VFIO_GROUP_GET_STATUS: %s", strerror(errno));
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		t_fail("%s: group %s not viable (another device of the group has a driver)",
		       b->bdf, path);
	if (ioctl(b->group, VFIO_GROUP_SET_CONTAINER, &b->container))
		t_fail("VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
	if (ioctl(b->container, VFIO_SET_IOMMU,
		  noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU))
		t_fail("VFIO_SET_IOMMU(%s): %s", noiommu ? "no-IOMMU" : "type1v2",
		       strerror(errno));
	p2p_bar_open_device(b);
}

/* (Re)open the VFIO device of an open group; map BAR 2. */
static inline void p2p_bar_open_device(struct p2p_bar *b)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg) };

	b->device = ioctl(b->group, VFIO_GROUP_GET_DEVICE_FD, b->bdf);
	if (b->device < 0)
		t_fail("VFIO_GROUP_GET_DEVICE_FD %s: %s", b->bdf, strerror(errno));

	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(b->device, VFIO_DEVICE_GET_REGION_INFO, &reg))
		t_fail("config region info: %s", strerror(errno));
	b->cfg_off = reg.offset;
	reg.index = VFIO_PCI_BAR2_REGION_INDEX;
	reg.argsz = sizeof(reg);
	if (ioctl(b->device, VFIO_DEVICE_GET_REGION_INFO, &reg))
		t_fail("BAR 2 region info: %s", strerror(errno));
	if (!(reg.flags & VFIO_REGION_INFO_FLAG_MMAP) || !reg.size)
		t_fail("%s: BAR 2 cannot be mapped (flags %#x, %llu bytes)", b->bdf,
		       reg.flags, (unsigned long long)reg.size);
	b->size = reg.size;
	b->bar_off = reg.offset;
	b->map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, b->device,
		      b->bar_off);
	if (b->map == MAP_FAILED)
		t_fail("mmap BAR 2 of %s: %s", b->bdf, strerror(errno));
}

/*
 * Close the VFIO device: vfio-pci revokes the dma-bufs exported from it.
 * The mapping holds the device file too, so it goes first.
 */
static inline void p2p_bar_close_device(struct p2p_bar *b)
{
	if (b->map)
		munmap(b->map, b->size);
	if (b->device >= 0)
		close(b->device);
	b->map = NULL;
	b->device = -1;
}

static inline void p2p_bar_close(struct p2p_bar *b)
{
	p2p_bar_close_device(b);
	close(b->group);
	close(b->container);
}

/*
 * Export BAR 2 as a dma-buf made of nr ranges (offset, length pairs in the
 * BAR, in dma-buf order).  Returns the dma-buf fd or -errno.
 */
static inline int p2p_export_ranges(const struct p2p_bar *b, unsigned int nr,
				    const struct vfio_region_dma_range *ranges)
{
	size_t sz = sizeof(struct vfio_device_feature) +
		    sizeof(struct vfio_device_feature_dma_buf) + nr * sizeof(*ranges);
	struct vfio_device_feature *feat = calloc(1, sz);
	struct vfio_device_feature_dma_buf *db = (void *)feat->data;
	int fd;

	if (!feat)
		t_fail("out of memory");
	feat->argsz = sz;
	feat->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF;
	db->region_index = VFIO_PCI_BAR2_REGION_INDEX;
	db->open_flags = O_RDWR | O_CLOEXEC;
	db->nr_ranges = nr;
	memcpy(db->dma_ranges, ranges, nr * sizeof(*ranges));
	fd = ioctl(b->device, VFIO_DEVICE_FEATURE, feat);
	free(feat);
	return fd < 0 ? -errno : fd;
}

/* The whole BAR as one dma-buf; fails the test if VFIO refuses. */
static inline int p2p_export(const struct p2p_bar *b)
{
	struct vfio_region_dma_range r = { 0, b->size };
	int fd = p2p_export_ranges(b, 1, &r);

	if (fd == -ENOTTY || fd == -EOPNOTSUPP)
		t_missing("dma-buf export by vfio-pci (CONFIG_VFIO_PCI_DMABUF): %s",
			  strerror(-fd));
	if (fd < 0)
		t_fail("exporting BAR 2 of %s as a dma-buf: %s", b->bdf, strerror(-fd));
	return fd;
}

/* Read / write the PCI command register through VFIO's config region. */
static inline uint16_t p2p_bar_command(const struct p2p_bar *b)
{
	uint16_t cmd;

	if (pread(b->device, &cmd, 2, b->cfg_off + PCI_COMMAND) != 2)
		t_fail("reading the command register of %s: %s", b->bdf, strerror(errno));
	return cmd;
}

static inline void p2p_bar_set_command(const struct p2p_bar *b, uint16_t cmd)
{
	if (pwrite(b->device, &cmd, 2, b->cfg_off + PCI_COMMAND) != 2)
		t_fail("writing %#x to the command register of %s: %s", cmd, b->bdf,
		       strerror(errno));
}

/* CPU access to the BAR through the VFIO mapping (device memory: no sync). */
static inline void p2p_bar_poison(const struct p2p_bar *b, size_t off, size_t len)
{
	memset(b->map + off, P2P_POISON, len);
}

/* ---- routes ---- */

enum p2p_route {
	P2P_BUS_ADDR,		/* below a common switch, no ACS redirect */
	P2P_HOST_BRIDGE,	/* up to the root complex and back: the IOMMU maps it */
	P2P_NO_ROUTE,		/* through a root complex the kernel does not trust */
};

enum p2p_outcome {
	P2P_WORKS,		/* data moves between the drive and the BAR */
	P2P_REFUSED,		/* registration fails: -EXDEV from the exporter's map */
	P2P_MISROUTED,		/* bus address, but QEMU sends it through the IOMMU */
};

static const char *const p2p_route_names[] = {
	"bus address (peer to peer below the switch)",
	"through the host bridge",
	"no route (root complex not trusted with P2P)",
};

/* PCI devices on the path from the root to dev (sysfs directory), in order. */
static inline int p2p_path(const char *dir, char bdfs[][16], int max)
{
	char real[PATH_MAX], *tok, *save;
	unsigned int d, b, s, f;
	int n = 0;

	if (!realpath(dir, real))
		t_fail("%s: %s", dir, strerror(errno));
	for (tok = strtok_r(real, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (sscanf(tok, "%4x:%2x:%2x.%1x", &d, &b, &s, &f) != 4 || strlen(tok) != 12)
			continue;
		if (n < max)
			snprintf(bdfs[n++], 16, "%s", tok);
	}
	return n;
}

/* ACS P2P Request/Completion Redirect or Egress Control enabled on bdf? */
static inline bool p2p_acs_redirects(const char *bdf)
{
	unsigned char cfg[4096];
	char path[PATH_MAX];
	unsigned int pos = 0x100;
	ssize_t n;
	int fd, hops = 0;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		t_fail("%s: %s", path, strerror(errno));
	n = pread(fd, cfg, sizeof(cfg), 0);
	close(fd);
	if (n < 0x104)
		return false;		/* no extended configuration space */
	while (pos && pos + 8 <= (unsigned int)n && hops++ < 64) {
		uint32_t hdr;
		uint16_t ctrl;

		memcpy(&hdr, cfg + pos, 4);
		if (!hdr || hdr == 0xffffffff)
			break;
		if ((hdr & 0xffff) == PCI_EXT_CAP_ID_ACS) {
			memcpy(&ctrl, cfg + pos + PCI_ACS_CTRL, 2);
			return ctrl & (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC);
		}
		pos = hdr >> 20;
	}
	return false;
}

/* Print the bridges that redirect peer-to-peer requests upstream. */
static inline void p2p_print_acs(void)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	char list[512] = "";
	struct dirent *d;
	int bridges = 0;

	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.' ||
		    strncmp(p2p_sysfs("/sys/bus/pci/devices/%s/class", d->d_name), "0x0604", 6))
			continue;
		bridges++;
		if (p2p_acs_redirects(d->d_name) && strlen(list) + 16 < sizeof(list))
			snprintf(list + strlen(list), sizeof(list) - strlen(list), " %s",
				 d->d_name);
	}
	if (dir)
		closedir(dir);
	printf("%d PCI bridges; ACS redirect on:%s\n", bridges, list[0] ? list : " none");
}

/* The kernel trusts the root complex: cpu_supports_p2pdma() or whitelist. */
static inline bool p2p_host_bridge_trusted(void)
{
	char line[256], vendor[32] = "", hb[32];
	unsigned int family = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(hb, sizeof(hb), "%s", p2p_sysfs("/sys/bus/pci/devices/0000:00:00.0/vendor"));
	if (strcmp(hb, "0x8086") ||
	    strcmp(p2p_sysfs("/sys/bus/pci/devices/0000:00:00.0/device"), "0x29c0"))
		t_fail("host bridge %s:%s is not q35's 8086:29c0 (vm/run-vm.sh boots q35): cannot tell whether the kernel's P2PDMA whitelist has it",
		       hb, p2p_sysfs("/sys/bus/pci/devices/0000:00:00.0/device"));
	/* 8086:29c0 is not on the whitelist: only the CPU can make it trusted */
	if (!f)
		t_fail("/proc/cpuinfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (!vendor[0])
			sscanf(line, "vendor_id : %31s", vendor);
		if (!family && sscanf(line, "cpu family : %u", &family) == 1)
			break;
	}
	fclose(f);
	return !strcmp(vendor, "AuthenticAMD") && family >= 0x17;
}

/* The NVMe PCI function of bed drive n. */
static inline void p2p_drive_dev(int n, char *dir, size_t len)
{
	const char *dev = t_need_nvme(n);

	snprintf(dir, len, "/sys/block/%s/device/device", dev + 5);
}

/* Does the IOMMU translate the drive's DMA (a DMA or DMA-FQ domain)? */
static inline bool p2p_drive_translated(int n)
{
	char dir[PATH_MAX];
	const char *type;

	p2p_drive_dev(n, dir, sizeof(dir));
	type = p2p_sysfs("%s/iommu_group/type", dir);
	return !strcmp(type, "DMA") || !strcmp(type, "DMA-FQ");
}

/*
 * The route the kernel's calc_map_type_and_dist() must choose between
 * drive n (the client) and BAR b (the provider).
 */
static inline enum p2p_route p2p_route(int n, const struct p2p_bar *b)
{
	char dir[PATH_MAX], nv[16][16], bar[16][16];
	int nn, nb, common, i;

	p2p_drive_dev(n, dir, sizeof(dir));
	nn = p2p_path(dir, nv, 16);
	nb = p2p_path(b->path, bar, 16);
	for (common = 0; common < nn && common < nb && !strcmp(nv[common], bar[common]);
	     common++)
		;
	if (!common)
		return p2p_host_bridge_trusted() ? P2P_HOST_BRIDGE : P2P_NO_ROUTE;
	/* the common upstream bridge and everything below it on both sides */
	for (i = common - 1; i < nb; i++)
		if (p2p_acs_redirects(bar[i]))
			goto redirected;
	for (i = common; i < nn; i++)
		if (p2p_acs_redirects(nv[i]))
			goto redirected;
	return P2P_BUS_ADDR;
redirected:
	return p2p_host_bridge_trusted() ? P2P_HOST_BRIDGE : P2P_NO_ROUTE;
}

/*
 * What must happen on this emulator.  QEMU does not route peer-to-peer
 * inside a PCIe switch: every DMA goes up to the root complex, through the
 * IOMMU when the device has a translating domain.  A bus address there is
 * an unmapped IOVA.
 */
static inline enum p2p_outcome p2p_outcome(int n, const struct p2p_bar *b)
{
	switch (p2p_route(n, b)) {
	case P2P_NO_ROUTE:
		return P2P_REFUSED;
	case P2P_BUS_ADDR:
		return p2p_drive_translated(n) ? P2P_MISROUTED : P2P_WORKS;
	default:
		return P2P_WORKS;
	}
}

static const char *const p2p_outcome_names[] = {
	"data moves", "registration refused", "misrouted by QEMU",
};

/* The IOMMU domain of drive n's function ("none" without an IOMMU group). */
static inline const char *p2p_drive_domain(int n)
{
	static char type[32];
	char dir[PATH_MAX];

	p2p_drive_dev(n, dir, sizeof(dir));
	snprintf(type, sizeof(type), "%s", p2p_sysfs("%s/iommu_group/type", dir));
	return type[0] ? type : "none";
}

/* "drive 0 -> BAR sw: <route>, IOMMU domain DMA" */
static inline const char *p2p_describe(int n, const struct p2p_bar *b)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "drive %d -> BAR %s: %s, IOMMU domain %s", n,
		 b->name, p2p_route_names[p2p_route(n, b)], p2p_drive_domain(n));
	return buf;
}

/* Both BARs through VFIO, each exported whole as a dma-buf. */
struct p2p_bed {
	struct p2p_bar bar[2];
	int dmabuf[2];
	int drives;
};

static inline void p2p_bed_open(struct p2p_bed *bed)
{
	const char *d = t_cmdline("dmabuf_rw.drives");
	int i;

	bed->drives = d ? atoi(d) : 1;
	p2p_bar_open(&bed->bar[0], "sw");
	p2p_bar_open(&bed->bar[1], "rp");
	for (i = 0; i < 2; i++)
		bed->dmabuf[i] = p2p_export(&bed->bar[i]);
}

static inline void p2p_bed_close(struct p2p_bed *bed)
{
	int i;

	for (i = 0; i < 2; i++) {
		close(bed->dmabuf[i]);
		p2p_bar_close(&bed->bar[i]);
	}
}

#endif /* DMABUF_RW_P2P_TEST_H */
