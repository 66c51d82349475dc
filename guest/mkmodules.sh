#!/bin/bash
# Build the test kernel modules, tests/modules/<name>/ (each with a Kbuild
# file), against the built kernel build/kbuild[-$CONFIG], and pack them for
# the guest: build/kbuild[-$CONFIG]/test-modules.cpio holds
# /modules/<name>.ko.  vm/run-vm.sh appends that archive to the initramfs of
# a boot with that kernel, and the guest's init loads every module.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
flavour=${CONFIG:-base}
kbuild="$top/build/kbuild${flavour:+-$flavour}"
kbuild=${kbuild%-base}
out="$kbuild/test-modules"
say() { printf 'mkmodules: %s\n' "$*" >&2; }

[ -f "$kbuild/Module.symvers" ] || { say "no kernel built in ${kbuild#$top/} (make kernel)"; exit 1; }
export CCACHE_DIR=${CCACHE_DIR:-$top/build/ccache}
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"

root="$out/root"
rm -rf "$root"
mkdir -p "$root/modules"
names=()
for dir in "$top"/tests/modules/*/; do
	[ -f "$dir/Kbuild" ] || continue
	name=$(basename "$dir")
	make -C "$kbuild" M="$dir" MO="$out/$name" CC="$cc" HOSTCC="$cc" -s modules
	cp "$out/$name"/*.ko "$root/modules/"
	names+=("$name")
done
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$out.cpio"
rm -rf "$root"
say "${out#$top/}.cpio: ${names[*]:-no modules}"
