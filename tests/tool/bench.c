// SPDX-License-Identifier: MIT
/*
 * dmabuf-io bench: a short run of every mode prints sane numbers.  Counted
 * runs (--ios) must report exactly that many I/Os; IOPS, MB/s and the run
 * time must agree with each other; latency percentiles must be ordered and
 * inside [min, max]; CPU time per I/O must be positive.  JSON output must
 * parse, CSV must have a header and a row of the same width, and the text
 * and progress outputs must show what they promise.  No number is compared
 * with a performance target: that is make bench's job.
 */
#include <math.h>

#include "tool-test.h"

static void check_numbers(struct tt_run *r, double want_ios, unsigned int bs)
{
	double ios = tt_json_get(r, "ios"), secs = tt_json_get(r, "seconds");
	double iops = tt_json_get(r, "iops"), mbps = tt_json_get(r, "mbps");
	double cpu = tt_json_get(r, "cpu_us_per_io");
	double min = tt_json_get(r, "lat_us/min"), p50 = tt_json_get(r, "lat_us/p50");
	double p99 = tt_json_get(r, "lat_us/p99"), p999 = tt_json_get(r, "lat_us/p99.9");
	double max = tt_json_get(r, "lat_us/max"), mean = tt_json_get(r, "lat_us/mean");

	if (want_ios && ios != want_ios)
		tt_fail(r, "%.0f I/Os reported, %.0f asked for", ios, want_ios);
	if (ios <= 0 || secs <= 0 || iops <= 0)
		tt_fail(r, "no I/O measured");
	if (fabs(iops - ios / secs) > 0.01 * iops + 0.1)
		tt_fail(r, "iops %.1f is not ios / seconds (%.1f)", iops, ios / secs);
	if (fabs(mbps - iops * bs / 1e6) > 0.01 * mbps + 0.01)
		tt_fail(r, "mbps %.3f is not iops x bs (%.3f)", mbps, iops * bs / 1e6);
	if (cpu <= 0)
		tt_fail(r, "CPU time per I/O %.3f us", cpu);
	if (!(min > 0 && min <= p50 && p50 <= p99 && p99 <= p999 && p999 <= max &&
	      mean >= min && mean <= max))
		tt_fail(r, "latency out of order: min %.1f p50 %.1f p99 %.1f p99.9 %.1f max %.1f mean %.1f",
			min, p50, p99, p999, max, mean);
	/* with QD I/Os in flight, a latency cannot exceed the whole run */
	if (max > secs * 1e6 * 1.01 + 1000)
		tt_fail(r, "max latency %.0f us exceeds the run (%.3f s)", max, secs);
}

static void expect_field(struct tt_run *r, const char *field)
{
	if (!strstr(r->out, field))
		tt_fail(r, "no %s in the output", field);
}

static int count_fields(const char *line, size_t len)
{
	int n = 1, quoted = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (line[i] == '"')
			quoted = !quoted;
		else if (line[i] == ',' && !quoted)
			n++;
	}
	return n;
}

int main(void)
{
	static const char *const modes[] = { "plain", "fixed", "dmabuf", "bounce" };
	const char *d0 = strdup(t_need_nvme(0));
	const char *d1 = strdup(t_need_nvme(1));
	char field[64];
	struct tt_run r;
	const char *nl;
	unsigned int i;

	tt_tool();

	/* every mode, random 4k reads, a counted run */
	for (i = 0; i < 4; i++) {
		tt_run(&r, "bench", "-m", modes[i], "-q", "8", "-n", "2000", "--json", d0, NULL);
		if (r.status)
			tt_fail(&r, "bench failed");
		snprintf(field, sizeof(field), "\"mode\": \"%s\"", modes[i]);
		expect_field(&r, field);
		expect_field(&r, "\"iommu\": \"");
		check_numbers(&r, 2000, 4096);
		printf("%-6s 4k random read QD8: %6.1f KIOPS, p50 %6.1f us, p99.9 %7.1f us, CPU %.1f us/IO\n",
		       modes[i], tt_json_get(&r, "iops") / 1e3, tt_json_get(&r, "lat_us/p50"),
		       tt_json_get(&r, "lat_us/p99.9"), tt_json_get(&r, "cpu_us_per_io"));
		tt_free(&r);
	}

	/* writes, sequential, large blocks split by drive 1's MDTS, two jobs */
	tt_run(&r, "bench", "-m", "dmabuf", "-w", "write", "-p", "seq", "-b", "128k", "-q", "4",
	       "-j", "2", "-n", "200", "--json", d1, NULL);
	if (r.status)
		tt_fail(&r, "bench failed");
	expect_field(&r, "\"rw\": \"write\"");
	expect_field(&r, "\"pattern\": \"sequential\"");
	check_numbers(&r, 200, 128 << 10);
	tt_free(&r);

	tt_run(&r, "bench", "-m", "bounce", "-w", "write", "-n", "300", "--json", d1, NULL);
	if (r.status)
		tt_fail(&r, "bench failed");
	check_numbers(&r, 300, 4096);
	tt_free(&r);

	if (access("/dev/dma_heap/system", F_OK))
		t_missing("/dev/dma_heap/system (CONFIG_DMABUF_HEAPS_SYSTEM)");
	tt_run(&r, "bench", "-m", "dmabuf", "-d", "heap", "-n", "500", "--json", d0, NULL);
	if (r.status)
		tt_fail(&r, "bench failed");
	expect_field(&r, "\"dmabuf\": \"heap\"");
	check_numbers(&r, 500, 4096);
	tt_free(&r);

	/* a timed run, CSV: header and one row of the same width */
	tt_run(&r, "bench", "-m", "fixed", "-t", "1", "--csv", d0, NULL);
	nl = strchr(r.out, '\n');
	if (r.status || !nl || strncmp(r.out, "mode,", 5))
		tt_fail(&r, "want a CSV header line");
	if (count_fields(r.out, nl - r.out) != count_fields(nl + 1, strcspn(nl + 1, "\n")) ||
	    strncmp(nl + 1, "fixed,", 6) || strchr(nl + 1, '\n')[1])
		tt_fail(&r, "want one CSV row as wide as the header");
	tt_free(&r);
	tt_run(&r, "bench", "-m", "fixed", "-n", "100", "--csv", "--no-header", d0, NULL);
	if (r.status || strncmp(r.out, "fixed,", 6))
		tt_fail(&r, "--no-header: want the row alone");
	tt_free(&r);

	/* text output and the progress line of a 2.5 s run */
	tt_run(&r, "bench", "-m", "dmabuf", "-t", "2.5", "--progress", d0, NULL);
	if (r.status)
		tt_fail(&r, "bench failed");
	expect_field(&r, "KIOPS");
	expect_field(&r, "latency us: p50");
	expect_field(&r, "CPU");
	if (!strstr(r.err, "KIOPS"))
		tt_fail(&r, "--progress printed no progress line on stderr");
	printf("%s", r.out);
	tt_free(&r);
	return T_EXIT_PASS;
}
