#!/bin/bash
# The file system drives of the tests/fs bed, on the host: made with
# Debian's e2fsprogs and xfsprogs before a boot, checked after it, so that
# what the guest's kernel wrote is judged by tools that share no code with
# it.  tests/run-check.sh attaches them (vm/run-vm.sh --drive image:PATH)
# as drives 2 and 3 and tells the guest with dmabuf_rw.fs=ext4:2,xfs:3.
#
# usage: tests/fs/images.sh make PREFIX   PREFIX-ext4.img, PREFIX-xfs.img
#        tests/fs/images.sh fsck IMAGE    e2fsck -fn or xfs_repair -n by the
#                                         name; exit 1 (output kept) if not
#                                         clean
#
# Both images are sparse files: only what mkfs and the tests write takes
# host disk space.  ext4: 256 MiB, 4 KiB blocks (not the 1 KiB mke2fs picks
# for small file systems), inline_data so that fs/refuse can make an inline
# file, inode tables initialised now (the kernel's lazy init thread would
# write them during the tests).  xfs: 320 MiB (mkfs.xfs wants 300 MiB),
# with reflink (xfsprogs' default) for fs/reflink.
set -euo pipefail

say() { printf 'fs-images: %s\n' "$*" >&2; }

case "${1:-}" in
make)
	prefix=$2
	for t in mkfs.ext4 mkfs.xfs; do
		command -v "$t" >/dev/null || { say "no $t (make deps)"; exit 1; }
	done
	# a fresh clone has no build/vm yet: vm/run-vm.sh makes it later
	mkdir -p "$(dirname "$prefix")"
	rm -f "$prefix-ext4.img" "$prefix-xfs.img"
	truncate -s 256M "$prefix-ext4.img"
	mkfs.ext4 -q -F -T default -b 4096 -O inline_data -L dmabuf-ext4 \
		-E lazy_itable_init=0,lazy_journal_init=0 "$prefix-ext4.img"
	truncate -s 320M "$prefix-xfs.img"
	mkfs.xfs -q -f -m reflink=1 -L dmabuf-xfs "$prefix-xfs.img"
	;;
fsck)
	# A journal or log left to replay means the guest never unmounted
	# cleanly (a test's mount leaked, or a reference held the super
	# block): -n checks would skip it, so it fails here.
	img=$2
	case "$img" in
	*-ext4.img)
		e2fsck -fn "$img"
		if dumpe2fs -h "$img" 2>/dev/null | grep -q '^Filesystem features:.*needs_recovery'; then
			say "$img: the journal needs recovery: not cleanly unmounted"
			exit 1
		fi ;;
	*-xfs.img)
		out=$(xfs_repair -n "$img" 2>&1) || { echo "$out"; exit 1; }
		echo "$out"
		if echo "$out" | grep -q 'metadata changes in a log'; then
			say "$img: the log is dirty: not cleanly unmounted"
			exit 1
		fi ;;
	*)	say "$img: neither *-ext4.img nor *-xfs.img"; exit 2 ;;
	esac
	;;
*)
	sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "$0"
	exit 2
	;;
esac
