// SPDX-License-Identifier: MIT
/*
 * dmabuf-io bench --cpu system and --scatter (tools/dmabuf-io/soak.c,
 * scatter.c), what make bench-cpu measures with:
 *  - the report: busy_us_per_io, busy_cpus, irqs_per_io and ctxsw_per_io
 *    in JSON and as the last CSV columns with --cpu system, per I/O;
 *    without it the output is as before (premapped the last column);
 *  - --cpu takes process or system, nothing else (exit 2);
 *  - dio_scatter_alloc(): every page a physical segment of its own, the
 *    fill pattern in place, checked with dio_phys_segments();
 *  - dio_scatter_udmabuf(), where /dev/udmabuf is: a dma-buf of the size
 *    asked (it checks its own layout);
 *  - a run with both on a regular file: a row with the three columns.
 * Scattering needs /proc/self/pagemap's frame numbers (CAP_SYS_ADMIN) and
 * a run needs io_uring: without them those parts are skipped, said so.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "tool-test.h"
#include "dmabuf-io.h"

/* What f() prints on stdout, as a string; its return value in *ret. */
static char *capture(int (*f)(int, char **, struct dio_bench *), int argc, char **argv,
		     struct dio_bench *b, int *ret)
{
	char *text = NULL;
	size_t len = 0;
	FILE *saved = stdout;

	stdout = open_memstream(&text, &len);
	if (!stdout)
		t_fail("open_memstream");
	*ret = f(argc, argv, b);
	fclose(stdout);
	stdout = saved;
	return text;
}

static int do_report(int argc, char **argv, struct dio_bench *b)
{
	(void)argc;
	(void)argv;
	dio_report(b);
	return 0;
}

static int do_bench(int argc, char **argv, struct dio_bench *b)
{
	(void)b;
	return dio_cmd_bench(argc, argv);
}

/* The last comma-separated field of the first line of s, into buf. */
static const char *field_from_end(const char *s, int back, char *buf, size_t len)
{
	const char *end = strchr(s, '\n'), *p;
	int n = 0;

	end = end ? end : s + strlen(s);
	for (p = end; p > s; p--) {
		if (p[-1] != ',')
			continue;
		if (n++ == back)
			break;
	}
	snprintf(buf, len, "%.*s", (int)(end - p), p);
	if (strchr(buf, ','))
		*strchr(buf, ',') = 0;
	return buf;
}

static void check_report(void)
{
	struct tt_run r = { .cmd = "dio_report" };
	struct dio_bench *b = calloc(1, sizeof(*b));
	char *out, f[64];
	int ret, i;

	*b = (struct dio_bench){
		.mode = DIO_FIXED, .dmabuf_spec = "udmabuf", .bs = 4096, .qd = 32, .jobs = 1,
		.random = true, .done = 1000, .elapsed = 2.0, .cpu_user = 0.001,
		.cpu_sys = 0.003, .cpu_system = true, .busy = 0.03, .busy_cpus = 1,
		.intr = 500, .ctxt = 2000,
	};
	b->target.path = "/dev/nvme0n1";
	snprintf(b->target.iommu, sizeof(b->target.iommu), "strict");
	dio_histo_init(&b->lat);
	for (i = 1; i <= 1000; i++)
		dio_histo_add(&b->lat, i * 1000ULL);

	b->json = true;
	r.out = capture(do_report, 0, NULL, b, &ret);
	r.err = strdup("");
	if (fabs(tt_json_get(&r, "busy_us_per_io") - 30) > 0.01 ||
	    tt_json_get(&r, "busy_cpus") != 1 ||
	    fabs(tt_json_get(&r, "irqs_per_io") - 0.5) > 0.001 ||
	    fabs(tt_json_get(&r, "ctxsw_per_io") - 2) > 0.001 ||
	    fabs(tt_json_get(&r, "cpu_us_per_io") - 4) > 0.01)
		tt_fail(&r, "--cpu system JSON: want busy 30, 1 CPU, 0.5 irqs, 2 switches, cpu 4");
	tt_free(&r);

	b->json = false;
	b->csv = true;
	b->csv_header = true;
	out = capture(do_report, 0, NULL, b, &ret);
	if (strcmp(field_from_end(out, 0, f, sizeof(f)), "ctxsw_per_io") ||
	    strcmp(field_from_end(out, 1, f, sizeof(f)), "irqs_per_io") ||
	    strcmp(field_from_end(out, 2, f, sizeof(f)), "busy_us_per_io") ||
	    strcmp(field_from_end(out, 3, f, sizeof(f)), "premapped"))
		t_fail("--cpu system CSV header: want ...,premapped,busy_us_per_io,"
		       "irqs_per_io,ctxsw_per_io; got %s", out);
	if (strcmp(field_from_end(strchr(out, '\n') + 1, 2, f, sizeof(f)), "30.000") ||
	    strcmp(field_from_end(strchr(out, '\n') + 1, 0, f, sizeof(f)), "2.000"))
		t_fail("--cpu system CSV row: want busy 30.000 and 2.000 switches; got %s", out);
	free(out);

	/* without --cpu system: the columns and keys of before */
	b->cpu_system = false;
	out = capture(do_report, 0, NULL, b, &ret);
	if (strcmp(field_from_end(out, 0, f, sizeof(f)), "premapped") || strstr(out, "busy"))
		t_fail("without --cpu system: want premapped last, no busy column; got %s", out);
	free(out);
	b->csv = false;
	b->json = true;
	out = capture(do_report, 0, NULL, b, &ret);
	if (strstr(out, "busy") || strstr(out, "irqs_per_io"))
		t_fail("without --cpu system: want no busy keys in JSON; got %s", out);
	free(out);
	free(b);
	printf("report: --cpu system's fields, and none without it\n");
}

static void check_scatter(void)
{
	size_t len = 1 << 20, i;
	unsigned char *p = dio_scatter_alloc(len, 0xa5);

	if (!p) {
		printf("SKIP part: no scattered memory here (see above)\n");
		return;
	}
	if (dio_phys_segments(p, len) != len / 4096)
		t_fail("scattered 1 MiB: %zu physical segments, want %zu",
		       dio_phys_segments(p, len), len / 4096);
	for (i = 0; i < len; i++)
		if (p[i] != 0xa5)
			t_fail("scattered memory: byte %zu is 0x%02x, want the fill 0xa5", i, p[i]);
	p[len - 1] = 0;		/* writable */
	dio_scatter_free(p, len);
	printf("scatter: 1 MiB in 256 physical segments, filled\n");
}

static void check_scatter_udmabuf(void)
{
	struct dio_dmabuf d;
	off_t size;

	if (access("/dev/udmabuf", R_OK | W_OK)) {
		printf("SKIP part: no /dev/udmabuf here\n");
		return;
	}
	if (dio_scatter_udmabuf(&d, (1 << 20) - 100))
		t_fail("a scattered 1 MiB udmabuf (see above)");
	size = lseek(d.fd, 0, SEEK_END);
	if (size != 1 << 20 || d.size != 1 << 20)
		t_fail("scattered udmabuf: %lld bytes, size %zu; want 1 MiB (rounded up)",
		       (long long)size, d.size);
	dio_dmabuf_destroy(&d);
	printf("scatter: a 1 MiB udmabuf over scattered pages\n");
}

int main(void)
{
	char file[] = "/tmp/cpu-system.XXXXXX", *out;
	char *bad[] = { "dmabuf-io bench", "--cpu", "all", file, NULL };
	char *run[] = { "dmabuf-io bench", "-m", "fixed", "-n", "512", "--cpu", "system",
			"--scatter", "--csv", "--no-header", file, NULL };
	char f[64], *end;
	int fd, ret;

	check_report();
	check_scatter();
	check_scatter_udmabuf();

	fd = mkstemp(file);
	if (fd < 0 || ftruncate(fd, 16 << 20))
		t_fail("a 16 MiB scratch file in /tmp");
	close(fd);
	out = capture(do_bench, 4, bad, NULL, &ret);
	if (ret != DIO_EXIT_USAGE)
		t_fail("--cpu all: exit %d, want %d", ret, DIO_EXIT_USAGE);
	free(out);

	/* scatter refused here (no frame numbers) or no io_uring: skip that part */
	out = capture(do_bench, 11, run, NULL, &ret);
	unlink(file);
	if (ret) {
		printf("SKIP part: bench --cpu system --scatter did not run here (exit %d, "
		       "see above)\n", ret);
		free(out);
		return T_EXIT_PASS;
	}
	/* a loaded host makes the figure meaningless (even negative), not absent */
	field_from_end(out, 2, f, sizeof(f));
	strtod(f, &end);
	if (end == f || *end || strcmp(field_from_end(out, 3, f, sizeof(f)), "-"))
		t_fail("bench --cpu system --csv: want a busy figure after premapped's '-': %s",
		       out);
	printf("bench -m fixed --cpu system --scatter on a file: %s", out);
	free(out);
	return T_EXIT_PASS;
}
