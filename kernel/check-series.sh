#!/bin/bash
# Bisectability: build the kernel at every patch of the series (into
# build/kbuild-series, so build/kbuild stays as it is), then run checkpatch
# on the whole series.  The commits are checked out in build/linux itself so
# that ccache hits for every file a patch does not change; the tree is put
# back on its branch afterwards.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree="$top/build/linux"
obj="$top/build/kbuild-series"
say() { printf 'check-series: %s\n' "$*" >&2; }

"$top/kernel/prepare-tree.sh"
[ -f "$top/build/kbuild/.config" ] || { say "build the kernel once first (make kernel)"; exit 1; }
if [ -n "$(git -C "$tree" status --porcelain --untracked-files=no)" ]; then
	say "build/linux has uncommitted changes: commit or stash them first"
	exit 1
fi
export CCACHE_DIR=${CCACHE_DIR:-$top/build/ccache}
export KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=dmabuf-rw KBUILD_BUILD_HOST=qemu
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"

# Nobody may build from build/linux while its commits are checked out:
# hold the lock of every build tree (build-kernel.sh takes one of them).
exec 9>"$top/build/kbuild.lock" 8>"$top/build/kbuild-debug.lock"
flock 9
flock 8
branch=$(git -C "$tree" symbolic-ref --short HEAD)
trap 'git -C "$tree" checkout -q "$branch"' EXIT

mkdir -p "$obj"
cp "$top/build/kbuild/.config" "$obj/.config"
fail=0
for c in $(git -C "$tree" rev-list --reverse base..HEAD); do
	subj=$(git -C "$tree" log -1 --format=%s "$c")
	git -C "$tree" checkout -q --detach "$c"
	if make -C "$tree" O="$obj" CC="$cc" HOSTCC="$cc" -j"$(nproc)" -s \
		olddefconfig bzImage modules > "$obj/build.log" 2>&1 &&
	   ! grep -q 'warning:' "$obj/build.log"; then
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
