// SPDX-License-Identifier: MIT
/*
 * dmabuf-io bench's JSON and CSV output (tools/dmabuf-io/report.c): the
 * JSON is one valid object with the numbers in place, free text (a device
 * path with quotes, backslashes and control characters; drm:PATH) escaped;
 * the CSV row is as wide as its header, free text quoted (RFC 4180).
 */
#define _GNU_SOURCE
#include <math.h>
#include <string.h>

#include "tool-test.h"
#include "dmabuf-io.h"

/* What dio_report() prints, as a string. */
static char *report(struct dio_bench *b)
{
	char *text = NULL;
	size_t len = 0;
	FILE *saved = stdout;

	stdout = open_memstream(&text, &len);
	if (!stdout)
		t_fail("open_memstream");
	dio_report(b);
	fclose(stdout);
	stdout = saved;
	return text;
}

/* CSV fields of one line; quoted fields may hold commas and "". */
static int csv_fields(const char *p, char f[][128], int max)
{
	int n = 0, k;

	for (;;) {
		if (n == max)
			return -1;
		k = 0;
		if (*p == '"') {
			for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
				if (*p == '"')
					p++;
				if (k < 127)
					f[n][k++] = *p;
			}
			if (*p++ != '"')
				return -1;
		} else {
			while (*p && *p != ',' && *p != '\n')
				if (k < 127)
					f[n][k++] = *p++;
		}
		f[n++][k] = 0;
		if (*p != ',')
			return *p == '\n' || !*p ? n : -1;
		p++;
	}
}

int main(void)
{
	static char head[64][128], row[64][128];
	struct tt_run r = { .cmd = "dio_report" };
	struct dio_bench *b = calloc(1, sizeof(*b));
	const char *path = "/dev/od\"d\\,name\t1";
	char *out, *nl;
	int nh, nr, i;

	*b = (struct dio_bench){
		.mode = DIO_DMABUF, .dmabuf_spec = "drm:/dev/dri/card\"0", .bs = 4096,
		.qd = 32, .jobs = 2, .random = true, .done = 1000, .elapsed = 2.0,
		.cpu_user = 0.001, .cpu_sys = 0.003,
	};
	b->target.path = path;
	snprintf(b->target.iommu, sizeof(b->target.iommu), "strict");
	dio_histo_init(&b->lat);
	for (i = 1; i <= 1000; i++)
		dio_histo_add(&b->lat, i * 1000ULL);

	b->json = true;
	r.out = report(b);
	r.err = strdup("");
	if (tt_json_get(&r, "iops") != 500 || tt_json_get(&r, "bs") != 4096 ||
	    tt_json_get(&r, "ios") != 1000 || tt_json_get(&r, "jobs") != 2)
		tt_fail(&r, "wrong numbers in the JSON");
	if (fabs(tt_json_get(&r, "cpu_us_per_io") - 4.0) > 0.01)
		tt_fail(&r, "cpu_us_per_io: want 4");
	if (fabs(tt_json_get(&r, "lat_us/p50") - 500) > 500 * 0.02)
		tt_fail(&r, "lat_us/p50: want about 500");
	if (!strstr(r.out, "\"device\": \"/dev/od\\\"d\\\\,name\\u00091\""))
		tt_fail(&r, "device path not escaped as JSON");
	if (!strstr(r.out, "\"dmabuf\": \"drm:/dev/dri/card\\\"0\""))
		tt_fail(&r, "dmabuf spec not escaped as JSON");
	free(r.out);

	b->json = false;
	b->csv = true;
	b->csv_header = true;
	r.out = report(b);
	nl = strchr(r.out, '\n');
	if (!nl)
		tt_fail(&r, "want a header line");
	nh = csv_fields(r.out, head, 64);
	nr = csv_fields(nl + 1, row, 64);
	if (nh < 20 || nh != nr || strchr(nl + 1, '\n')[1])
		tt_fail(&r, "want one row as wide as the header (%d, %d fields)", nh, nr);
	for (i = 0; i < nh; i++) {
		if (!strcmp(head[i], "device") && strcmp(row[i], path))
			tt_fail(&r, "device field: '%s'", row[i]);
		if (!strcmp(head[i], "dmabuf") && strcmp(row[i], b->dmabuf_spec))
			tt_fail(&r, "dmabuf field: '%s'", row[i]);
		if (!strcmp(head[i], "iops") && strcmp(row[i], "500.0"))
			tt_fail(&r, "iops field: '%s'", row[i]);
	}
	free(r.out);
	b->csv_header = false;
	out = report(b);
	if (strncmp(out, "dmabuf,", 7) || strchr(out, '\n')[1])
		t_fail("--no-header: want the row alone, got: %s", out);
	free(out);
	return T_EXIT_PASS;
}
