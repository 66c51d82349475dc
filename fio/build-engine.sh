#!/bin/bash
# Build fio/dmabuf-engine.c into build/fio/dmabuf-engine.so, an external
# fio I/O engine (ioengine=external:/path/to/dmabuf-engine.so) for the fio
# installed on this machine (Debian's package, which the guest also runs).
#
# An external engine is compiled against fio's own headers, and Debian
# does not package them.  They come from the source package of exactly the
# installed fio version, fetched with apt from the Debian mirror this
# machine's apt already uses (private apt state; deb-src lines for the
# machine's release; apt checks the archive's signature and the files'
# hashes), unpacked with dpkg-source (Debian's patches applied) and
# configured as debian/rules does, so the structures the engine shares with
# fio have the binary's layout.  fio itself checks FIO_IOOPS_VERSION when
# it loads the engine.
#
# Sources, in order: FIO_SRC=/path (your own fio tree: the one the fio you
# run was built from, configured or not; then fio need not be Debian's),
# the archive, ../shared/cache/fio_<version>.dsc with its tarballs.
# Needs a C compiler, liburing-dev and (without FIO_SRC) Debian's fio and
# dpkg-dev; no root, no QEMU, no kernel tree.
# Output: build/fio/dmabuf-engine.so; the fio tree in build/fio/src.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/build/fio"
say() { printf 'fio-engine: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

src="$out/src"
mkdir -p "$out"
[ -f /usr/include/liburing.h ] || die "liburing's headers are missing: apt-get install liburing-dev"
if [ -n "${FIO_SRC:-}" ]; then
	[ -f "$FIO_SRC/fio.h" ] || die "FIO_SRC=$FIO_SRC is not a fio source tree"
	ver=$(sed -n 's/^FIO_VERSION = //p' "$FIO_SRC/FIO-VERSION-FILE" 2>/dev/null || true)
	ver=${ver:-"from $FIO_SRC"}
else
	ver=$(dpkg-query -W -f='${Version}' fio 2>/dev/null) ||
		die "fio is not installed (apt-get install fio), or set FIO_SRC=/path/to/your/fio"
	command -v dpkg-source >/dev/null || die "dpkg-source is missing: apt-get install dpkg-dev"
fi
upstream=${ver%-*}
upstream=${upstream#*:}

fetch() {	# the source package fio=$ver into $out/dl
	local dl="$out/dl" st="$out/apt" mirror codename cache
	rm -rf "$dl"
	mkdir -p "$dl"
	mirror=$(grep -rhoE '^(URIs:|deb)[[:space:]]+[^[:space:]]+/debian/?([[:space:]]|$)' \
			/etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
		 awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	if [ -n "$mirror" ] && [ -n "$codename" ]; then
		mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$st/etc/preferences.d"
		cat > "$st/etc/sources.list" <<SRC
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $codename main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $codename-updates main
SRC
		local aptopt=(-o Dir::State="$st" -o Dir::State::Lists="$st/lists"
			-o Dir::State::status=/dev/null -o Dir::Cache="$st/cache"
			-o Dir::Etc::SourceList="$st/etc/sources.list"
			-o Dir::Etc::SourceParts=/dev/null
			-o Dir::Etc::PreferencesParts="$st/etc/preferences.d"
			-o Debug::NoLocking=1)
		say "asking the machine's Debian mirror ($codename) for the source of fio $ver"
		if apt-get "${aptopt[@]}" -qq update >"$st/update.log" 2>&1 &&
		   (cd "$dl" && apt-get "${aptopt[@]}" -qq source --download-only "fio=$ver" \
				>"$st/source.log" 2>&1); then
			return 0
		fi
		say "the archive does not offer fio $ver source (see $st/*.log)"
	else
		say "no Debian mirror or release name found in /etc/apt, /etc/os-release"
	fi
	cache="$top/../shared/cache"
	if [ -f "$cache/fio_$ver.dsc" ]; then
		cp "$cache/fio_$ver.dsc" "$cache/fio_$upstream".orig.tar.* \
			"$cache/fio_$ver".debian.tar.* "$dl/"
		return 0
	fi
	die "no fio $ver source: set FIO_SRC=/path/to/fio-$upstream"
}

if [ -n "${FIO_SRC:-}" ]; then
	src=$(cd "$FIO_SRC" && pwd)
elif [ "$(cat "$src/.dmabuf-rw-version" 2>/dev/null)" != "$ver" ]; then
	fetch
	rm -rf "$src"
	# --no-check: apt verified the signed index and the files' hashes
	dpkg-source --no-check -x "$out/dl/fio_$ver.dsc" "$src" >"$out/unpack.log" 2>&1 ||
		die "dpkg-source failed (see $out/unpack.log)"
	echo "$ver" > "$src/.dmabuf-rw-version"
fi

# debian/rules: ./configure --disable-native --prefix=/usr --enable-gfio
# --enable-libnbd; those two only add a GUI and an engine, not layouts.
if [ ! -f "$src/config-host.h" ] ||
   { [ -z "${FIO_SRC:-}" ] && [ "$src/configure" -nt "$src/config-host.h" ]; }; then
	say "configuring fio $ver's headers (as debian/rules does)"
	(cd "$src" && ./configure --disable-native --prefix=/usr) >"$out/configure.log" 2>&1 ||
		die "fio's configure failed (see $out/configure.log)"
fi
grep -q '^#define CONFIG_POSIXAIO' "$src/config-host.h" ||
	die "fio's configure found no POSIX aio: struct io_u would not match fio's"

so="$out/dmabuf-engine.so"
stale=0
for f in "$top"/fio/dmabuf-engine.c "$top"/lib/*.c "$top"/lib/*.h "$src/config-host.h" "$0"; do
	[ "$f" -nt "$so" ] && stale=1
done
if [ ! -f "$so" ] || [ "$stale" = 1 ] || [ "$(cat "$so.src" 2>/dev/null)" != "$src" ]; then
	# the library as the guest programs build it; the engine with fio's
	# own CPPFLAGS (its Makefile and config-host.mak)
	objs=()
	for c in "$top"/lib/*.c; do
		o="$out/lib-$(basename "$c" .c).o"
		${CC:-cc} -O2 -g -Wall -fPIC -I"$top/include" -I"$top/lib" -c -o "$o" "$c"
		objs+=("$o")
	done
	${CC:-cc} -std=gnu11 -O2 -g -Wall -fPIC -shared \
		-D_GNU_SOURCE -D_LARGEFILE_SOURCE -D_FILE_OFFSET_BITS=64 \
		-DFIO_INTERNAL -DFIO_INC_DEBUG -include "$src/config-host.h" \
		-I"$src" -I"$top/include" -I"$top/lib" \
		-o "$so.tmp" "$top/fio/dmabuf-engine.c" "${objs[@]}" -l:liburing.a
	echo "$src" > "$so.src"
	mv "$so.tmp" "$so"
	say "${so#$top/} for fio $ver"
fi
