#!/bin/bash
# Boot the test guest (built kernel + build/guest/initramfs.cpio.gz) under
# QEMU on a q35 machine with emulated NVMe drives, in one IOMMU mode.
#
# usage: vm/run-vm.sh [options]
#   --iommu MODE     none | strict | lazy | pt                  (strict)
#                    none: q35 without an IOMMU; otherwise an Intel IOMMU
#                    (intremap=on) and iommu.strict=1 / iommu.strict=0 /
#                    iommu=pt on the kernel command line
#   --drive SPEC     an NVMe controller with one namespace, repeatable;
#                    SPEC is KIND:SIZE[,NVME-OPTS] where KIND is
#                      file  a raw image under build/vm/, created empty
#                            (sparse) for every boot
#                      null  QEMU's null-co driver: no data, for speed
#                    and NVME-OPTS go to -device nvme (e.g. mdts=3).
#                    Drive n gets serial dmabuf-rw-n.
#                    Default: --drive file:64M --drive file:64M,mdts=3
#   --append ARGS    more kernel parameters (e.g. dmabuf_rw.tests=smoke/*)
#   --timeout SECS   kill the guest after SECS and report it hung   (600)
#   --name NAME      names the log and the images                 (MODE)
#   --log FILE       console log                  (build/logs/NAME.log)
#   --mem MB (1024)  --cpus N (2)
#   --kernel FILE    (build/kbuild[-$CONFIG]/arch/x86/boot/bzImage)
#   --initrd FILE    (build/guest/initramfs.cpio.gz)
#   --fio            the initramfs that also holds fio (slower to boot)
#                    The kernel's test modules (guest/mkmodules.sh) are
#                    appended to the initramfs when they have been built.
#   --interactive    console on this terminal, no timeout (use with
#                    --append dmabuf_rw.mode=shell)
# Environment: ACCEL=tcg|kvm (tcg), QEMU=qemu-system-x86_64.
#
# Standard output: the guest's results channel (second serial port), live.
# The console (kernel messages and everything else) goes to the log file.
# Exit status: 0 when the guest powered off, 124 when it had to be killed
# (hung), anything else when QEMU failed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
say() { printf 'run-vm: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

iommu=strict drives=() append="" timeout=600 name="" log="" mem=1024 cpus=2
kbuild="$top/build/kbuild${CONFIG:+-$CONFIG}"
kernel="$kbuild/arch/x86/boot/bzImage"
initrd="$top/build/guest/initramfs.cpio.gz"
interactive=0
while [ $# -gt 0 ]; do
	case "$1" in
	--iommu)	iommu=$2; shift ;;
	--drive)	drives+=("$2"); shift ;;
	--append)	append="$append $2"; shift ;;
	--timeout)	timeout=$2; shift ;;
	--name)		name=$2; shift ;;
	--log)		log=$2; shift ;;
	--mem)		mem=$2; shift ;;
	--cpus)		cpus=$2; shift ;;
	--kernel)	kernel=$2; shift ;;
	--initrd)	initrd=$2; shift ;;
	--fio)		initrd="$top/build/guest/initramfs-fio.cpio.gz" ;;
	--interactive)	interactive=1 ;;
	-h|--help)	sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*)		die "unknown option $1 (--help)" ;;
	esac
	shift
done
[ ${#drives[@]} -gt 0 ] || drives=(file:64M file:64M,mdts=3)
name=${name:-$iommu}
log=$(realpath -m "${log:-$top/build/logs/$name.log}")
results="${log%.log}.out"
[ -f "$kernel" ] || die "no kernel at $kernel (make kernel)"
[ -f "$initrd" ] || die "no initramfs at $initrd (make guest)"

cmdline="console=ttyS0 panic=-1 oops=panic nvme.poll_queues=1"
case "$iommu" in
none)	machine=(-M q35) ;;
strict)	machine=(-M q35,kernel-irqchip=split -device intel-iommu,intremap=on)
	cmdline+=" intel_iommu=on iommu.strict=1" ;;
lazy)	machine=(-M q35,kernel-irqchip=split -device intel-iommu,intremap=on)
	cmdline+=" intel_iommu=on iommu.strict=0" ;;
pt)	machine=(-M q35,kernel-irqchip=split -device intel-iommu,intremap=on)
	cmdline+=" intel_iommu=on iommu=pt" ;;
*)	die "--iommu must be none, strict, lazy or pt" ;;
esac
cmdline+=" dmabuf_rw.iommu=$iommu dmabuf_rw.drives=${#drives[@]}$append"

accel=${ACCEL:-tcg}
cpu=()
[ "$accel" = kvm ] && cpu=(-cpu host)

mkdir -p "$top/build/vm" "$(dirname "$log")"
# Test modules built for this kernel: append them (4-byte aligned archive).
modules="$(dirname "$kernel")/../../../test-modules.cpio"
if [ -s "$modules" ]; then
	pad=$(( (4 - $(stat -c %s "$initrd") % 4) % 4 ))
	{ cat "$initrd"; head -c "$pad" /dev/zero; cat "$modules"; } > "$top/build/vm/$name.initrd"
	initrd="$top/build/vm/$name.initrd"
fi

disks=()
for i in "${!drives[@]}"; do
	spec=${drives[$i]}
	kind=${spec%%:*}
	rest=${spec#*:}
	size=${rest%%,*}
	opts=${rest#"$size"}
	case "$kind" in
	file)	img="$top/build/vm/$name-nvme$i.img"
		rm -f "$img"
		truncate -s "$size" "$img"
		disks+=(-drive "if=none,id=nvme$i,format=raw,cache=unsafe,file=$img") ;;
	null)	disks+=(-drive "if=none,id=nvme$i,driver=null-co,size=$size") ;;
	*)	die "--drive $spec: KIND must be file or null" ;;
	esac
	disks+=(-device "nvme,serial=dmabuf-rw-$i,drive=nvme$i$opts")
done

qemu=(${QEMU:-qemu-system-x86_64} -accel "$accel" "${cpu[@]}" "${machine[@]}"
	-m "$mem" -smp "$cpus" -nodefaults -display none -no-reboot
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline" "${disks[@]}")

if [ "$interactive" = 1 ]; then
	exec "${qemu[@]}" -serial mon:stdio -serial "file:$results"
fi

say "$name: $iommu IOMMU, ${#drives[@]} drive(s), $accel; console: ${log#$top/}"
rm -f "$log" "$results"
start=$(date +%s)
timeout -k 5 "$timeout" "${qemu[@]}" -monitor none \
	-serial "file:$log" -serial "file:$results" &
qpid=$!
trap 'kill $qpid 2>/dev/null' EXIT INT TERM
tail -s 0.2 -n +1 -F --pid=$qpid "$results" 2>/dev/null | tr -d '\r' &
tpid=$!
rc=0
wait $qpid || rc=$?
wait $tpid || true
trap - EXIT INT TERM
took=$(($(date +%s) - start))
case $rc in
0)	say "$name: guest powered off after $took s" ;;
124|137) rc=124
	say "$name: guest hung: killed after $took s; console: ${log#$top/}" ;;
*)	say "$name: qemu failed (exit $rc) after $took s; console: ${log#$top/}" ;;
esac
exit $rc
