#!/bin/bash
# Bisectability: build the kernel at every patch of the series, in a
# separate worktree and output directory so build/linux is not disturbed.
# Then run checkpatch on the whole series.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree="$top/build/linux"
wt="$top/build/series-check/linux"
obj="$top/build/series-check/kbuild"
say() { printf 'check-series: %s\n' "$*" >&2; }

"$top/kernel/prepare-tree.sh"
export CCACHE_DIR=${CCACHE_DIR:-$top/build/ccache}
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=dmabuf-rw KBUILD_BUILD_HOST=qemu
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"

if [ ! -d "$wt" ]; then
	mkdir -p "$(dirname "$wt")"
	git -C "$tree" worktree add -q --detach "$wt" base
fi
mkdir -p "$obj"
cp "$top/build/kbuild/.config" "$obj/.config" 2>/dev/null ||
	{ say "build the kernel once first (make kernel)"; exit 1; }

fail=0
for c in $(git -C "$tree" rev-list --reverse base..HEAD); do
	subj=$(git -C "$tree" log -1 --format=%s "$c")
	git -C "$wt" checkout -q --detach "$c"
	if make -C "$wt" O="$obj" CC="$cc" HOSTCC="$cc" -j"$(nproc)" -s olddefconfig bzImage modules \
		> "$obj/build.log" 2>&1 && ! grep -q 'warning:' "$obj/build.log"; then
		say "builds:  $subj"
	else
		say "FAILS:   $subj (log: ${obj#$top/}/build.log)"
		grep -m5 -E 'error|warning' "$obj/build.log" >&2 || true
		fail=1
		break
	fi
done
"$top/kernel/checkpatch.sh" || fail=1
exit $fail
