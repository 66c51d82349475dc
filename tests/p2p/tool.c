// SPDX-License-Identifier: MIT
/*
 * dmabuf-io with device memory (--dmabuf vfio:BDF), the way make bench and
 * users run it: the tool opens the VFIO group itself, so this test only
 * binds the BAR's device to vfio-pci and leaves the group closed.
 *
 * On the first drive -> BAR pair of this bed where data moves (p2p/route):
 *  - copy from drive 0 to the last drive (drive 1 splits every I/O) through
 *    a BAR slice: READ_FIXED into device memory, WRITE_FIXED out of it; the
 *    tool verifies, and the host checks the destination's image file;
 *  - bench, dmabuf and bounce, reads and writes at a fixed I/O count, one
 *    job and two (each its own slice of the BAR): every I/O done.
 */
#include "p2p-test.h"
#include "../tool/tool-test.h"

#define SEED		0x70c
#define SRC_OFF		(2 * DT_MIB)
#define DST_OFF		(24 * DT_MIB)
#define LEN		(6 * DT_MIB + 64 * 1024)	/* odd last 1 MiB chunk */

/* Find BAR name's device and bind it to vfio-pci without opening VFIO. */
static void bar_locate(struct p2p_bar *b, const char *name)
{
	char path[PATH_MAX];

	memset(b, 0, sizeof(*b));
	b->name = name;
	b->device = b->group = b->container = -1;
	if (!p2p_find_ivshmem(!strcmp(name, "sw") ? P2P_SW_PORT : P2P_RP_PORT,
			      b->bdf, sizeof(b->bdf)))
		t_fail("no ivshmem device for BAR %s", name);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", b->bdf);
	if (!realpath(path, b->path))
		t_fail("%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", b->bdf);
	p2p_bind_vfio(b->bdf, access(path, F_OK) != 0);
}

/* fd [off, +len) holds the pattern of source position pos. */
static int dev_holds(int fd, uint64_t off, size_t len, uint64_t pos, const char *what)
{
	unsigned char *buf = t_malloc(len);
	int bad;

	if (pread(fd, buf, len, off) != (ssize_t)len)
		t_fail("pread %zu bytes at %llu: %s", len, (unsigned long long)off, strerror(errno));
	bad = t_verify(buf, len, pos, SEED, what);
	free(buf);
	return bad;
}

/* bench at a fixed count; the JSON must report every I/O done. */
static void bench(const char *spec, const char *mode, const char *rw, const char *jobs,
		  const char *dev)
{
	struct tt_run r;
	double ios = 0;
	int found = 0;

	tt_run(&r, "bench", "-m", mode, "-d", spec, "-w", rw, "-j", jobs, "-b", "64k",
	       "-q", "4", "-n", "300", "-p", "seq", "-o", "32m", "-s", "16m", "--json", dev,
	       NULL);
	if (r.status || tt_json(r.out, "ios", &ios, &found) || !found || ios != 300)
		tt_fail(&r, "want status 0 and 300 I/Os in the JSON");
	printf("bench -m %s -w %s -j %s -d %s: 300 I/Os\n", mode, rw, jobs, spec);
	tt_free(&r);
}

int main(void)
{
	struct p2p_bar bar[2];
	char spec[48], img[16];
	const char *src, *dst;
	struct tt_run r;
	int n, i, fd0, fdn, last, b = -1;

	p2p_require();
	tt_tool();
	n = atoi(t_cmdline("dmabuf_rw.drives") ? t_cmdline("dmabuf_rw.drives") : "1");
	last = n - 1;
	bar_locate(&bar[0], "sw");
	bar_locate(&bar[1], "rp");
	/* a BAR both ends of the copy reach (they share the switch) */
	for (i = 0; i < 2 && b < 0; i++)
		if (p2p_outcome(0, &bar[i]) == P2P_WORKS && p2p_outcome(last, &bar[i]) == P2P_WORKS)
			b = i;
	if (b < 0)
		t_skip("no drive reaches device memory on this bed (%s IOMMU; p2p/route checks why)",
		       p2p_iommu_mode());
	printf("%s\n", p2p_describe(0, &bar[b]));
	snprintf(spec, sizeof(spec), "vfio:%s", bar[b].bdf);

	src = strdup(t_nvme_path(0));
	dst = strdup(t_nvme_path(last));
	fd0 = t_open_nvme(0, 0);
	fdn = t_open_nvme(last, 0);
	dt_dev_fill(fd0, SRC_OFF, LEN, SEED);
	dt_dev_fill(fdn, DST_OFF - DT_MIB, LEN + 2 * DT_MIB, SEED + 1);

	tt_run(&r, "copy", "-d", spec, "-s", "6356992", "-i", "2m", "-o", "24m", src, dst, NULL);
	if (r.status || !strstr(r.out, "verified:"))
		tt_fail(&r, "want status 0 and \"verified:\"");
	printf("%s\n", r.cmd);
	tt_free(&r);
	snprintf(img, sizeof(img), "nvme%d", last);
	if (dev_holds(fdn, DST_OFF, LEN, SRC_OFF, "copy, guest view") ||
	    p2p_host_verify(img, DST_OFF, LEN, SRC_OFF, SEED, "copy, host view") ||
	    p2p_host_verify(img, DST_OFF - DT_MIB, DT_MIB, DST_OFF - DT_MIB, SEED + 1, "before") ||
	    p2p_host_verify(img, DST_OFF + LEN, DT_MIB, DST_OFF + LEN, SEED + 1, "after"))
		t_fail("the copy through %s left the wrong data on %s", spec, dst);

	bench(spec, "dmabuf", "read", "1", src);
	bench(spec, "bounce", "read", "1", src);
	bench(spec, "dmabuf", "read", "2", src);
	bench(spec, "dmabuf", "write", "1", dst);
	bench(spec, "bounce", "write", "2", dst);

	close(fd0);
	close(fdn);
	dt_report();
	return T_EXIT_PASS;
}
