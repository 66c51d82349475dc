#!/bin/bash
# Build the guest's initramfs, a gzip'd newc cpio archive:
#   /init                 guest/init
#   /bin, /sbin, ...      busybox-static and its applet links
#   /tests/<area>/<name>  every build/guest/tests/<area>/<name> given
#   /usr/lib/fio/*.so     fio engines given (fio/dmabuf-engine.so)
#   /usr/share/fio/*.fio  fio job files given
#   /bin/<name>           any other program given (the demo, dmabuf-io)
#   /lib, /usr/lib        the shared libraries these need (ldd)
#
# usage: guest/mkinitramfs.sh OUTPUT [PROGRAM...]
#
# Unless FIO=0 it also writes OUTPUT's twin with "-fio" in its name: the
# same archive followed by an uncompressed one holding Debian's fio and its
# ~85 MB of shared libraries (the kernel unpacks concatenated archives in
# order).  Filling the guest's rootfs with those costs ~2.5 s of every boot
# under TCG, so only benchmark boots use it (vm/run-vm.sh --fio).  The fio
# archive changes only with the host's packages and is cached (fio.cpio).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "$1")
shift
dir=$(dirname "$out")
say() { printf 'mkinitramfs: %s\n' "$*" >&2; }

# Copy each ELF's shared libraries and interpreter into root $1.
copy_libs() {
	local root=$1 lib
	shift
	for lib in $(ldd "$@" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | sort -u); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# Skeleton with merged /usr, like the host, so library paths from ldd work.
skeleton() {
	mkdir -p "$1"/{usr/bin,usr/sbin,usr/lib,usr/lib64}
	ln -s usr/lib "$1/lib"
	ln -s usr/lib64 "$1/lib64"
}

pack() {	# pack ROOT ARCHIVE [COMPRESSOR]
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | ${3:-cat} > "$2.tmp"
	mv "$2.tmp" "$2"
}

# fio part, cached (rebuilt when fio or this script changes).
fio_cpio="$dir/fio.cpio"
if [ "${FIO:-1}" = 1 ]; then
	fio=$(command -v fio) || { say "fio not installed (make deps), or FIO=0"; exit 1; }
	if [ ! -s "$fio_cpio" ] || [ "$fio" -nt "$fio_cpio" ] || [ "$0" -nt "$fio_cpio" ]; then
		say "packing fio and its libraries (once)"
		root="$dir/root-fio"
		rm -rf "$root"
		skeleton "$root"
		cp "$fio" "$root/usr/bin/fio"
		copy_libs "$root" "$fio"
		pack "$root" "$fio_cpio"
		rm -rf "$root"
	fi
fi

root="$dir/root"
rm -rf "$root"
skeleton "$root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,etc,root,tests}
# install-deps.sh leaves a user's own busybox alone and unpacks Debian's
# static one into build/ instead.
bb=$top/build/busybox-static/bin/busybox
[ -x "$bb" ] || bb=/bin/busybox
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 755 "$top/guest/init" "$root/init"
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"

progs=()
for p in "$@"; do
	case "$p" in
	*/tests/*/*)	dst="$root/tests/${p#*/tests/}" ;;
	*.so)		dst="$root/usr/lib/fio/$(basename "$p")" ;;
	*.fio)		dst="$root/usr/share/fio/$(basename "$p")" ;;
	*)		dst="$root/bin/$(basename "$p")" ;;
	esac
	mkdir -p "$(dirname "$dst")"
	cp "$p" "$dst"
	progs+=("$p")
done
[ ${#progs[@]} -eq 0 ] || copy_libs "$root" "${progs[@]}"
pack "$root" "$out" "gzip -n -6"
msg="${out#$top/}: $(du -h "$out" | cut -f1), $(find "$root/tests" -type f | wc -l) tests"
if [ "${FIO:-1}" = 1 ]; then
	twin=${out%.cpio.gz}-fio.cpio.gz
	# an uncompressed archive must start 4-byte aligned: pad with zeroes
	pad=$(( (4 - $(stat -c %s "$out") % 4) % 4 ))
	{ cat "$out"; head -c "$pad" /dev/zero; cat "$fio_cpio"; } > "$twin.tmp"
	mv "$twin.tmp" "$twin"
	msg+="; with fio: ${twin#$top/}"
fi
say "$msg"
