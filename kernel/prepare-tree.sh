#!/bin/bash
# Generate the kernel working tree: unpack the base into build/linux, commit
# it as "base" in a fresh git repository and apply kernel/patches with git am.
# The tree is generated: edit there, commit, then run export-series.sh.
# An existing tree is left alone unless FORCE=1 (it may hold unexported work).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree="$top/build/linux"
patches="$top/kernel/patches"
say() { printf 'prepare-tree: %s\n' "$*" >&2; }
# Identity of the series content (commit ids in "From <sha>" lines vary).
series_hash() {
	find "$patches" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort |
		xargs -r cat | sed '/^From [0-9a-f]\{40\} /d' | sha256sum | cut -d' ' -f1
}

if [ -d "$tree/.git" ] && [ "${FORCE:-0}" != 1 ]; then
	if git -C "$tree" rev-parse -q --verify refs/tags/base >/dev/null; then
		# Fast path: the tree exists; re-apply the series only if it changed.
		want=$(series_hash)
		have=$(cat "$tree/.git/series-applied" 2>/dev/null || true)
		if [ "$want" = "$have" ]; then
			say "build/linux is up to date with kernel/patches"
			exit 0
		fi
		if [ -n "$(git -C "$tree" status --porcelain --untracked-files=no)" ]; then
			say "build/linux has uncommitted changes and kernel/patches changed; commit+export or FORCE=1"
			exit 1
		fi
		if [ "$(git -C "$tree" rev-list --count base..HEAD)" != "0" ] && [ -n "$have" ] &&
		   [ "$(git -C "$tree" log -1 --format=%ct)" -gt "$(stat -c %Y "$tree/.git/series-applied")" ]; then
			say "build/linux has commits not exported to kernel/patches; run 'make export' or FORCE=1"
			exit 1
		fi
		git -C "$tree" am --abort >/dev/null 2>&1 || true
		git -C "$tree" checkout -q -f -B work base
	else
		say "build/linux exists but has no base tag; remove it or FORCE=1"
		exit 1
	fi
else
	"$top/kernel/fetch-base.sh"
	src=$(cat "$top/build/base/SOURCE")
	rm -rf "$tree"
	mkdir -p "$tree"
	case "$src" in
	user:*)
		p=${src#user:}
		if [ -d "$p" ]; then
			say "copying $p"
			(cd "$p" && git ls-files -z 2>/dev/null | grep -q . && git archive HEAD || tar c --exclude=.git .) |
				tar x -C "$tree"
		else
			tar xf "$p" -C "$tree" --strip-components=1
		fi ;;
	*)	say "unpacking linux-source-7.3.tar.xz"
		tar xf "$top/build/base/linux-source-7.3.tar.xz" -C "$tree" --strip-components=1 ;;
	esac
	cd "$tree"
	git init -q -b work
	git config user.name "${GIT_AUTHOR_NAME:-dmabuf-rw developers}"
	git config user.email "${GIT_AUTHOR_EMAIL:-dmabuf-rw@localhost}"
	git config core.abbrev 12
	git add -A -f . >/dev/null
	# A fixed identity and date: the same source gives the same base
	# commit everywhere, so the cover letter's base-commit is stable.
	src=${src#archive:}
	GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
		git -c user.name="dmabuf-rw developers" -c user.email=dmabuf-rw@localhost \
		commit -q -m "base: ${src#cache:}"
	git tag base
fi

cd "$tree"
n=0
for p in "$patches"/[0-9][0-9][0-9][0-9]-*.patch; do
	[ -e "$p" ] || continue
	case "$p" in */0000-*) continue ;; esac
	n=$((n + 1))
done
if [ "$n" -gt 0 ]; then
	say "applying $n patches"
	ls "$patches"/[0-9][0-9][0-9][0-9]-*.patch | grep -v '/0000-' | xargs git am -q --whitespace=nowarn
fi
series_hash > .git/series-applied
say "build/linux at $(git log -1 --format='%h %s')"
