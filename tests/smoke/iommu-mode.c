// SPDX-License-Identifier: MIT
/*
 * Smoke: the guest runs in the IOMMU mode the test bed asked for.  The run
 * script passes dmabuf_rw.iommu=none|strict|lazy|pt; every NVMe controller
 * must then be in an IOMMU group whose default domain type is "DMA"
 * (strict), "DMA-FQ" (lazy) or "identity" (pt), or, for none, there must be
 * no IOMMU at all.  Everything else in the suite trusts this.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

static int count_iommus(void)
{
	DIR *d = opendir("/sys/class/iommu");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* "" when the device has no IOMMU group; NULL on error. */
static const char *group_type(const char *ctrl, char *out, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t l;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/nvme/%s/device/iommu_group", ctrl);
	l = readlink(path, link, sizeof(link) - 1);
	if (l < 0)
		return errno == ENOENT ? "" : NULL;
	link[l] = 0;
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/type",
		 strrchr(link, '/') + 1);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	if (!fgets(out, len, f))
		out[0] = 0;
	fclose(f);
	out[strcspn(out, "\n")] = 0;
	return out;
}

int main(void)
{
	static const struct { const char *mode, *type; } modes[] = {
		{ "none", "" }, { "strict", "DMA" }, { "lazy", "DMA-FQ" }, { "pt", "identity" },
	};
	const char *mode = t_cmdline("dmabuf_rw.iommu"), *want = NULL, *got;
	int iommus = count_iommus(), ctrls = 0, bad = 0;
	struct dirent *e;
	char buf[64];
	unsigned int i;
	DIR *d;

	if (!mode)
		t_missing("dmabuf_rw.iommu= on the kernel command line (vm/run-vm.sh sets it)");
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(mode, modes[i].mode))
			want = modes[i].type;
	if (!want)
		t_fail("unknown dmabuf_rw.iommu=%s", mode);

	printf("requested %s; %d IOMMU(s) in /sys/class/iommu\n", mode, iommus);
	if (!strcmp(mode, "none") && iommus)
		t_fail("mode none but /sys/class/iommu lists %d IOMMU(s)", iommus);
	if (strcmp(mode, "none") && !iommus)
		t_fail("mode %s but no IOMMU is registered", mode);

	d = opendir("/sys/class/nvme");
	if (!d)
		t_missing("NVMe controllers: /sys/class/nvme: %s", strerror(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		ctrls++;
		got = group_type(e->d_name, buf, sizeof(buf));
		if (!got)
			t_fail("%s: cannot read its IOMMU group type", e->d_name);
		printf("%s: %s\n", e->d_name, *got ? got : "no IOMMU group");
		if (strcmp(got, want)) {
			printf("%s: domain type \"%s\", want \"%s\" for %s\n",
			       e->d_name, got, want, mode);
			bad++;
		}
	}
	closedir(d);
	if (ctrls < t_bed_drives())
		t_missing("NVMe controllers: %d in /sys/class/nvme, the bed has %d drives",
			  ctrls, t_bed_drives());
	if (bad)
		t_fail("%d of %d controllers not in IOMMU mode %s", bad, ctrls, mode);
	return T_EXIT_PASS;
}
