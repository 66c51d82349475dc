// SPDX-License-Identifier: MIT
/*
 * PRP and SGL with dma-buf slots (prp-sgl.h, the body it shares with
 * premap/sgl): nvme-pci fills a request's data pointer from the dma-buf
 * map either as PRP entries or as SGL descriptors, as sgl_threshold says.
 * The same write/read verify set runs with 0, with 1 and with the old
 * value, from a udmabuf and from a system-heap dma-buf, checked through
 * their mmaps.
 */
#include "prp-sgl.h"

#define SEED		0x5e1

int main(void)
{
	return sgl_main(&bk_dmabuf, SEED);
}
