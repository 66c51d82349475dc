// SPDX-License-Identifier: MIT
/* dmabuf-io bench: results as text, JSON or CSV. */
#include <stdio.h>
#include <string.h>

#include "dmabuf-io.h"

struct dio_result {
	double iops, mbps, cpu_us, usr_us, sys_us;
	double busy_us;		/* --cpu system: every CPU's busy time per I/O */
	double intr, ctxt;	/* --cpu system: interrupts, context switches per I/O */
	double p50, p99, p999, min, mean, max;	/* latency, us */
};

static void dio_result(const struct dio_bench *b, struct dio_result *r)
{
	const struct dio_histo *h = &b->lat;
	double n = b->done;

	r->iops = n / b->elapsed;
	r->mbps = n * b->bs / b->elapsed / 1e6;
	r->usr_us = b->cpu_user * 1e6 / n;
	r->sys_us = b->cpu_sys * 1e6 / n;
	r->cpu_us = r->usr_us + r->sys_us;
	r->busy_us = b->busy * 1e6 / n;
	r->intr = b->intr / n;
	r->ctxt = b->ctxt / n;
	r->p50 = dio_histo_quantile(h, 0.50) / 1e3;
	r->p99 = dio_histo_quantile(h, 0.99) / 1e3;
	r->p999 = dio_histo_quantile(h, 0.999) / 1e3;
	r->min = h->min / 1e3;
	r->mean = (double)h->sum / n / 1e3;
	r->max = h->max / 1e3;
}

static const char *dio_dmabuf_kind(const struct dio_bench *b)
{
	return dio_mode_dmabuf(b->mode) ? b->dmabuf_spec : "-";
}

/*
 * --mode premapped: did every job's slot get the long-lived mapping ("yes",
 * "no": the kernel maps per I/O, as for fixed); "-" in other modes.
 */
static const char *dio_premapped(const struct dio_bench *b)
{
	if (b->mode != DIO_PREMAPPED)
		return "-";
	return b->premapped_jobs == b->jobs ? "yes" : "no";
}

/* JSON string: the device path and drm:PATH are free text; escape them. */
static void dio_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void dio_report_json(const struct dio_bench *b, const struct dio_result *r)
{
	printf("{\"tool\": \"dmabuf-io\", \"version\": \"%s\", \"mode\": \"%s\", "
	       "\"dmabuf\": ", DIO_VERSION, dio_mode_names[b->mode]);
	dio_json_str(dio_dmabuf_kind(b));
	printf(", \"premapped\": %s", b->mode != DIO_PREMAPPED ? "null" :
	       b->premapped_jobs == b->jobs ? "true" : "false");
	printf(", \"rw\": \"%s\", \"pattern\": \"%s\", "
	       "\"bs\": %u, \"qd\": %u, \"jobs\": %u, \"device\": ",
	       b->write ? "write" : "read", b->random ? "random" : "sequential",
	       b->bs, b->qd, b->jobs);
	dio_json_str(b->target.path);
	printf(", \"iommu\": \"%s\", \"ios\": %llu, \"seconds\": %.6f, "
	       "\"iops\": %.1f, \"mbps\": %.3f, "
	       "\"cpu_us_per_io\": %.3f, \"usr_us_per_io\": %.3f, \"sys_us_per_io\": %.3f, "
	       "\"eagain\": %llu, "
	       "\"lat_us\": {\"min\": %.3f, \"mean\": %.3f, \"p50\": %.3f, "
	       "\"p99\": %.3f, \"p99.9\": %.3f, \"max\": %.3f}",
	       b->target.iommu, (unsigned long long)b->done, b->elapsed,
	       r->iops, r->mbps, r->cpu_us, r->usr_us, r->sys_us,
	       (unsigned long long)b->eagain,
	       r->min, r->mean, r->p50, r->p99, r->p999, r->max);
	/* only with --cpu system: older consumers see the object they know */
	if (b->cpu_system)
		printf(", \"busy_us_per_io\": %.3f, \"busy_cpus\": %u, \"irqs_per_io\": %.3f, "
		       "\"ctxsw_per_io\": %.3f", r->busy_us, b->busy_cpus, r->intr, r->ctxt);
	printf("}\n");
}

/* CSV field (RFC 4180): quoted, inner quotes doubled. */
static void dio_csv_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void dio_report_csv(const struct dio_bench *b, const struct dio_result *r)
{
	if (b->csv_header)
		printf("mode,dmabuf,rw,pattern,bs,qd,jobs,device,iommu,ios,seconds,"
		       "iops,mbps,cpu_us_per_io,usr_us_per_io,sys_us_per_io,eagain,"
		       "lat_min_us,lat_mean_us,lat_p50_us,lat_p99_us,lat_p999_us,lat_max_us,"
		       "premapped%s\n", b->cpu_system ? ",busy_us_per_io,irqs_per_io,ctxsw_per_io" : "");
	/* free text (the device path, drm:PATH) is quoted */
	printf("%s,", dio_mode_names[b->mode]);
	dio_csv_str(dio_dmabuf_kind(b));
	printf(",%s,%s,%u,%u,%u,", b->write ? "write" : "read",
	       b->random ? "random" : "sequential", b->bs, b->qd, b->jobs);
	dio_csv_str(b->target.path);
	/*
	 * New columns go last, and --cpu system's only with it: scripts that
	 * count columns keep working
	 */
	printf(",%s,%llu,%.6f,%.1f,%.3f,%.3f,%.3f,%.3f,%llu,"
	       "%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%s",
	       b->target.iommu, (unsigned long long)b->done, b->elapsed,
	       r->iops, r->mbps, r->cpu_us, r->usr_us, r->sys_us,
	       (unsigned long long)b->eagain,
	       r->min, r->mean, r->p50, r->p99, r->p999, r->max, dio_premapped(b));
	if (b->cpu_system)
		printf(",%.3f,%.3f,%.3f", r->busy_us, r->intr, r->ctxt);
	printf("\n");
}

static void dio_report_text(const struct dio_bench *b, const struct dio_result *r)
{
	char bs[32];

	printf("%s%s%s %s %s %s, QD %u x %u job%s on %s (IOMMU: %s)\n",
	       dio_mode_names[b->mode], dio_mode_dmabuf(b->mode) ? " " : "",
	       dio_mode_dmabuf(b->mode) ? b->dmabuf_spec : "",
	       b->random ? "random" : "sequential", b->write ? "write" : "read",
	       dio_fmt_size(b->bs, bs, sizeof(bs)), b->qd, b->jobs,
	       b->jobs > 1 ? "s" : "", b->target.path, b->target.iommu);
	if (b->mode == DIO_PREMAPPED && b->premapped_jobs == b->jobs)
		printf("  buffers: premapped, mapped once for %s\n", b->target.path);
	else if (b->mode == DIO_PREMAPPED)
		printf("  buffers: NOT premapped in %u of %u job%s: the kernel maps them "
		       "per I/O (swiotlb bouncing or non-coherent DMA), these are "
		       "fixed-buffer figures\n", b->jobs - b->premapped_jobs, b->jobs,
		       b->jobs > 1 ? "s" : "");
	if (b->scatter && (b->mode != DIO_DMABUF || !strcmp(b->dmabuf_spec, "udmabuf")))
		printf("  %s: scattered, every page a DMA segment of its own\n",
		       b->mode == DIO_DMABUF ? "the udmabuf's memory" : "host memory");
	printf("  %llu I/Os in %.2f s: %.1f KIOPS, %.1f MB/s\n",
	       (unsigned long long)b->done, b->elapsed, r->iops / 1e3, r->mbps);
	printf("  CPU %.2f us/IO (user %.2f, system %.2f)\n", r->cpu_us, r->usr_us, r->sys_us);
	if (b->cpu_system)
		printf("  system busy %.2f us/IO (%u CPU%s, all work wherever it ran); "
		       "%.2f interrupts, %.2f context switches per I/O\n",
		       r->busy_us, b->busy_cpus, b->busy_cpus == 1 ? "" : "s", r->intr, r->ctxt);
	printf("  latency us: p50 %.1f  p99 %.1f  p99.9 %.1f  (min %.1f  mean %.1f  max %.1f)\n",
	       r->p50, r->p99, r->p999, r->min, r->mean, r->max);
	if (b->eagain)
		printf("  %llu -EAGAIN completions reissued (mapping invalidated)\n",
		       (unsigned long long)b->eagain);
}

void dio_report(const struct dio_bench *b)
{
	struct dio_result r;

	dio_result(b, &r);
	if (b->json)
		dio_report_json(b, &r);
	else if (b->csv)
		dio_report_csv(b, &r);
	else
		dio_report_text(b, &r);
	fflush(stdout);
}
