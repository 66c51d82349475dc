#!/bin/bash
# Export the commits of build/linux (base..HEAD) into kernel/patches as
# git format-patch files, with the cover letter 0000-cover-letter.patch
# built from kernel/cover-letter.txt (first paragraph: subject, rest: body).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree="$top/build/linux"
out="$top/kernel/patches"
say() { printf 'export-series: %s\n' "$*" >&2; }

git -C "$tree" rev-parse -q --verify refs/tags/base >/dev/null ||
	{ say "no build/linux with a base tag: run 'make tree' first"; exit 1; }
if [ -n "$(git -C "$tree" status --porcelain --untracked-files=no)" ]; then
	say "build/linux has uncommitted changes: commit them first"
	exit 1
fi
n=$(git -C "$tree" rev-list --count base..HEAD)
[ "$n" -gt 0 ] || { say "no commits on top of base"; exit 1; }

git -C "$tree" config branch."$(git -C "$tree" symbolic-ref --short HEAD)".description \
	"$(cat "$top/kernel/cover-letter.txt")"
rm -f "$out"/[0-9][0-9][0-9][0-9]-*.patch
mkdir -p "$out"
# --zero-commit and --no-signature keep the files stable across exports.
git -C "$tree" format-patch -q --cover-letter --cover-from-description=subject --base=base \
	--zero-commit --no-signature -o "$out" base..HEAD
# The tree now matches the series: prepare-tree.sh must not re-apply it.
find "$out" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort |
	xargs -r cat | sed '/^From [0-9a-f]\{40\} /d' | sha256sum | cut -d' ' -f1 \
	> "$tree/.git/series-applied"
say "exported $n patches and the cover letter to kernel/patches"
