// SPDX-License-Identifier: MIT
/*
 * PRP and SGL with premapped buffers (prp-sgl.h, the body it shares with
 * dmabuf/sgl): nvme-pci fills a request's data pointer from the long-lived
 * map either as PRP entries or as SGL descriptors, as sgl_threshold says.
 * The same write/read verify set runs with 0, with 1 and with the old
 * value, from a buffer that starts at a page boundary and one that starts
 * 512 bytes into a page; every I/O must have used the mapping (none in the
 * swiotlb bed).
 */
#include "../dmabuf/prp-sgl.h"

#define SEED		0x5e2

int main(void)
{
	return sgl_main(&bk_premap, SEED);
}
