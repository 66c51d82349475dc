#!/bin/bash
# Run the kernel's checkpatch.pl --strict on every patch of the series.
# Exit status: non-zero if any patch has errors or warnings.  Only
# UNKNOWN_COMMIT_ID is ignored: the tree is a release tarball without
# upstream history, so the commits named in Fixes: tags cannot be found
# in it (they are the upstream ids of the code the fixes change).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree="$top/build/linux"
[ -x "$tree/scripts/checkpatch.pl" ] || { echo "checkpatch: run 'make tree' first" >&2; exit 1; }
rc=0
for p in "$top"/kernel/patches/[0-9][0-9][0-9][0-9]-*.patch; do
	case "$p" in */0000-*) continue ;; esac
	if out=$(cd "$tree" && scripts/checkpatch.pl --strict --no-tree --terse \
		--ignore UNKNOWN_COMMIT_ID "$p" 2>&1); then
		echo "ok   ${p##*/}"
	else
		echo "FAIL ${p##*/}"
		echo "$out" | sed 's/^/     /'
		rc=1
	fi
done
exit $rc
