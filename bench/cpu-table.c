// SPDX-License-Identifier: MIT
/*
 * make bench-cpu: turn the runs (build/bench/cpu-raw.csv) into the result.
 *
 *   bench-cpu-table RAW.csv CPU.csv [COLUMN]
 *
 * RAW.csv has a header and one row per run: boot (the IOMMU mode the guest
 * was booted in), rep, test (rand4k, seq1m, ...), then dmabuf-io's CSV
 * columns, of which mode and cpu_us_per_io (user + system time of the
 * process per I/O; under QEMU -icount an instruction count) are used, or
 * instead of the latter COLUMN: make bench-cpu's busy_us_per_io (the whole
 * guest's busy time per I/O, dmabuf-io --cpu system), or e.g.
 * sys_us_per_io.  RAW.csv without COLUMN (runs from before it was
 * measured) falls back to cpu_us_per_io, saying so.
 * For every (boot, test, mode) the program takes the median, min and max
 * of the repetitions and writes CPU.csv:
 *
 *   boot,test,mode,runs,cpu_us_per_io_median,cpu_us_per_io_min,cpu_us_per_io_max
 *
 * (the cpu_us_per_io_* columns hold COLUMN's figures), and when COLUMN is
 * another than cpu_us_per_io, the process's own figure after them:
 * process_us_per_io_median,process_us_per_io_min,process_us_per_io_max.
 *
 * and prints per test a table with every cell's spread (max - min) /
 * median and the ratios of medians: per boot fixed/plain and MODE/fixed,
 * and MODE/pt-fixed, MODE in this boot over fixed in passthrough, for
 * every mode other than plain and fixed (dmabuf, premapped, and any later
 * one).  The per-repetition ratios (the modes run interleaved within a
 * repetition) follow in brackets as [min..max].  Boots, tests and modes
 * keep the order of RAW.csv, boots in the order none, strict, lazy, pt (a
 * boot of the kernel without the series, make bench-cpu UNPATCHED=1, is
 * MODE-unpatched and follows them).  A table shows the modes measured in
 * its test only.  The file tests of make bench-cpu FILES=1 (ext4-rand4k,
 * xfs-seq1m, ...: modes file-dmabuf, file-fixed, raw-dmabuf) have no
 * fixed; their ratios are file-dmabuf/raw-dmabuf and
 * file-dmabuf/file-fixed.  Then the ratios against the targets of issues
 * 11, 12 and 13, each "met" or "not met" (reported, never enforced), and a
 * warning for every cell whose premapped runs the kernel mapped per I/O
 * (the optional premapped column says "no").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"

#define MAX_FIELDS	48
#define MAX_RUNS	64
#define MAX_GROUPS	256
#define MAX_NAMES	16
#define SPREAD_LIMIT	5.0	/* percent: what issue 11 asks of every cell */

struct group {
	int boot, test, mode;
	unsigned int n;
	unsigned int fellback;	/* premapped runs the kernel mapped per I/O */
	int rep[MAX_RUNS];
	double cpu[MAX_RUNS];
	double proc[MAX_RUNS];	/* cpu_us_per_io when cpu[] is another column */
};

static struct group groups[MAX_GROUPS];
static unsigned int ngroups;

/* names seen, in order; boots sorted by their place in known_boots */
struct names {
	char name[MAX_NAMES][32];
	int n;
};
static struct names boots, tests, modes;
static const char *const known_boots[] = { "none", "strict", "lazy", "pt" };

static int name_find(const struct names *s, const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return i;
	return -1;
}

static int name_add(struct names *s, const char *name)
{
	int i = name_find(s, name);

	if (i >= 0 || s->n == MAX_NAMES)
		return i;
	snprintf(s->name[s->n], sizeof(s->name[0]), "%s", name);
	return s->n++;
}

static struct group *group_get(int boot, int test, int mode, int create)
{
	unsigned int i;

	if (boot < 0 || test < 0 || mode < 0)
		return NULL;
	for (i = 0; i < ngroups; i++)
		if (groups[i].boot == boot && groups[i].test == test && groups[i].mode == mode)
			return &groups[i];
	if (!create || ngroups == MAX_GROUPS)
		return NULL;
	groups[ngroups] = (struct group){ .boot = boot, .test = test, .mode = mode };
	return &groups[ngroups++];
}

struct stat3 {
	double med, min, max;
	unsigned int n;
};

static struct stat3 stats(const double *in, unsigned int n)
{
	double v[MAX_RUNS];
	struct stat3 s = { NAN, NAN, NAN, 0 };
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!isnan(in[i]))
			v[s.n++] = in[i];
	if (!s.n)
		return s;
	qsort(v, s.n, sizeof(v[0]), cmp_double);
	s.min = v[0];
	s.max = v[s.n - 1];
	s.med = s.n % 2 ? v[s.n / 2] : (v[s.n / 2 - 1] + v[s.n / 2]) / 2;
	return s;
}

static struct stat3 group_stats(const struct group *g)
{
	struct stat3 none = { NAN, NAN, NAN, 0 };

	return g ? stats(g->cpu, g->n) : none;
}

static double spread(struct stat3 s)
{
	return s.n > 1 && s.med > 0 ? (s.max - s.min) / s.med * 100 : 0;
}

/* One table cell padded to w characters (not bytes: "±" is two bytes). */
static void rule(const int *w, int n)
{
	int i, j;

	printf("|");
	for (i = 0; i < n; i++) {
		for (j = 0; j < w[i] + 2; j++)
			putchar('-');
		printf("|");
	}
	printf("\n");
}

/*
 * a/b as a ratio of medians; when both groups come from one boot, the
 * per-repetition ratios [min..max] after it.
 */
static const char *ratio(const struct group *a, const struct group *b, char *buf, size_t len)
{
	struct stat3 sa = group_stats(a), sb = group_stats(b), r;
	double v[MAX_RUNS];
	unsigned int i, j, n = 0;

	if (!sa.n || !sb.n || !(sb.med > 0))
		return "n/a";
	if (a->boot != b->boot) {
		snprintf(buf, len, "%.3f", sa.med / sb.med);
		return buf;
	}
	for (i = 0; i < a->n; i++)
		for (j = 0; j < b->n; j++)
			if (a->rep[i] == b->rep[j] && b->cpu[j] > 0 && n < MAX_RUNS)
				v[n++] = a->cpu[i] / b->cpu[j];
	r = stats(v, n);
	if (r.n > 1)
		snprintf(buf, len, "%.3f [%.2f..%.2f]", sa.med / sb.med, r.min, r.max);
	else
		snprintf(buf, len, "%.3f", sa.med / sb.med);
	return buf;
}

static const char *value_col = "cpu_us_per_io";
static int have_proc;	/* the process's figure besides value_col's */

static int read_raw(const char *path)
{
	enum { C_BOOT, C_REP, C_TEST, C_MODE, C_CPU, NCOLS };
	const char *col_names[NCOLS] = {
		"boot", "rep", "test", "mode", value_col,
	};
	char line[4096], *f[MAX_FIELDS], *end;
	int col[NCOLS], n, i, j, lineno = 1, last = 0, b, pm = -1, pc = -1;
	FILE *in = fopen(path, "r");

	if (!in) {
		perror(path);
		return -1;
	}
	if (!fgets(line, sizeof(line), in)) {
		fprintf(stderr, "%s: empty\n", path);
		fclose(in);
		return -1;
	}
	n = csv_split(line, f, MAX_FIELDS);
	for (j = 0; j < n; j++)
		if (!strcmp(f[j], value_col))
			break;
	if (j == n && strcmp(value_col, "cpu_us_per_io")) {
		printf("NOTE: %s has no column %s (older runs): the process's cpu_us_per_io "
		       "instead.\n\n", path, value_col);
		value_col = col_names[C_CPU] = "cpu_us_per_io";
	}
	for (i = 0; i < NCOLS; i++) {
		for (col[i] = -1, j = 0; j < n; j++)
			if (!strcmp(f[j], col_names[i]))
				col[i] = j;
		if (col[i] < 0) {
			fprintf(stderr, "%s: no column %s in the header\n", path, col_names[i]);
			fclose(in);
			return -1;
		}
		if (col[i] > last)
			last = col[i];
	}
	/* optional: runs from before dmabuf-io knew premapped lack it */
	for (j = 0; j < n; j++) {
		if (!strcmp(f[j], "premapped"))
			pm = j;
		if (!strcmp(f[j], "cpu_us_per_io") && strcmp(value_col, "cpu_us_per_io"))
			pc = j;
	}
	have_proc = pc >= 0;
	for (b = 0; b < 4; b++)
		name_add(&boots, known_boots[b]);
	while (fgets(line, sizeof(line), in)) {
		struct group *g;
		double v;

		lineno++;
		n = csv_split(line, f, MAX_FIELDS);
		if (n <= last) {
			fprintf(stderr, "%s:%d: %d fields, skipped\n", path, lineno, n);
			continue;
		}
		v = strtod(f[col[C_CPU]], &end);
		if (end == f[col[C_CPU]])
			continue;	/* not measured in this run */
		g = group_get(name_add(&boots, f[col[C_BOOT]]), name_add(&tests, f[col[C_TEST]]),
			      name_add(&modes, f[col[C_MODE]]), 1);
		if (!g || g->n == MAX_RUNS)
			continue;
		g->rep[g->n] = atoi(f[col[C_REP]]);
		g->proc[g->n] = pc >= 0 && pc < n ? strtod(f[pc], NULL) : NAN;
		g->cpu[g->n++] = v;
		if (pm >= 0 && pm < n && !strcmp(f[pm], "no"))
			g->fellback++;
	}
	fclose(in);
	return 0;
}

static const char *const test_titles[][2] = {
	{ "rand4k", "4 KiB random reads, QD32" },
	{ "seq1m", "1 MiB sequential reads, QD8" },
	{ "ext4-rand4k", "a 128 MiB file on ext4, 4 KiB random reads, QD32" },
	{ "ext4-seq1m", "a 128 MiB file on ext4, 1 MiB sequential reads, QD8" },
	{ "xfs-rand4k", "a 128 MiB file on xfs, 4 KiB random reads, QD32" },
	{ "xfs-seq1m", "a 128 MiB file on xfs, 1 MiB sequential reads, QD8" },
};

/* Ratios within a boot for the tests that have both modes (the file tests). */
static const char *const pair_ratios[][2] = {
	{ "file-dmabuf", "raw-dmabuf" },
	{ "file-dmabuf", "file-fixed" },
};
#define NPAIRS	(int)(sizeof(pair_ratios) / sizeof(pair_ratios[0]))

/* mode m measured in test t, in any boot (-1: no such mode) */
static int measured(int t, int m)
{
	int b;

	for (b = 0; m >= 0 && b < boots.n; b++)
		if (group_get(b, t, m, 0))
			return 1;
	return 0;
}

static void table(int t, double *worst, unsigned int *over)
{
	const char *title = tests.name[t];
	int fixed = name_find(&modes, "fixed"), plain = name_find(&modes, "plain");
	int pt = name_find(&boots, "pt");
	int w[3 * MAX_NAMES + 2 + NPAIRS], nw = 0, b, m, p, pa[NPAIRS], pb[NPAIRS];
	char buf[64];
	unsigned int i;

	if (!measured(t, fixed))
		fixed = -1;
	if (!measured(t, plain))
		plain = -1;
	for (p = 0; p < NPAIRS; p++) {
		pa[p] = name_find(&modes, pair_ratios[p][0]);
		pb[p] = name_find(&modes, pair_ratios[p][1]);
		if (!measured(t, pa[p]) || !measured(t, pb[p]))
			pa[p] = -1;
	}
	for (i = 0; i < sizeof(test_titles) / sizeof(test_titles[0]); i++)
		if (!strcmp(test_titles[i][0], title))
			title = test_titles[i][1];
	printf("%s (%s): us per I/O, median ±spread\n\n", tests.name[t], title);

	printf("|");
	col("boot", w[nw++] = 16);
	for (m = 0; m < modes.n; m++) {
		if (!measured(t, m))
			continue;
		snprintf(buf, sizeof(buf), "%s", modes.name[m]);
		col(buf, w[nw++] = 15);
	}
	if (fixed >= 0 && plain >= 0)
		col("fixed/plain", w[nw++] = 20);
	for (m = 0; m < modes.n; m++) {
		if (m == fixed || m == plain || fixed < 0 || !measured(t, m))
			continue;
		snprintf(buf, sizeof(buf), "%s/fixed", modes.name[m]);
		col(buf, w[nw++] = 20);
		snprintf(buf, sizeof(buf), "%s/pt-fixed", modes.name[m]);
		col(buf, w[nw++] = 20);
	}
	for (p = 0; p < NPAIRS; p++) {
		if (pa[p] < 0)
			continue;
		snprintf(buf, sizeof(buf), "%s/%s", pair_ratios[p][0], pair_ratios[p][1]);
		col(buf, w[nw++] = 23);
	}
	printf("\n");
	rule(w, nw);

	for (b = 0; b < boots.n; b++) {
		int any = 0;

		for (m = 0; m < modes.n; m++)
			any |= !!group_get(b, t, m, 0);
		if (!any)
			continue;
		nw = 0;
		printf("|");
		col(boots.name[b], w[nw++]);
		for (m = 0; m < modes.n; m++) {
			struct stat3 s = group_stats(group_get(b, t, m, 0));

			if (!measured(t, m))
				continue;
			if (!s.n) {
				col("n/a", w[nw++]);
				continue;
			}
			if (spread(s) > *worst)
				*worst = spread(s);
			if (spread(s) > SPREAD_LIMIT)
				(*over)++;
			snprintf(buf, sizeof(buf), "%.2f ±%.1f%%%s", s.med, spread(s),
				 spread(s) > SPREAD_LIMIT ? "!" : "");
			col(buf, w[nw++]);
		}
		if (fixed >= 0 && plain >= 0)
			col(ratio(group_get(b, t, fixed, 0), group_get(b, t, plain, 0),
				  buf, sizeof(buf)), w[nw++]);
		for (m = 0; m < modes.n; m++) {
			if (m == fixed || m == plain || fixed < 0 || !measured(t, m))
				continue;
			col(ratio(group_get(b, t, m, 0), group_get(b, t, fixed, 0),
				  buf, sizeof(buf)), w[nw++]);
			col(ratio(group_get(b, t, m, 0), group_get(pt, t, fixed, 0),
				  buf, sizeof(buf)), w[nw++]);
		}
		for (p = 0; p < NPAIRS; p++)
			if (pa[p] >= 0)
				col(ratio(group_get(b, t, pa[p], 0), group_get(b, t, pb[p], 0),
					  buf, sizeof(buf)), w[nw++]);
		printf("\n");
	}
	printf("\n");
}

/*
 * The targets, ratios of medians, reported and never enforced.  Issue 12:
 * premapped buffers under an IOMMU that translates (strict, lazy) cost at
 * most 2% more CPU per I/O than ordinary fixed buffers in passthrough,
 * where nothing is mapped per I/O anyway; in passthrough premapped is no
 * dearer than fixed.  Issue 11: the ordinary paths (plain and fixed) cost
 * no more than on the same kernel without the series (the BOOT-unpatched
 * boots of make bench-cpu UNPATCHED=1).  Issue 13: a file read into a
 * dma-buf costs at most 10% more than reading the file system's drive
 * itself into one (make bench-cpu FILES=1), in every boot and for each
 * file system and test.  A target whose boots were not made, or whose
 * modes were measured in neither, is left out.
 */
static const struct target {
	const char *issue;
	const char *test;		/* NULL: every test */
	const char *mode, *boot;	/* boot NULL: every boot ... */
	const char *base_mode, *base_boot;	/* ... and base_boot the same */
	double limit;			/* mode@boot / base_mode@base_boot <= limit */
} targets[] = {
	{ "12", NULL, "premapped", "strict", "fixed", "pt", 1.02 },
	{ "12", NULL, "premapped", "lazy",   "fixed", "pt", 1.02 },
	{ "12", NULL, "premapped", "pt",     "fixed", "pt", 1.00 },
#define UNPATCHED(b)	\
	{ "11", NULL, "plain", b, "plain", b "-unpatched", 1.00 }, \
	{ "11", NULL, "fixed", b, "fixed", b "-unpatched", 1.00 }
	UNPATCHED("none"), UNPATCHED("strict"), UNPATCHED("lazy"), UNPATCHED("pt"),
#undef UNPATCHED
#define FILE_TARGET(t)	{ "13", t, "file-dmabuf", NULL, "raw-dmabuf", NULL, 1.10 }
	FILE_TARGET("ext4-rand4k"), FILE_TARGET("ext4-seq1m"),
	FILE_TARGET("xfs-rand4k"), FILE_TARGET("xfs-seq1m"),
#undef FILE_TARGET
};

/* One target's line, for test t and its boots (none if nothing measured). */
static void print_target(int t, const struct target *x, const char *boot,
			 const char *base_boot, unsigned int *shown)
{
	struct group *a = group_get(name_find(&boots, boot), t, name_find(&modes, x->mode), 0);
	struct group *b = group_get(name_find(&boots, base_boot), t,
				    name_find(&modes, x->base_mode), 0);
	struct stat3 sa = group_stats(a), sb = group_stats(b);
	char buf[96];

	/* a boot never made (the unpatched ones) or no such mode */
	if (name_find(&boots, base_boot) < 0 || (!sa.n && !sb.n))
		return;
	if (!(*shown)++)
		printf("Targets, CPU per I/O, ratio of medians, lower is better:\n\n");
	snprintf(buf, sizeof(buf), "%s %s@%s / %s@%s", tests.name[t], x->mode, boot,
		 x->base_mode, base_boot);
	printf("  issue %s: %-50s ", x->issue, buf);
	if (!sa.n || !sb.n || !(sb.med > 0)) {
		printf("n/a (%s@%s not measured)\n", sa.n ? x->base_mode : x->mode,
		       sa.n ? base_boot : boot);
		return;
	}
	if (a->fellback) {
		printf("not measured: the kernel mapped premapped buffers per I/O "
		       "in %u of %u runs\n", a->fellback, a->n);
		return;
	}
	printf("%-24s (target <= %.2f): %s\n", ratio(a, b, buf, sizeof(buf)),
	       x->limit, sa.med / sb.med <= x->limit ? "met" : "not met");
}

static void print_targets(void)
{
	const unsigned int ntargets = sizeof(targets) / sizeof(targets[0]);
	unsigned int i, shown = 0;
	int t, b;

	for (t = 0; t < tests.n; t++)
		for (i = 0; i < ntargets; i++) {
			const struct target *x = &targets[i];

			if (x->test && strcmp(x->test, tests.name[t]))
				continue;
			if (x->boot) {
				print_target(t, x, x->boot, x->base_boot, &shown);
				continue;
			}
			for (b = 0; b < boots.n; b++)
				print_target(t, x, boots.name[b],
					     x->base_boot ? x->base_boot : boots.name[b], &shown);
		}
	if (shown)
		printf("\n");
}

/* Cells of a premapped mode the kernel mapped per I/O: not premapped figures. */
static void warn_fellback(void)
{
	unsigned int i;

	for (i = 0; i < ngroups; i++)
		if (groups[i].fellback)
			printf("WARNING: %s %s %s: the kernel mapped the buffers per I/O in %u "
			       "of %u runs (swiotlb or non-coherent DMA): fixed-buffer figures, "
			       "not premapped ones\n", boots.name[groups[i].boot],
			       tests.name[groups[i].test], modes.name[groups[i].mode],
			       groups[i].fellback, groups[i].n);
}

static int write_csv(const char *path)
{
	FILE *f = fopen(path, "w");
	int b, t, m;

	if (!f) {
		perror(path);
		return -1;
	}
	/* issue 11's columns first, exactly; the process's figure after them */
	fprintf(f, "boot,test,mode,runs,cpu_us_per_io_median,cpu_us_per_io_min,cpu_us_per_io_max%s\n",
		have_proc ? ",process_us_per_io_median,process_us_per_io_min,"
			    "process_us_per_io_max" : "");
	for (b = 0; b < boots.n; b++)
		for (t = 0; t < tests.n; t++)
			for (m = 0; m < modes.n; m++) {
				struct group *g = group_get(b, t, m, 0);
				struct stat3 s = group_stats(g), p;

				if (!s.n)
					continue;
				fprintf(f, "%s,%s,%s,%u,%.3f,%.3f,%.3f", boots.name[b],
					tests.name[t], modes.name[m], s.n, s.med, s.min, s.max);
				if (have_proc) {
					p = stats(g->proc, g->n);
					fprintf(f, ",%.3f,%.3f,%.3f", p.med, p.min, p.max);
				}
				fprintf(f, "\n");
			}
	return fclose(f);
}

int main(int argc, char **argv)
{
	double worst = 0;
	unsigned int over = 0;
	int t;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: bench-cpu-table RAW.csv CPU.csv [COLUMN]\n");
		return 2;
	}
	if (argc == 4)
		value_col = argv[3];
	if (read_raw(argv[1]))
		return 1;
	if (!ngroups) {
		fprintf(stderr, "%s: no runs\n", argv[1]);
		return 1;
	}
	if (!strcmp(value_col, "busy_us_per_io"))
		printf("The whole guest's busy time per I/O in us (dmabuf-io --cpu system), QEMU\n"
		       "-icount, one vCPU: the instructions of all the work an I/O causes, wherever\n"
		       "it runs (the process, interrupts, softirqs, io_uring's workers, kernel\n"
		       "threads), not device time.  The process's own CPU time is in cpu.csv.\n");
	else if (strcmp(value_col, "cpu_us_per_io"))
		printf("%s of the guest's benchmarking process, QEMU -icount.\n", value_col);
	else
		printf("Guest CPU time (user + system) per I/O in us, QEMU -icount: the guest's\n"
		       "instruction path, not device time.\n");
	printf("Cells: median of the runs ±spread (max-min)/median (\"!\": over %.0f%%).\n"
	       "Ratios: of medians, within one boot followed by [min..max] of the\n"
	       "per-repetition ratios; MODE/pt-fixed: MODE in this boot over fixed in\n"
	       "passthrough (pt).  Lower is better.\n\n", SPREAD_LIMIT);
	for (t = 0; t < tests.n; t++)
		table(t, &worst, &over);
	print_targets();
	printf("Largest spread: %.1f%%; cells over %.0f%%: %u\n", worst, SPREAD_LIMIT, over);
	warn_fellback();
	return write_csv(argv[2]) ? 1 : 0;
}
