// SPDX-License-Identifier: MIT
/*
 * dma-buf slots on every kind of ring: plain, SINGLE_ISSUER|DEFER_TASKRUN,
 * SQPOLL and IOPOLL (ring-kinds.h, the body it shares with premap/rings).
 * A udmabuf slot for drive 0 and a system-heap slot for drive 1: on each
 * ring a batch of WRITE_FIXED at queue depth 8, checked with plain
 * O_DIRECT pread, a batch of READ_FIXED back into other regions of the
 * dma-bufs, checked through their mmaps, then single synchronous I/O.
 */
#include "ring-kinds.h"

#define SEED		0x717

int main(void)
{
	return rk_main(&bk_dmabuf, SEED);
}
