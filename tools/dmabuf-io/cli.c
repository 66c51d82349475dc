// SPDX-License-Identifier: MIT
/* dmabuf-io: messages and option value parsing. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dmabuf-io.h"

void dio_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("dmabuf-io: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void dio_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "dmabuf-io%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'dmabuf-io %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
}

/* Binary multiples: k, m, g, t with optional "i" and "b" (4k = 4KiB = 4096). */
int dio_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmgt";
	unsigned long long v;
	const char *u;
	char *end;
	int shift = 0;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	if (*end) {
		u = strchr(units, end[0] | 0x20);
		if (!u || !end[0])
			return -1;
		shift = 10 * (int)(u - units + 1);
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -1;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int dio_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	/* counts take the same suffixes as sizes: --ios 100k */
	if (dio_parse_size(s, &v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Seconds, or with a unit: ms, s, m. */
int dio_parse_seconds(const char *s, double *out)
{
	double v, scale = 1;
	char *end;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v <= 0)
		return -1;
	if (!strcmp(end, "ms"))
		scale = 1e-3;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		scale = 60;
	else if (*end && strcmp(end, "s"))
		return -1;
	*out = v * scale;
	return 0;
}

const char *dio_fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	unsigned int i = 0;
	double v = bytes;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, v == floor(v) ? "%.0f %s" : "%.1f %s", v, unit[i]);
	return buf;
}

double dio_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t dio_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
