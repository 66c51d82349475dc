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

/*
 * A decimal number (leading zeros do not make it octal) or 0x hex, with an
 * optional suffix: *end is where the suffix starts.  -1 if there is no
 * number or it overflows.
 */
static int dio_parse_number(const char *s, unsigned long long *v, char **end)
{
	int base = 10;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	errno = 0;
	*v = strtoull(s, end, base);
	if (errno || *end == s || (base == 16 && *end == s + 2))
		return -1;
	return 0;
}

/* v * 1000^n or v * 1024^n without overflow. */
static int dio_scale(unsigned long long v, unsigned int n, uint64_t base, uint64_t *out)
{
	while (n--) {
		if (v > UINT64_MAX / base)
			return -1;
		v *= base;
	}
	*out = v;
	return 0;
}

/*
 * Sizes: binary multiples, as fio and dd read them: k, m, g, t, alone or
 * with "iB" (4k = 4KiB = 4096); with "B" alone they are decimal, as dd
 * reads them (1kB = 1000, 1MB = 10^6).  A bare "b" is bytes.
 */
int dio_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmgt";
	unsigned long long v;
	const char *u;
	char *end;

	if (dio_parse_number(s, &v, &end))
		return -1;
	if (!*end || !strcmp(end, "b") || !strcmp(end, "B")) {
		*out = v;
		return 0;
	}
	u = strchr(units, end[0] | 0x20);
	if (!u)
		return -1;
	end++;
	if (!*end || !strcmp(end, "iB") || !strcmp(end, "ib"))
		return dio_scale(v, u - units + 1, 1024, out);
	if (!strcmp(end, "B"))
		return dio_scale(v, u - units + 1, 1000, out);
	return -1;
}

/* Counts: decimal multiples k, m, g (100k = 100000). */
int dio_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	static const char units[] = "kmg";
	unsigned long long v;
	const char *u = NULL;
	uint64_t n;
	char *end;

	if (dio_parse_number(s, &v, &end))
		return -1;
	if (*end) {
		u = strchr(units, end[0] | 0x20);
		if (!u || end[1])
			return -1;
	}
	if (dio_scale(v, u ? u - units + 1 : 0, 1000, &n) || n < min || n > max)
		return -1;
	*out = n;
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
