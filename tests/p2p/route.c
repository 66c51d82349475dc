// SPDX-License-Identifier: MIT
/*
 * Which drive reaches which BAR on this bed, and what happens when one
 * cannot.
 *
 * For every drive and BAR the route the kernel must choose is recomputed
 * from the topology, the ACS control registers on the path, the host
 * bridge and the CPU (p2p_route(), after drivers/pci/p2pdma.c), and:
 *  - where data can move, a READ_FIXED into the BAR and a WRITE_FIXED
 *    from it move exactly the right bytes, checked by guest and host;
 *  - where the kernel has no route, registration fails with -EXDEV (the
 *    exporter has no peer-to-peer path from the drive to the BAR; -EINVAL
 *    would be any of a dozen caller mistakes), the slot stays empty and
 *    neither the BAR nor the drive changes, seen from the host; dmabuf-io,
 *    given the same dma-buf (fd:N), says that there is no route;
 *  - where the kernel picks the bus address but QEMU sends the DMA up
 *    through the IOMMU (it does not route peer to peer inside a switch),
 *    registration works, the IOMMU blocks the read (a DMAR fault at the
 *    BAR's address in the kernel log), the BAR and the drive stay as they
 *    were and nothing hangs; see misrouted().
 */
#include "p2p-test.h"
#include "../tool/tool-test.h"

#define SEED_DEV	0x7017
#define SEED_BAR	0x7018
#define LEN		(64 * 1024)
#define BAR_OFF		(3 * 4096)	/* where the I/O goes in the BAR */
#define DEV_OFF		(1 * DT_MIB)	/* and on the drive */

static struct io_uring ring;

/* The BAR range and the drive range of the test are untouched. */
static void check_untouched(int fd, int n, const struct p2p_bar *b, const char *what)
{
	char img[16];

	snprintf(img, sizeof(img), "nvme%d", n);
	if (p2p_host_check(b->name, BAR_OFF - 4096, LEN + 8192, P2P_POISON, what) ||
	    p2p_host_verify(img, DEV_OFF - 4096, LEN + 8192, DEV_OFF - 4096, SEED_DEV, what) ||
	    dt_dev_verify(fd, DEV_OFF - 4096, LEN + 8192, SEED_DEV, what))
		t_fail("%s: %s changed the BAR or the drive", p2p_describe(n, b), what);
}

static void works(int fd, int n, const struct p2p_bar *b, int dmabuf)
{
	char img[16];
	int ret;

	snprintf(img, sizeof(img), "nvme%d", n);
	dt_expect(dmabuf_rw_register_dmabuf(&ring, 0, dmabuf, fd), 0, "%s: registering",
		  p2p_describe(n, b));
	ret = dt_io(&ring, IORING_OP_READ_FIXED, fd, BAR_OFF, LEN, DEV_OFF, 0);
	dt_expect_len(ret, LEN, "%s: READ_FIXED", p2p_describe(n, b));
	if (t_verify(b->map + BAR_OFF, LEN, DEV_OFF, SEED_DEV, "guest view") ||
	    p2p_host_verify(b->name, BAR_OFF, LEN, DEV_OFF, SEED_DEV, "host view") ||
	    p2p_host_check(b->name, BAR_OFF - 4096, 4096, P2P_POISON, "guard before") ||
	    p2p_host_check(b->name, BAR_OFF + LEN, 4096, P2P_POISON, "guard after"))
		t_fail("%s: READ_FIXED put the wrong bytes in the BAR", p2p_describe(n, b));

	p2p_host_fill(b->name, BAR_OFF, LEN, DEV_OFF, SEED_BAR);
	ret = dt_io(&ring, IORING_OP_WRITE_FIXED, fd, BAR_OFF, LEN, DEV_OFF, 0);
	dt_expect_len(ret, LEN, "%s: WRITE_FIXED", p2p_describe(n, b));
	if (dt_dev_verify(fd, DEV_OFF, LEN, SEED_BAR, "guest view") ||
	    p2p_host_verify(img, DEV_OFF, LEN, DEV_OFF, SEED_BAR, "host view") ||
	    p2p_host_verify(img, DEV_OFF - 4096, 4096, DEV_OFF - 4096, SEED_DEV, "block before") ||
	    p2p_host_verify(img, DEV_OFF + LEN, 4096, DEV_OFF + LEN, SEED_DEV, "block after"))
		t_fail("%s: WRITE_FIXED put the wrong bytes on the drive", p2p_describe(n, b));
	dt_dev_fill(fd, DEV_OFF, LEN, SEED_DEV);
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	printf("%s: data moves both ways\n", p2p_describe(n, b));
}

/*
 * dmabuf-io with the refused dma-buf, passed in as a descriptor (the way a
 * CUDA or ROCm program hands over GPU memory): a read-only bench fails at
 * registration and names the missing route, not a generic "invalid
 * argument".
 */
static void tool_refused(int n, const struct p2p_bar *b, int dmabuf)
{
	int inherited = fcntl(dmabuf, F_DUPFD, 20);
	struct tt_run r;
	char spec[32];

	if (inherited < 0)
		t_fail("F_DUPFD: %s", strerror(errno));
	snprintf(spec, sizeof(spec), "fd:%d", inherited);
	tt_run(&r, "bench", "-m", "dmabuf", "-d", spec, "-q", "1", "-n", "1", t_nvme_path(n),
	       NULL);
	close(inherited);
	if (r.status != 1 || !strstr(r.err, "no peer-to-peer route") || !strstr(r.err, "EXDEV"))
		tt_fail(&r, "%s: want dmabuf-io to fail and name the missing peer-to-peer route",
			p2p_describe(n, b));
	tt_free(&r);
}

static void refused(int fd, int n, const struct p2p_bar *b, int dmabuf)
{
	int ret;

	dt_expect(dmabuf_rw_register_dmabuf(&ring, 0, dmabuf, fd), -EXDEV,
		  "%s: registering", p2p_describe(n, b));
	ret = dt_io(&ring, IORING_OP_READ_FIXED, fd, BAR_OFF, LEN, DEV_OFF, 0);
	dt_expect(ret, -EFAULT, "%s: READ_FIXED on the slot left empty", p2p_describe(n, b));
	ret = dt_io(&ring, IORING_OP_WRITE_FIXED, fd, BAR_OFF, LEN, DEV_OFF, 0);
	dt_expect(ret, -EFAULT, "%s: WRITE_FIXED on the slot left empty", p2p_describe(n, b));
	check_untouched(fd, n, b, "refused registration");
	tool_refused(n, b, dmabuf);
	printf("%s: registration refused (-EXDEV), nothing touched; dmabuf-io explains it\n",
	       p2p_describe(n, b));
}

/*
 * A DMAR fault from drive n at an address inside BAR b in the kernel log:
 * the drive was given the BAR's bus address and the IOMMU stopped it.
 */
static bool dmar_fault(int n, const struct p2p_bar *b)
{
	unsigned long long start, end, addr;
	char dir[PATH_MAX], real[PATH_MAX], rec[1024], want[64], *p;
	const char *bdf;
	bool seen = false;
	ssize_t len;
	int kmsg;

	p2p_drive_dev(n, dir, sizeof(dir));
	if (!realpath(dir, real))
		t_fail("%s: %s", dir, strerror(errno));
	bdf = strrchr(real, '/') + 1;
	snprintf(want, sizeof(want), "Request device [%s]", bdf);
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/resource", b->bdf);
	{
		FILE *f = fopen(dir, "r");
		int i;

		if (!f)
			t_fail("%s: %s", dir, strerror(errno));
		for (i = 0; i <= VFIO_PCI_BAR2_REGION_INDEX; i++)
			if (fscanf(f, "%llx %llx %*x", &start, &end) != 2)
				t_fail("%s: no BAR 2", dir);
		fclose(f);
	}
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg < 0)
		t_fail("/dev/kmsg: %s", strerror(errno));
	while ((len = read(kmsg, rec, sizeof(rec) - 1)) != 0) {
		if (len < 0) {
			if (errno == EPIPE)	/* overwritten records */
				continue;
			break;			/* EAGAIN: the end */
		}
		rec[len] = 0;
		if (!strstr(rec, "DMAR: [DMA ") || !strstr(rec, want) ||
		    !(p = strstr(rec, "fault addr ")) ||
		    sscanf(p, "fault addr %llx", &addr) != 1)
			continue;
		seen |= addr >= start && addr <= end;
	}
	close(kmsg);
	return seen;
}

static unsigned int misrouted_pairs, faults_seen;

/*
 * QEMU's xio3130 switch ports have no ACS capability, so the kernel
 * rightly picks bus addresses below the switch even with an IOMMU; but
 * QEMU does not route peer to peer inside a switch: the drive's DMA goes
 * up to the IOMMU, where the bus address is an unmapped IOVA.  The IOMMU
 * blocks it and reports a DMAR fault, while QEMU's NVMe completes the
 * command anyway (its DMA helpers bounce the failed access), so a read's
 * data is dropped and a write would store whatever QEMU's bounce buffer
 * held: no WRITE_FIXED here.  What must hold: the kernel maps (bus
 * addresses need no IOMMU mapping), the IOMMU keeps the BAR and memory
 * safe, and nothing hangs.
 */
static void misrouted(int fd, int n, const struct p2p_bar *b, int dmabuf)
{
	bool fault;
	int r;

	dt_expect(dmabuf_rw_register_dmabuf(&ring, 0, dmabuf, fd), 0, "%s: registering",
		  p2p_describe(n, b));
	r = dt_io(&ring, IORING_OP_READ_FIXED, fd, BAR_OFF, LEN, DEV_OFF, 0);
	if (r != LEN && r >= 0)
		t_fail("%s: READ_FIXED: res %d", p2p_describe(n, b), r);
	check_untouched(fd, n, b, "misrouted read");
	usleep(100 * 1000);
	fault = dmar_fault(n, b);
	misrouted_pairs++;
	faults_seen += fault;
	dt_expect(dmabuf_rw_clear_buffer(&ring, 0), 0, "clearing slot 0");
	printf("%s: registered; READ_FIXED %s (%s), the IOMMU blocked it (%s), BAR untouched\n",
	       p2p_describe(n, b), r < 0 ? "failed" : "completed", r < 0 ? strerror(-r) : "QEMU",
	       fault ? "DMAR fault at the BAR's bus address" :
	       "no new DMAR fault logged: QEMU compresses pending faults");
}

int main(void)
{
	struct p2p_bed bed;
	int n, i, ret, fd;

	p2p_require();
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 1);
	p2p_bed_open(&bed);
	printf("%s IOMMU; host bridge %s P2P\n", p2p_iommu_mode(),
	       p2p_host_bridge_trusted() ? "trusted with" : "not trusted with");
	p2p_print_acs();

	for (n = 0; n < bed.drives; n++) {
		fd = t_open_nvme(n, 0);
		dt_dev_fill(fd, 0, 2 * DT_MIB, SEED_DEV);
		for (i = 0; i < 2; i++) {
			const struct p2p_bar *b = &bed.bar[i];

			p2p_host_set(b->name, 0, BAR_OFF + LEN + 4096, P2P_POISON);
			switch (p2p_outcome(n, b)) {
			case P2P_WORKS:
				works(fd, n, b, bed.dmabuf[i]);
				break;
			case P2P_REFUSED:
				refused(fd, n, b, bed.dmabuf[i]);
				break;
			case P2P_MISROUTED:
				misrouted(fd, n, b, bed.dmabuf[i]);
				break;
			}
		}
		close(fd);
	}
	if (misrouted_pairs && !faults_seen)
		t_fail("bus addresses behind an IOMMU, but no DMAR fault at a BAR address was logged");
	io_uring_queue_exit(&ring);
	p2p_bed_close(&bed);
	dt_report();
	return T_EXIT_PASS;
}
