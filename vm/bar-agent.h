/* SPDX-License-Identifier: MIT */
/*
 * The mailbox between the guest's p2p tests and the host's bar agent
 * (vm/bar-agent.c), in BAR 2 of the control ivshmem device of the
 * device-memory bed (vm/run-vm.sh --p2p).
 *
 * The agent works on the host files behind the bed: the BARs standing in
 * for device memory ("sw", "rp") and the NVMe drive images ("nvme0", ...).
 * It sees what the emulated devices wrote, not what the guest says they
 * wrote, so a test can have the host check data independently, or change
 * device memory behind the guest's back (poison it after a revocation).
 *
 * One request at a time.  The guest fills the request fields, then stores
 * guest_seq + 1 (release); the agent carries it out, fills the reply and
 * stores agent_seq = guest_seq (release).  The agent writes magic once it
 * runs.  Byte offsets are into the target file.
 */
#ifndef DMABUF_RW_BAR_AGENT_H
#define DMABUF_RW_BAR_AGENT_H

#include <stdint.h>

#define BAR_AGENT_MAGIC		0x50325041u	/* "AP2P" */

enum bar_agent_op {
	BAR_AGENT_VERIFY = 1,	/* [off, off + len) holds t_fill(pos, seed)? */
	BAR_AGENT_FILL,		/* write t_fill(pos, seed) there */
	BAR_AGENT_SET,		/* write the byte there */
	BAR_AGENT_CHECK,	/* every byte there is the byte? */
};

struct bar_agent_mbox {
	uint32_t magic;
	uint32_t agent_seq;	/* last request carried out */
	uint32_t guest_seq;	/* last request posted */
	uint32_t op;
	char target[16];	/* "sw", "rp", "nvme0", ... */
	uint64_t off;
	uint64_t len;
	uint64_t pos;
	uint32_t seed;
	uint32_t byte;
	/* reply */
	int32_t status;		/* 0 done / matches, 1 mismatch, -errno */
	uint32_t got;		/* first differing byte: found, expected */
	uint32_t want;
	uint32_t pad;
	uint64_t bad;		/* bytes that differ */
	uint64_t first;		/* offset of the first one, from off */
	char msg[160];		/* what went wrong (errors) */
};

#endif /* DMABUF_RW_BAR_AGENT_H */
