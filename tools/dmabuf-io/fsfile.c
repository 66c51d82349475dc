// SPDX-License-Identifier: MIT
/*
 * dmabuf-io: regular files as targets.  A file on ext4 or xfs opened
 * O_DIRECT takes dma-buf (and premapped) I/O through iomap direct I/O to
 * the file system's block device; everything else is refused by the
 * kernel with EOPNOTSUPP (or EINVAL without O_DIRECT).  The kernel says
 * only that; this file finds out why, from what the file system and the
 * file show, so that the message can say what to change.  It also
 * explains the results only files give: reads that end before a hole or
 * an unwritten extent, -ENODATA, -EBUSY on writes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/fs.h>

#include "dmabuf-io.h"

/* Flags newer than some headers (values from linux/fs.h, linux/stat.h). */
#ifndef FS_INLINE_DATA_FL
#define FS_INLINE_DATA_FL	0x10000000
#endif
#ifndef FS_VERITY_FL
#define FS_VERITY_FL		0x00100000
#endif
#ifndef FS_DAX_FL
#define FS_DAX_FL		0x02000000
#endif
#ifndef FS_XFLAG_DAX
#define FS_XFLAG_DAX		0x00008000
#endif
#ifndef STATX_ATTR_DAX
#define STATX_ATTR_DAX		0x00200000
#endif

/*
 * The file system of t's file from /proc/self/mountinfo (the line whose
 * device is t->fsdev): type, source and super block options.
 */
void dio_file_fs(struct dio_target *t, char *opts, size_t optlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096], type[64], src[256], sopts[1024];
	unsigned int maj, min;
	const char *sep;

	if (opts && optlen)
		opts[0] = 0;
	snprintf(t->fstype, sizeof(t->fstype), "unknown");
	t->fssrc[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*u %*u %u:%u", &maj, &min) != 2 ||
		    makedev(maj, min) != t->fsdev)
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%63s %255s %1023s", type, src, sopts) != 3)
			continue;
		snprintf(t->fstype, sizeof(t->fstype), "%.15s", type);
		snprintf(t->fssrc, sizeof(t->fssrc), "%.63s", src);
		if (opts && optlen)
			snprintf(opts, optlen, "%s", sopts);
		break;
	}
	fclose(f);
}

/* Is the option opt ("data=journal", "dax") in the comma-separated list? */
static bool dio_has_opt(const char *opts, const char *opt)
{
	size_t n = strlen(opt);
	const char *p;

	for (p = opts; (p = strstr(p, opt)); p += n)
		if ((p == opts || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

bool dio_file_fs_supported(const struct dio_target *t)
{
	return !strcmp(t->fstype, "ext4") || !strcmp(t->fstype, "xfs");
}

void dio_file_unsupported_why(const struct dio_target *t, char *why, size_t len)
{
	struct dio_target fs = *t;
	struct fsxattr fsx;
	struct statx stx;
	char opts[1024], dev[256];
	int flags = 0;
	bool ext4;

	dio_file_fs(&fs, opts, sizeof(opts));
	if (!dio_file_fs_supported(&fs)) {
		snprintf(why, len, "it is on %s, and of the file systems only ext4 and xfs "
			 "can take dma-buf I/O (through O_DIRECT); put the file on one of "
			 "them", fs.fstype);
		return;
	}
	if (!t->direct) {
		snprintf(why, len, "it is not open O_DIRECT (%s refused it for this file), "
			 "and dma-buf I/O on a file is direct I/O", fs.fstype);
		return;
	}
	ext4 = !strcmp(fs.fstype, "ext4");
	if (ioctl(t->fd, FS_IOC_GETFLAGS, &flags))
		flags = 0;
	memset(&stx, 0, sizeof(stx));
	if (statx(t->fd, "", AT_EMPTY_PATH, 0, &stx))
		stx.stx_attributes = 0;
	memset(&fsx, 0, sizeof(fsx));
	if (ioctl(t->fd, FS_IOC_FSGETXATTR, &fsx))
		fsx.fsx_xflags = 0;

	if ((flags & FS_DAX_FL) || (fsx.fsx_xflags & FS_XFLAG_DAX) ||
	    (stx.stx_attributes & STATX_ATTR_DAX) || dio_has_opt(opts, "dax") ||
	    dio_has_opt(opts, "dax=always")) {
		snprintf(why, len, "it is a DAX file (%s mounted with dax, or the file's DAX "
			 "flag): its data is memory the CPU copies, there is no block I/O to "
			 "do; mount without dax or clear the flag", fs.fstype);
	} else if (!ext4 && (fsx.fsx_xflags & FS_XFLAG_REALTIME)) {
		snprintf(why, len, "it is an xfs realtime file: its data lives on the realtime "
			 "device, not on the data device dma-buf I/O goes to; use a file "
			 "without the realtime flag");
	} else if (ext4 && (flags & FS_INLINE_DATA_FL)) {
		snprintf(why, len, "ext4 keeps its data inline in the inode (inline_data, a "
			 "file of a few bytes), served through the page cache; a file larger "
			 "than its inode has blocks");
	} else if (ext4 && dio_has_opt(opts, "data=journal")) {
		snprintf(why, len, "ext4 is mounted data=journal, which copies file data "
			 "into the journal with the CPU; mount it with data=ordered (the default)");
	} else if (ext4 && (flags & FS_JOURNAL_DATA_FL)) {
		snprintf(why, len, "the file journals its data (chattr +j): ext4 copies it "
			 "into the journal with the CPU; chattr -j the file");
	} else if ((flags & FS_ENCRYPT_FL) || (stx.stx_attributes & STATX_ATTR_ENCRYPTED)) {
		snprintf(why, len, "the file is encrypted (fscrypt), which direct I/O from a "
			 "dma-buf cannot do; use a file outside the encrypted directory");
	} else if ((flags & FS_VERITY_FL) || (stx.stx_attributes & STATX_ATTR_VERITY)) {
		snprintf(why, len, "the file has fs-verity, whose reads the CPU checks; use "
			 "a copy without verity");
	} else {
		/* the file system handed the request to its device, which refused */
		dio_blk_unsupported_why("", t->fsdev, dev, sizeof(dev));
		snprintf(why, len, "%s's device %s refused: %s", fs.fstype,
			 fs.fssrc[0] ? fs.fssrc : "(unknown)", dev);
	}
}

/*
 * Why a dma-buf or premapped I/O on a file ended with res instead of len
 * bytes; NULL where files have nothing to add (errors any target gives).
 */
const char *dio_file_io_why(const struct dio_target *t, bool write, int res,
			    unsigned int len, char *buf, size_t buflen)
{
	char why[512];

	if (t->blockdev)
		return NULL;
	if (!write && res >= 0 && (unsigned int)res < len) {
		snprintf(buf, buflen, "short read: %d of %u bytes, it ended before a hole or "
			 "an unwritten (preallocated) extent of the file, where dma-buf and "
			 "premapped reads stop because the kernel cannot write zeroes into the "
			 "buffer with the CPU; write every block of the range first (or use "
			 "--mode fixed)", res, len);
	} else if (!write && res == -ENODATA) {
		snprintf(buf, buflen, "the read starts in a hole or an unwritten "
			 "(preallocated) extent of the file (ENODATA): dma-buf and premapped "
			 "reads deliver no zeroes, the kernel cannot write them into the buffer "
			 "with the CPU; write every block of the range first (or use --mode "
			 "fixed)");
	} else if (write && res == -EBUSY) {
		snprintf(buf, buflen, "the file's page cache could not be invalidated for the "
			 "write (EBUSY): something maps the file or reads it through the page "
			 "cache, or xfs would have to copy a shared (reflinked) block through "
			 "it; dma-buf writes never go through the page cache");
	} else if (write && res >= 0 && (unsigned int)res < len) {
		snprintf(buf, buflen, "short write: %d of %u bytes (is the file system full?)",
			 res, len);
	} else if (res == -EOPNOTSUPP) {
		dio_file_unsupported_why(t, why, sizeof(why));
		snprintf(buf, buflen, "the file no longer takes dma-buf I/O (EOPNOTSUPP): %s", why);
	} else {
		return NULL;
	}
	return buf;
}
