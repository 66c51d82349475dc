// SPDX-License-Identifier: MIT
/*
 * dmabuf-io's number parsers (tools/dmabuf-io/cli.c): decimal, never octal
 * (-o 010 is 10); 0x for hex; sizes with binary suffixes (4k = 4KiB =
 * 4096) or decimal ones with B (4kB = 4000); counts with decimal suffixes
 * (100k = 100000); overflow, signs and junk refused; durations.
 */
#include <string.h>

#include "test.h"
#include "dmabuf-io.h"

struct size_case {
	const char *s;
	int ret;
	uint64_t v;
};

static const struct size_case sizes[] = {
	{ "0", 0, 0 },			{ "4096", 0, 4096 },
	{ "010", 0, 10 },		{ "0010k", 0, 10240 },
	{ "0x10", 0, 16 },		{ "0X1000", 0, 4096 },
	{ "4k", 0, 4096 },		{ "4K", 0, 4096 },
	{ "4KiB", 0, 4096 },		{ "4kib", 0, 4096 },
	{ "4kB", 0, 4000 },		{ "4KB", 0, 4000 },
	{ "1m", 0, 1 << 20 },		{ "1MB", 0, 1000000 },
	{ "2g", 0, 2ULL << 30 },	{ "2GiB", 0, 2ULL << 30 },
	{ "1t", 0, 1ULL << 40 },	{ "1TB", 0, 1000000000000ULL },
	{ "512b", 0, 512 },		{ "512B", 0, 512 },
	{ "16383p", -1, 0 },		{ "4q", -1, 0 },
	{ "", -1, 0 },			{ "-4k", -1, 0 },
	{ "+4k", -1, 0 },		{ " 4k", -1, 0 },
	{ "4k ", -1, 0 },		{ "4kk", -1, 0 },
	{ "4kiBB", -1, 0 },		{ "0x", -1, 0 },
	{ "08", 0, 8 },			{ "09k", 0, 9216 },
	{ "18446744073709551615", 0, 18446744073709551615ULL },
	{ "18446744073709551616", -1, 0 },
	{ "16777216t", -1, 0 },		{ "16777215t", 0, 16777215ULL << 40 },
	{ "4.5k", -1, 0 },
};

struct uint_case {
	const char *s;
	uint64_t min, max;
	int ret;
	uint64_t v;
};

static const struct uint_case counts[] = {
	{ "100", 1, 1000000, 0, 100 },		{ "010", 1, 100, 0, 10 },
	{ "100k", 1, 1000000, 0, 100000 },	{ "2m", 1, 1ULL << 48, 0, 2000000 },
	{ "1g", 1, 1ULL << 48, 0, 1000000000 },	{ "1K", 1, 10000, 0, 1000 },
	{ "1ki", 1, 10000, -1, 0 },		{ "1kB", 1, 10000, -1, 0 },
	{ "0", 1, 10, -1, 0 },			{ "11", 1, 10, -1, 0 },
	{ "10", 1, 10, 0, 10 },			{ "-1", 0, 10, -1, 0 },
	{ "0x20", 1, 100, 0, 32 },		{ "1t", 1, 1ULL << 62, -1, 0 },
	{ "", 0, 10, -1, 0 },
};

int main(void)
{
	unsigned int i, bad = 0;
	uint64_t v;
	double d;
	int ret;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		v = 0xdead;
		ret = dio_parse_size(sizes[i].s, &v);
		if (ret != sizes[i].ret || (!ret && v != sizes[i].v)) {
			printf("dio_parse_size(\"%s\"): %d, %llu; want %d, %llu\n", sizes[i].s,
			       ret, (unsigned long long)v, sizes[i].ret,
			       (unsigned long long)sizes[i].v);
			bad++;
		}
	}
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		v = 0xdead;
		ret = dio_parse_uint(counts[i].s, counts[i].min, counts[i].max, &v);
		if (ret != counts[i].ret || (!ret && v != counts[i].v)) {
			printf("dio_parse_uint(\"%s\"): %d, %llu; want %d, %llu\n", counts[i].s,
			       ret, (unsigned long long)v, counts[i].ret,
			       (unsigned long long)counts[i].v);
			bad++;
		}
	}
	t_assert(!dio_parse_seconds("2.5", &d) && d == 2.5);
	t_assert(!dio_parse_seconds("500ms", &d) && d == 0.5);
	t_assert(!dio_parse_seconds("1m", &d) && d == 60);
	t_assert(dio_parse_seconds("5h", &d) && dio_parse_seconds("-1", &d) &&
		 dio_parse_seconds("0", &d));
	if (bad)
		t_fail("%u parser cases wrong", bad);
	return T_EXIT_PASS;
}
