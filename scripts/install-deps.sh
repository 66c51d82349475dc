#!/bin/bash
# Install the Debian 12 packages the project needs (build, guest image, VM).
# As root: installs whatever is missing with apt-get.  Otherwise: prints the
# apt-get command and exits 1 if anything is missing.
set -euo pipefail

packages=(
	# kernel build
	build-essential bc bison flex libelf-dev libssl-dev dwarves kmod
	cpio xz-utils zstd rsync ccache git perl python3
	# kernel base download (kernel/fetch-base.sh)
	ca-certificates debian-archive-keyring
	# guest programs and image
	liburing-dev busybox-static fio
	# test bed and benchmarks
	qemu-system-x86 qemu-utils gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
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
