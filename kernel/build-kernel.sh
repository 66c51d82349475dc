#!/bin/bash
# Build build/linux into build/kbuild (kept between runs; ccache underneath).
# CONFIG=debug adds kernel/config/debug.config on top of the base fragment.
# CONFIG=unpatched builds the base source without the series, with the same
# configuration, into build/kbuild-unpatched: make bench-cpu measures the
# ordinary I/O paths against it (its tree is build/linux-unpatched, a git
# worktree of build/linux at the tag "base").
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
flavour=${CONFIG:-base}
obj="$top/build/kbuild${flavour:+-$flavour}"
obj=${obj%-base}
src="$top/build/linux"
frags=("$top/kernel/config/dmabuf-rw.config")
case "$flavour" in
base) ;;
unpatched)
	src="$top/build/linux-unpatched"
	[ -d "$src" ] || git -C "$top/build/linux" worktree add -q --detach "$src" base ;;
*)	frags+=("$top/kernel/config/$flavour.config") ;;
esac
jobs=${JOBS:-$(nproc)}
say() { printf 'build-kernel: %s\n' "$*" >&2; }

export CCACHE_DIR=${CCACHE_DIR:-$top/build/ccache}
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=dmabuf-rw KBUILD_BUILD_HOST=qemu
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"
mkdir -p "$obj"
# One build per output tree at a time (make check, make run and a developer
# may all ask for the kernel).
exec 9>"$obj.lock"
flock 9
kmake() { make -C "$src" O="$obj" CC="$cc" HOSTCC="$cc" -j"$jobs" "$@"; }

# Regenerate .config when the fragments change.
stamp=$(cat "${frags[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.fragments" 2>/dev/null)" != "$stamp" ]; then
	say "configuring $flavour (tinyconfig + ${frags[*]##*/})"
	kmake -s tinyconfig >/dev/null
	(cd "$src" && KCONFIG_CONFIG="$obj/.config" \
		scripts/kconfig/merge_config.sh -m -O "$obj" "$obj/.config" "${frags[@]}" >/dev/null)
	kmake -s olddefconfig >/dev/null
	# Every requested option must have survived olddefconfig.
	missing=$(cat "${frags[@]}" | grep -E '^CONFIG_[A-Z0-9_]+=' | while read -r l; do
		grep -qxF "$l" "$obj/.config" || echo "$l"; done)
	if [ -n "$missing" ]; then
		say "options dropped by Kconfig (missing dependency?):"; echo "$missing" >&2
		exit 1
	fi
	echo "$stamp" > "$obj/.fragments"
fi
say "building $flavour kernel in ${obj#$top/} with -j$jobs"
kmake -s bzImage modules
# Modules are not needed in the guest (everything is built in) but the tree
# must be ready for out-of-tree test modules.
say "done: ${obj#$top/}/arch/x86/boot/bzImage"
