#!/bin/bash
# Bisectability: build the kernel at every patch of the series, in two
# configurations: the test kernel's (into build/kbuild-series, so
# build/kbuild stays as it is) and one without dma-buf support
# (tinyconfig + kernel/config/no-dmabuf.config, nvme as a module, into
# build/kbuild-series-nodmabuf).  Then run checkpatch on the whole series.
# The commits are checked out one after the other in a worktree of their
# own (build/series), so build/linux and build/kbuild stay usable while it
# runs; after the first commit each build is incremental.
#
# Environment:
#   FROM=REV        check only the commits after REV (default: the base),
#                   e.g. FROM=HEAD~4 after adding four patches
#   CONFIGS="test nodmabuf"
#                   which configurations to build
#   QUICK=1         the tip builds whole (in the test configuration that
#                   is build/kbuild, make kernel's build), then every other
#                   commit builds only the objects of the C files it
#                   changes (those the tip's whole build compiled).  A
#                   commit that uses what a later one adds, or leaves a
#                   warning in a file it touches, still fails, in minutes
#                   instead of hours; what an earlier commit's header
#                   breaks in files it does not touch goes unseen
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

# One series check at a time; it has its own tree and build directories.
exec 9>"$obj.lock"
flock 9
from=$(git -C "$tree" rev-parse --verify "${FROM:-base}^{commit}")
commits=$(git -C "$tree" rev-list --reverse "$from"..HEAD)
configs=${CONFIGS:-test nodmabuf}
wt="$top/build/series"
if ! git -C "$wt" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	rm -rf "$wt"
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$wt" base
fi
tree=$wt

kmake() { make -C "$tree" O="$1" CC="$cc" HOSTCC="$cc" -j"$(nproc)" -s "${@:2}"; }
nodma="$obj-nodmabuf"
mkdir -p "$obj" "$nodma"
cp "$top/build/kbuild/.config" "$obj/.config"
# The base has what the fragment asks for; the series must keep it so.
git -C "$tree" checkout -q --detach base
kmake "$nodma" tinyconfig >/dev/null
(cd "$tree" && KCONFIG_CONFIG="$nodma/.config" scripts/kconfig/merge_config.sh -m \
	-O "$nodma" "$nodma/.config" "$top/kernel/config/no-dmabuf.config" >/dev/null)
kmake "$nodma" olddefconfig >/dev/null
grep -q '^CONFIG_DMA_SHARED_BUFFER=y' "$nodma/.config" &&
	{ say "no-dmabuf.config: something selects DMA_SHARED_BUFFER"; exit 1; }
dirs=
for k in $configs; do
	case $k in
	test)		dirs+=" $obj" ;;
	nodmabuf)	dirs+=" $nodma" ;;
	*)		say "CONFIGS: '$k' is neither test nor nodmabuf"; exit 1 ;;
	esac
done
# QUICK: the objects of the C files commit $1 changes that a whole build
# of the tip in configuration directory $2 compiled (a .cmd file there;
# kbuild compiles any file named on its command line, selected or not).
# The test configuration's whole build of the tip is build/kbuild, which
# make kernel keeps current; the other configuration builds it first.
touched_objs() {
	local f o ref=$2
	[ "$ref" != "$obj" ] || ref="$top/build/kbuild"
	for f in $(git -C "$tree" diff-tree --no-commit-id --name-only -r "$1" -- '*.c'); do
		o=${f%.c}.o
		[ ! -f "$ref/$(dirname "$o")/.$(basename "$o").cmd" ] || echo "$o"
	done
}
last=$(echo "$commits" | tail -n1)
order=$commits
if [ "${QUICK:-0}" = 1 ]; then
	[ "$(git -C "$top/build/linux" rev-parse HEAD)" = "$(git -C "$tree" rev-parse "$last")" ] ||
		{ say "QUICK: the series' tip is not build/linux's HEAD"; exit 1; }
	"$top/kernel/build-kernel.sh"
	order="$last $(echo "$commits" | sed '$d')"
fi
fail=0
for c in $order; do
	subj=$(git -C "$tree" log -1 --format=%s "$c")
	git -C "$tree" checkout -q --detach "$c"
	built=""
	for o in $dirs; do
		what=(bzImage modules)
		if [ "${QUICK:-0}" = 1 ] && [ "$c" = "$last" ] && [ "$o" = "$obj" ]; then
			built="$built test: build/kbuild"
			continue
		elif [ "${QUICK:-0}" = 1 ] && [ "$c" != "$last" ]; then
			mapfile -t what < <(touched_objs "$c" "$o")
			built="$built $([ "$o" = "$obj" ] && echo test || echo nodmabuf): ${#what[@]} object(s)"
			[ ${#what[@]} -gt 0 ] || continue
		fi
		if kmake "$o" olddefconfig "${what[@]}" > "$o/build.log" 2>&1 &&
		   ! grep -q 'warning:' "$o/build.log"; then
			continue
		fi
		say "FAILS:   $subj (${o#$top/build/}; log: ${o#$top/}/build.log)"
		grep -m5 -E 'error|warning' "$o/build.log" >&2 || true
		fail=1
		break 2
	done
	say "builds:  $subj ($configs${built:+; QUICK:$built})"
done
"$top/kernel/checkpatch.sh" || fail=1
exit $fail
