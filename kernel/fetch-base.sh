#!/bin/bash
# Fetch the kernel base: Debian's linux-source-7.3 (7.3.4-1~bpo13+1) from the
# trixie-backports suite of the mirror this machine's apt already uses, with a
# private apt state directory so the machine's own apt setup is not touched.
#
# Order of sources:
#   1. KERNEL_SRC=/path   an unpacked 7.3 tree or a tarball, used as given;
#   2. the archive        the pinned .deb, SHA-256 checked;
#   3. ../shared/cache/   the same .deb, SHA-256 checked.
#
# Output: build/base/linux-source-7.3.tar.xz (or the user's tree/tarball),
# and build/base/SOURCE naming what was used.
set -euo pipefail

PKG=linux-source-7.3
VER=7.3.4-1~bpo13+1
SHA256=703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3
DEB="${PKG}_${VER}_all.deb"

top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/build/base"
mkdir -p "$out"

say() { printf 'fetch-base: %s\n' "$*" >&2; }

if [ -n "${KERNEL_SRC:-}" ]; then
	[ -e "$KERNEL_SRC" ] || { say "KERNEL_SRC=$KERNEL_SRC does not exist"; exit 1; }
	echo "user:$(realpath "$KERNEL_SRC")" > "$out/SOURCE"
	say "using KERNEL_SRC=$KERNEL_SRC (not checksummed: your tree, your version)"
	exit 0
fi

if [ -f "$out/$DEB" ] && echo "$SHA256  $out/$DEB" | sha256sum -c --quiet - 2>/dev/null; then
	say "already have $DEB ($(cat "$out/SOURCE" 2>/dev/null || echo cached))"
else
	rm -f "$out/$DEB"
	# The mirror is whatever Debian mirror this machine uses for its own suites.
	mirror=$(grep -rhoE '^(URIs:|deb)[[:space:]]+[^[:space:]]+/debian/?([[:space:]]|$)' \
			/etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
		 awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
	got=
	if [ -n "$mirror" ]; then
		st="$out/apt"
		mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$st/etc/preferences.d"
		cat > "$st/etc/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie-backports main
SRC
		aptopt=(-o Dir::State="$st" -o Dir::State::Lists="$st/lists"
			-o Dir::State::status=/dev/null
			-o Dir::Cache="$st/cache"
			-o Dir::Etc::SourceList="$st/etc/sources.list"
			-o Dir::Etc::SourceParts=/dev/null
			-o Dir::Etc::PreferencesParts="$st/etc/preferences.d"
			-o APT::Architecture=amd64 -o Debug::NoLocking=1)
		say "asking the machine's Debian mirror (trixie-backports) for $PKG=$VER"
		if apt-get "${aptopt[@]}" -qq update >"$st/update.log" 2>&1 &&
		   (cd "$out" && apt-get "${aptopt[@]}" -qq download "$PKG=$VER" >"$st/download.log" 2>&1); then
			got=archive
		else
			say "archive does not offer $PKG=$VER (see $st/*.log)"
		fi
	else
		say "no Debian mirror found in /etc/apt"
	fi
	if [ -z "$got" ]; then
		cache="$top/../shared/cache/$DEB"
		if [ -f "$cache" ]; then
			cp "$cache" "$out/$DEB"
			got="cache:../shared/cache"
		else
			say "no $DEB in ../shared/cache either.  Any of these works:"
			say "  - put $DEB (SHA-256 $SHA256,"
			say "    Debian package $PKG version $VER, suite trixie-backports)"
			say "    into $out/ or ../shared/cache/ and run this again;"
			say "  - KERNEL_SRC=/path/to/linux-7.3.4 (an unpacked tree) or"
			say "    KERNEL_SRC=/path/to/linux-7.3.4.tar.xz (kernel.org's v7.3.4 tarball):"
			say "    the series applies to 7.3.4 with git am"
			exit 1
		fi
	fi
	if ! echo "$SHA256  $out/$DEB" | sha256sum -c --quiet -; then
		say "SHA-256 mismatch for $DEB from $got: refusing it"
		rm -f "$out/$DEB"
		exit 1
	fi
	echo "$got:$DEB sha256=$SHA256" > "$out/SOURCE"
	say "got $DEB from $got, SHA-256 verified"
fi

if [ ! -f "$out/linux-source-7.3.tar.xz" ]; then
	tmp=$(mktemp -d "$out/x.XXXX")
	dpkg-deb -x "$out/$DEB" "$tmp"
	mv "$tmp"/usr/src/linux-source-7.3.tar.* "$out/"
	rm -rf "$tmp"
fi
say "kernel base: $(cat "$out/SOURCE")"
