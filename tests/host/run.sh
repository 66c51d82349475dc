#!/bin/bash
# Host-side tests: no root, no kernel build, no VM.  The library and
# dmabuf-io built for the host (make tools) and installed into a scratch
# DESTDIR (make install), a C++ program built on that install with
# pkg-config, the ABI header without liburing, dmabuf-io probe on the
# host's kernel (which lacks the feature), and the unit programs
# tests/host/*.c (exit 0 pass, 1 fail, 77 skip) linked with the tool.
#
# usage: tests/host/run.sh [FIRST]
# Prints TAP, "ok N - host/NAME", numbered after FIRST (default 0).  With
# FIRST (as make check calls it) the last line is "# host: PASS FAIL SKIP"
# for the caller's totals; alone (make check-host) it ends with the plan
# and "N passed, N failed, N skipped".  Exit status 1 if anything failed.
# Logs: build/host/logs/.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
first=${1:-0}
n=$first pass=0 fail=0 skip=0
out=build/host
logs=$out/logs
mkdir -p "$logs"

# ok NAME STATUS [LOG]: 0 pass, 77 skip (reason: the log's last line), else fail
result() {
	local name=$1 st=$2 log=${3:-}
	n=$((n + 1))
	if [ "$st" = 0 ]; then
		pass=$((pass + 1))
		echo "ok $n - host/$name"
	elif [ "$st" = 77 ]; then
		skip=$((skip + 1))
		echo "ok $n - host/$name # SKIP $(tail -n 1 "$log" 2>/dev/null)"
	else
		fail=$((fail + 1))
		echo "not ok $n - host/$name"
		[ -z "$log" ] || tail -n 30 "$log" | sed 's/^/#   /'
	fi
}

finish() {
	if [ "$folded" = 1 ]; then
		echo "# host: $pass $fail $skip"
	else
		echo "1..$n"
		echo "$pass passed, $fail failed, $skip skipped"
	fi
	[ "$fail" -eq 0 ]
	exit
}
folded=$([ $# -gt 0 ] && echo 1 || echo 0)

# 1. build
make -s tools >"$logs/build.log" 2>&1
st=$?
result build "$st" "$logs/build.log"
[ "$st" = 0 ] || finish

# 2. install into a scratch DESTDIR: every file, man pages' #include lines
dest=$(mktemp -d "${TMPDIR:-/tmp}/dmabuf-rw-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT
prefix=/usr
{
	make -s install DESTDIR="$dest" PREFIX="$prefix" || exit 1
	ver=$(sed -n 's/^Version: //p' "$dest$prefix/lib/pkgconfig/dmabuf-rw.pc")
	for f in bin/dmabuf-io lib/libdmabuf-rw.a "lib/libdmabuf-rw.so.$ver" \
		 lib/libdmabuf-rw.so lib/libdmabuf-rw.so.1 lib/pkgconfig/dmabuf-rw.pc \
		 include/dmabuf-rw.h include/dmabuf-rw/uapi.h share/man/man1/dmabuf-io.1 \
		 share/man/man3/dmabuf_rw_register_dmabuf.3 share/man/man3/dmabuf_rw_prep_read.3 \
		 share/man/man3/dmabuf_rw_register_premapped.3 \
		 share/man/man3/dmabuf_rw_buffer_premapped.3; do
		[ -e "$dest$prefix/$f" ] || { echo "not installed: $prefix/$f"; exit 1; }
	done
	[ "$(readelf -d "$dest$prefix/lib/libdmabuf-rw.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')" = libdmabuf-rw.so.1 ] ||
		{ echo "the shared library's soname is not libdmabuf-rw.so.1"; exit 1; }
	for m in "$dest$prefix"/share/man/man3/*.3; do
		for h in $(sed -n 's/^\.B #include <\(.*\)>$/\1/p' "$m"); do
			[ -f "$dest$prefix/include/$h" ] ||
				{ echo "${m##*/}: #include <$h> is not installed"; exit 1; }
		done
		grep -q '^\.so \|#include' "$m" || { echo "${m##*/}: no #include line"; exit 1; }
	done
	echo "installed into $dest$prefix, version $ver"
} >"$logs/install.log" 2>&1
result install $? "$logs/install.log"

# 3. a C++ program on the installed tree, through pkg-config
export PKG_CONFIG_PATH="$dest$prefix/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
{
	flags=$(pkg-config --cflags --libs dmabuf-rw) || exit 1
	echo "pkg-config: $flags"
	# shellcheck disable=SC2086
	${CXX:-g++} -std=c++11 -Wall -Wextra -Werror -o "$out/cxx-include" \
		tests/host/cxx-include.cc $flags || exit 1
	LD_LIBRARY_PATH="$dest$prefix/lib" "$out/cxx-include"
} >"$logs/cxx-include.log" 2>&1
result cxx-include $? "$logs/cxx-include.log"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# 4. the ABI header alone: a liburing.h that cannot compile comes first
{
	mkdir -p "$out/poison"
	echo '#error "<dmabuf-rw/uapi.h> must not need liburing"' > "$out/poison/liburing.h"
	${CC:-cc} -Wall -Wextra -Werror -I"$out/poison" -I"$dest$prefix/include" \
		-o "$out/uapi-alone" tests/host/uapi-alone.c && "$out/uapi-alone" &&
	${CXX:-g++} -x c++ -std=c++11 -Wall -Werror -I"$out/poison" -I"$dest$prefix/include" \
		-o "$out/uapi-alone-cxx" tests/host/uapi-alone.c && "$out/uapi-alone-cxx"
} >"$logs/uapi-alone.log" 2>&1
result uapi-alone $? "$logs/uapi-alone.log"

# 5. dmabuf-io probe on this kernel: not supported, exit 1, said so
"$out/dmabuf-io" probe >"$logs/probe.log" 2>&1
st=$?
if grep -q 'io_uring unavailable' "$logs/probe.log"; then
	echo "SKIP: io_uring is not available to this user on the host" >>"$logs/probe.log"
	st=77
elif grep -q '^dma-buf registered buffers: supported' "$logs/probe.log"; then
	echo "SKIP: the host kernel has the feature: nothing to refuse" >>"$logs/probe.log"
	st=77
elif [ "$st" = 1 ] && grep -q 'not supported by this kernel' "$logs/probe.log"; then
	st=0
else
	echo "want exit 1 and 'not supported by this kernel', got exit $st" >>"$logs/probe.log"
	st=1
fi
result probe "$st" "$logs/probe.log"

# 6. unit programs, linked with the tool (but its main) and the library
objs=$(ls $out/obj/tools/dmabuf-io/*.o | grep -v '/main\.o$')
for src in tests/host/*.c; do
	name=$(basename "$src" .c)
	[ "$name" = uapi-alone ] && continue
	bin=$out/tests/$name
	mkdir -p "$out/tests"
	# shellcheck disable=SC2086
	if ${CC:-cc} -O2 -g -Wall -Wextra -Werror -Iinclude -Ilib -Itools/dmabuf-io \
		-Itests/lib -Itests/tool -o "$bin" "$src" tests/lib/test.c $objs \
		"$out/libdmabuf-rw.a" -luring -lpthread -lm >"$logs/$name.log" 2>&1; then
		(cd "$out" && timeout 120 "$top/$bin" </dev/null) >>"$logs/$name.log" 2>&1
		st=$?
	else
		st=1
	fi
	result "$name" "$st" "$logs/$name.log"
done
finish
