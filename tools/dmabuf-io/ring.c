// SPDX-License-Identifier: MIT
/* dmabuf-io: io_uring setup. */
#include <errno.h>
#include <string.h>

#include "dmabuf-io.h"

/*
 * The flags fio's io_uring engine uses (each thread owns its ring and reaps
 * its own completions), dropped one by one on kernels that lack them, so
 * numbers compare with fio's.
 */
int dio_ring_init(struct io_uring *ring, unsigned int entries, bool poll)
{
	static const unsigned int optional[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		IORING_SETUP_CQSIZE,
	};
	struct io_uring_params p;
	unsigned int flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN |
			     IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	unsigned int i = 0;
	int ret;

	if (poll)
		flags |= IORING_SETUP_IOPOLL;
	for (;;) {
		memset(&p, 0, sizeof(p));
		p.flags = flags;
		p.cq_entries = entries * 2;
		ret = io_uring_queue_init_params(entries, ring, &p);
		if (ret != -EINVAL || i == sizeof(optional) / sizeof(optional[0]))
			return ret;
		flags &= ~optional[i++];
	}
}
