// SPDX-License-Identifier: MIT
/*
 * vfio-pci revokes the dma-buf of a BAR while NVMe I/O into and out of it
 * is in flight: the series' invalidate_mappings must let that I/O finish
 * before the revocation returns, and no I/O may reach the BAR afterwards.
 *
 * Three ways to revoke: VFIO_DEVICE_RESET (revoked for the reset, valid
 * again after it), clearing Memory Space in the command register (revoked
 * until it is set again) and closing the VFIO device (revoked for good).
 * Each round submits 16 reads of 256 KiB into poisoned BAR ranges, or 16
 * writes from the BAR over background data on the drive, and revokes
 * right away.  Then:
 *  - every I/O ends with its full length or -ENODEV (the exporter refused
 *    a new mapping), nothing else, no hang;
 *  - an I/O that did not complete when the revocation returned must not
 *    succeed while the buffer stays revoked: it would have used the
 *    revoked mapping;
 *  - the host sees each range whole: the data of an I/O that succeeded,
 *    the poison (or the drive's background) of one that failed;
 *  - while revoked, new I/O fails with -ENODEV and the poison the host
 *    puts in the BAR stays, also once the BAR is enabled again;
 *  - afterwards I/O through the slot works again (reset, Memory Space on)
 *    or keeps failing with -ENODEV (closed), and a new export of the BAR
 *    registered again works.
 */
#include "p2p-test.h"

#define NR		16
#define LEN		(256 * 1024)
#define SEED		0x2e70
#define SEED_BG		0x2e71
#define WBASE		(8 * DT_MIB)	/* drive offset of the write ranges */
#define ROUNDS		3

enum kind { RESET, DECODE, CLOSE };
static const char *const kind_names[] = {
	"VFIO_DEVICE_RESET", "Memory Space off", "closing the VFIO device",
};

static struct io_uring ring;
static int fd, drive;
static struct p2p_bar *bar;
static char img[16];
static unsigned long started, in_flight, refused_new;

static void revoke_buf(enum kind k)
{
	switch (k) {
	case RESET:
		if (ioctl(bar->device, VFIO_DEVICE_RESET))
			t_fail("VFIO_DEVICE_RESET on %s: %s", bar->bdf, strerror(errno));
		break;
	case DECODE:
		p2p_bar_set_command(bar, p2p_bar_command(bar) & ~PCI_COMMAND_MEMORY);
		break;
	case CLOSE:
		p2p_bar_close_device(bar);
		break;
	}
}

/*
 * NR reads (or writes) through slot, revocation kind k right after
 * submitting them; res[i] gets the result of I/O i.
 */
static void batch(enum kind k, int write, unsigned int slot, int res[NR])
{
	int op = write ? IORING_OP_WRITE_FIXED : IORING_OP_READ_FIXED;
	struct io_uring_cqe *cqe;
	unsigned int i, j, done, posted;
	int ret;

	for (i = 0; i < NR; i++)
		dt_prep(&ring, op, fd, i * LEN, LEN, (write ? WBASE : 0) + i * LEN, slot, i);
	dt_submit(&ring);
	/* what completed before is posted by now, the rest is in flight */
	started += NR - io_uring_cq_ready(&ring);
	revoke_buf(k);
	/* completions run as task work on the way back from the revocation */
	posted = io_uring_cq_ready(&ring);
	for (i = 0, done = 0; done < NR; i++) {
		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret)
			t_fail("io_uring_wait_cqe: %s", strerror(-ret));
		j = cqe->user_data;
		if (j >= NR)
			t_fail("unexpected CQE %u", j);
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (ret == -EAGAIN) {
			/* documented after an invalidation: reissue (it ends up after the revocation) */
			dt_eagain++;
			dt_prep(&ring, op, fd, j * LEN, LEN, (write ? WBASE : 0) + j * LEN, slot, j);
			dt_submit(&ring);
			continue;
		}
		res[j] = ret;
		done++;
		if (ret != LEN && ret != -ENODEV)
			t_fail("%s, %s %u: res %d (%s), want %d or -ENODEV", kind_names[k],
			       write ? "write" : "read", j, ret, strerror(-ret), LEN);
		if (i >= posted && k != RESET && ret == LEN)
			t_fail("%s: %s %u completed after the revocation returned, with the revoked mapping",
			       kind_names[k], write ? "write" : "read", j);
	}
	in_flight += NR - posted;
}

/* Each BAR range holds the drive's data (res[i] ok) or the poison. */
static void check_reads(enum kind k, const int res[NR])
{
	unsigned int i, ok = 0;
	char what[96];

	for (i = 0; i < NR; i++) {
		snprintf(what, sizeof(what), "%s: read %u (res %d)", kind_names[k], i, res[i]);
		if (res[i] == LEN ?
		    p2p_host_verify(bar->name, i * LEN, LEN, i * LEN, SEED, what) :
		    p2p_host_check(bar->name, i * LEN, LEN, P2P_POISON, what))
			t_fail("%s: BAR range %u is not what its read reported", kind_names[k], i);
		ok += res[i] == LEN;
	}
	printf("%s, reads: %u done, %u refused\n", kind_names[k], ok, NR - ok);
}

/* Each drive range holds the BAR's data (res[i] ok) or the background. */
static void check_writes(enum kind k, const int res[NR])
{
	unsigned int i, ok = 0;
	uint64_t off;
	char what[96];

	for (i = 0; i < NR; i++) {
		off = WBASE + i * LEN;
		snprintf(what, sizeof(what), "%s: write %u (res %d)", kind_names[k], i, res[i]);
		if (p2p_host_verify(img, off, LEN, off, res[i] == LEN ? SEED : SEED_BG, what) ||
		    dt_dev_verify(fd, off, LEN, res[i] == LEN ? SEED : SEED_BG, what))
			t_fail("%s: drive range %u is not what its write reported", kind_names[k], i);
		ok += res[i] == LEN;
	}
	printf("%s, writes: %u done, %u refused\n", kind_names[k], ok, NR - ok);
}

/* While revoked: new I/O fails, the host's poison stays. */
static void check_revoked(enum kind k, unsigned int slot)
{
	unsigned int i;
	int ret;

	p2p_host_set(bar->name, 0, NR * LEN, P2P_POISON);
	for (i = 0; i < NR; i++) {
		ret = dt_io(&ring, i & 1 ? IORING_OP_WRITE_FIXED : IORING_OP_READ_FIXED, fd,
			    i * LEN, LEN, (i & 1 ? WBASE : 0) + i * LEN, slot);
		dt_expect(ret, -ENODEV, "%s: I/O %u while revoked", kind_names[k], i);
		refused_new++;
	}
	usleep(200 * 1000);
	if (p2p_host_check(bar->name, 0, NR * LEN, P2P_POISON, "BAR while revoked") ||
	    dt_dev_verify(fd, WBASE, NR * LEN, SEED_BG, "drive while revoked"))
		t_fail("%s: I/O reached the BAR or the drive while revoked", kind_names[k]);
}

/* I/O through slot works: reads land, guest and host agree. */
static void check_works(enum kind k, unsigned int slot)
{
	unsigned int i;
	int ret;

	p2p_host_set(bar->name, 0, NR * LEN, P2P_POISON);
	for (i = 0; i < NR; i++) {
		ret = dt_io(&ring, IORING_OP_READ_FIXED, fd, i * LEN, LEN, i * LEN, slot);
		dt_expect_len(ret, LEN, "%s: read %u afterwards", kind_names[k], i);
	}
	if (t_verify(bar->map, NR * LEN, 0, SEED, "guest view afterwards") ||
	    p2p_host_verify(bar->name, 0, NR * LEN, 0, SEED, "host view afterwards"))
		t_fail("%s: reads after the revocation put wrong data in the BAR", kind_names[k]);
}

static void round_of(enum kind k, int *dmabuf, unsigned int *slot)
{
	int res[NR], write;

	for (write = 0; write < 2; write++) {
		/* the ranges: BAR poisoned, drive background, BAR source data */
		p2p_host_set(bar->name, 0, NR * LEN, P2P_POISON);
		if (write) {
			dt_dev_fill(fd, WBASE, NR * LEN, SEED_BG);
			p2p_host_fill(bar->name, 0, NR * LEN, WBASE, SEED);
		}
		batch(k, write, *slot, res);
		if (write)
			check_writes(k, res);
		else
			check_reads(k, res);

		switch (k) {
		case RESET:
			break;
		case DECODE:
			dt_dev_fill(fd, WBASE, NR * LEN, SEED_BG);
			check_revoked(k, *slot);
			p2p_bar_set_command(bar, p2p_bar_command(bar) | PCI_COMMAND_MEMORY);
			usleep(200 * 1000);
			if (p2p_host_check(bar->name, 0, NR * LEN, P2P_POISON,
					   "BAR after Memory Space is back"))
				t_fail("%s: a revoked I/O landed once the BAR was enabled again",
				       kind_names[k]);
			break;
		case CLOSE:
			dt_dev_fill(fd, WBASE, NR * LEN, SEED_BG);
			check_revoked(k, *slot);
			/* a new device fd does not bring the old dma-buf back */
			p2p_bar_open_device(bar);
			check_revoked(k, *slot);
			close(*dmabuf);
			*dmabuf = p2p_export(bar);
			*slot ^= 1;
			dt_expect(dmabuf_rw_register_dmabuf(&ring, *slot, *dmabuf, fd), 0,
				  "registering the new export");
			break;
		}
		check_works(k, *slot);
	}
}

int main(void)
{
	struct p2p_bed bed;
	unsigned int slot = 0;
	int i, r, ret, b = -1;
	enum kind k;

	p2p_require();
	p2p_bed_open(&bed);
	for (drive = 0; drive < bed.drives && b < 0; drive++)
		for (i = 0; i < 2 && b < 0; i++)
			if (p2p_outcome(drive, &bed.bar[i]) == P2P_WORKS)
				b = i;
	if (b < 0)
		t_skip("no drive reaches device memory on this bed (%s IOMMU; p2p/route checks why)",
		       p2p_iommu_mode());
	drive--;
	bar = &bed.bar[b];
	printf("%s\n", p2p_describe(drive, bar));
	snprintf(img, sizeof(img), "nvme%d", drive);
	fd = t_open_nvme(drive, 0);
	if (t_dev_size(fd) < WBASE + NR * LEN)
		t_missing("%llu bytes on drive %d: it has %llu",
			  (unsigned long long)(WBASE + NR * LEN), drive,
			  (unsigned long long)t_dev_size(fd));
	dt_dev_fill(fd, 0, NR * LEN, SEED);

	ret = io_uring_queue_init(2 * NR, &ring, 0);
	if (ret)
		t_fail("io_uring_queue_init: %s", strerror(-ret));
	dt_sparse(&ring, 2);
	dt_expect(dmabuf_rw_register_dmabuf(&ring, slot, bed.dmabuf[b], fd), 0,
		  "registering BAR %s for drive %d", bar->name, drive);
	if (ioctl(bar->device, VFIO_DEVICE_RESET))
		t_fail("%s cannot be reset through VFIO: %s", bar->bdf, strerror(errno));

	for (k = RESET; k <= CLOSE; k++)
		for (r = 0; r < ROUNDS; r++)
			round_of(k, &bed.dmabuf[b], &slot);

	printf("%lu of %u I/Os in flight when a revocation started, %lu when it returned; %lu refused while revoked\n",
	       started, 3 * ROUNDS * 2 * NR, in_flight, refused_new);
	io_uring_queue_exit(&ring);
	close(fd);
	p2p_bed_close(&bed);
	dt_report();
	return T_EXIT_PASS;
}
