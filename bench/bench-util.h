/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the benchmark tabulators (table.c for make bench,
 * cpu-table.c for make bench-cpu): CSV fields, sorting, table cells.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdio.h>
#include <string.h>

/* Split a CSV line in place into at most max fields; "quoted" fields lose
 * their quotes.  Returns the number of fields. */
static inline int csv_split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line, *w;

	line[strcspn(line, "\r\n")] = 0;
	while (n < max) {
		f[n++] = w = p;
		if (*p == '"') {
			for (p++; *p && *p != '"'; )
				*w++ = *p++;
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ',')
				*w++ = *p++;
		}
		if (*p != ',') {
			*w = 0;
			break;
		}
		*w = 0;
		p++;
	}
	return n;
}

/* qsort() order of doubles */
static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One markdown table cell of width w (in characters, UTF-8 aware). */
static inline void col(const char *s, int w)
{
	int n = 0;
	const char *p;

	for (p = s; *p; p++)
		n += (*p & 0xc0) != 0x80;
	printf(" %s%*s |", s, w > n ? w - n : 0, "");
}

#endif /* BENCH_UTIL_H */
