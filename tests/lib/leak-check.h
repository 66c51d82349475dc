/* SPDX-License-Identifier: MIT */
/*
 * What a leak test compares before and after its register/unregister
 * cycles (life/leak with dma-bufs, premap/leak with premapped memory): a
 * /proc/meminfo figure (SUnreclaim, MemFree), the process's open fds, and,
 * on a kernel with kmemleak (debug kernels, where slab grows on its own and
 * kmemleak is the judge), a scan.
 */
#ifndef DMABUF_RW_LEAK_CHECK_H
#define DMABUF_RW_LEAK_CHECK_H

#include <dirent.h>

#include "test.h"

#define LEAK_KMEMLEAK	"/sys/kernel/debug/kmemleak"

static inline int leak_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory itself */
}

/* Write cmd ("clear", "scan") to kmemleak; -1 on a kernel without it. */
static inline int leak_kmemleak(const char *cmd)
{
	FILE *f = fopen(LEAK_KMEMLEAK, "w");

	if (!f)
		return -1;
	fputs(cmd, f);
	fclose(f);
	return 0;
}

/*
 * Fail if kmemleak finds anything since the last "clear", printing the
 * first 40 lines of its report.  Two scans: kmemleak holds back an object
 * whose contents changed since the scan before.
 */
static inline void leak_kmemleak_check(void)
{
	char line[256];
	int leaks = 0;
	FILE *f;

	leak_kmemleak("scan");
	leak_kmemleak("scan");
	f = fopen(LEAK_KMEMLEAK, "r");
	while (f && fgets(line, sizeof(line), f))
		if (leaks++ < 40)
			printf("kmemleak: %s", line);
	if (f)
		fclose(f);
	if (leaks)
		t_fail("kmemleak reports leaks after the cycles");
	printf("kmemleak: scan clean\n");
}

#endif /* DMABUF_RW_LEAK_CHECK_H */
