// SPDX-License-Identifier: MIT
/*
 * dmabuf-io: latency histogram.  Values below 64 ns have a bucket each;
 * above, every power of two is split into 32 buckets, so a bucket is at
 * most 1/32 of its value wide and a percentile is within ~1.6% of the
 * exact one.  Adding a value is a few instructions and no allocation.
 */
#include <string.h>

#include "dmabuf-io.h"

#define HALF	(DIO_HISTO_SUB / 2)

static unsigned int dio_histo_index(uint64_t v)
{
	unsigned int msb, shift;

	if (v < DIO_HISTO_SUB)
		return v;
	msb = 63 - __builtin_clzll(v);
	shift = msb - 5;			/* v >> shift is in [32, 63] */
	return DIO_HISTO_SUB + (shift - 1) * HALF + ((v >> shift) - HALF);
}

/* The middle of bucket i. */
static uint64_t dio_histo_value(unsigned int i)
{
	unsigned int shift, top;

	if (i < DIO_HISTO_SUB)
		return i;
	shift = (i - DIO_HISTO_SUB) / HALF + 1;
	top = (i - DIO_HISTO_SUB) % HALF + HALF;
	return ((uint64_t)top << shift) + ((1ULL << shift) >> 1);
}

void dio_histo_init(struct dio_histo *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void dio_histo_add(struct dio_histo *h, uint64_t ns)
{
	h->bucket[dio_histo_index(ns)]++;
	h->count++;
	h->sum += ns;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void dio_histo_merge(struct dio_histo *into, const struct dio_histo *h)
{
	unsigned int i;

	for (i = 0; i < DIO_HISTO_BUCKETS; i++)
		into->bucket[i] += h->bucket[i];
	into->count += h->count;
	into->sum += h->sum;
	if (h->min < into->min)
		into->min = h->min;
	if (h->max > into->max)
		into->max = h->max;
}

uint64_t dio_histo_quantile(const struct dio_histo *h, double q)
{
	uint64_t rank, seen = 0, v;
	unsigned int i;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < DIO_HISTO_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			break;
	}
	v = dio_histo_value(i);
	/* the bucket's middle can lie outside what was seen */
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}
