// SPDX-License-Identifier: MIT
/*
 * Premapped buffers on every kind of ring: plain, SINGLE_ISSUER|
 * DEFER_TASKRUN, SQPOLL and IOPOLL (ring-kinds.h, the body it shares with
 * dmabuf/rings).  On each, a slot premapped for drive 0 (a page-aligned
 * buffer) and one for drive 1 (a buffer 512 bytes into a page): a batch of
 * WRITE_FIXED at queue depth 8, checked with plain O_DIRECT pread, a batch
 * of READ_FIXED back into the other half of the buffer, checked byte for
 * byte with the rest of each region untouched, then one synchronous read.
 * Every I/O must have used the long-lived mapping (none in the swiotlb bed).
 */
#include "../dmabuf/ring-kinds.h"

#define SEED		0x7172

int main(void)
{
	return rk_main(&bk_premap, SEED);
}
