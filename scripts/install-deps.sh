#!/bin/bash
# Install the Debian 12 packages the project needs (build, guest image, VM).
# As root: installs whatever is missing with apt-get.  Otherwise: prints the
# apt-get command and exits 1 if anything is missing.
#
# The guest needs a static busybox.  Debian's busybox-static conflicts with
# busybox: installing it would remove a user's busybox.  When busybox is
# installed, busybox-static is not; its binary is taken from the package
# file instead (apt-get download, no root needed) into
# build/busybox-static/bin/busybox, which guest/mkinitramfs.sh prefers.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

# busybox-static's binary without the package: into build/busybox-static
extract_busybox() {
	local dir="$top/build/busybox-static" deb
	[ -x "$dir/bin/busybox" ] && return 0
	mkdir -p "$dir/dl"
	(cd "$dir/dl" && apt-get download -qq busybox-static >/dev/null 2>&1) || {
		echo "install-deps: cannot download busybox-static (apt-get update first?)" >&2
		return 1
	}
	deb=$(ls "$dir"/dl/busybox-static_*.deb | head -n1)
	dpkg-deb -x "$deb" "$dir/root"
	mkdir -p "$dir/bin"
	cp "$dir/root/bin/busybox" "$dir/bin/busybox"
	rm -rf "$dir/root" "$dir/dl"
	echo "install-deps: busybox is installed, so busybox-static was not;" \
		"its binary is in ${dir#$top/}/bin" >&2
}

packages=(
	# kernel build
	build-essential bc bison flex libelf-dev libssl-dev dwarves kmod
	cpio xz-utils zstd rsync ccache git perl python3
	# kernel base download (kernel/fetch-base.sh)
	ca-certificates debian-archive-keyring
	# guest programs and image (busybox-static: see above)
	liburing-dev fio dpkg-dev
	# host-side tests (tests/host): the C++ include check, the install check
	g++ pkg-config binutils
	# test bed and benchmarks
	qemu-system-x86 qemu-utils gnuplot-nox
	# tests/fs: the ext4 and xfs images, made and checked on the host
	e2fsprogs xfsprogs
)

if installed busybox && ! installed busybox-static; then
	extract_busybox
else
	packages+=(busybox-static)
fi

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages; as root run:" >&2
	echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
