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
#                    or image:PATH[,NVME-OPTS]: the raw image PATH (no
#                    comma in it) used as it is and written in place, e.g.
#                    a file system made on the host (tests/fs/images.sh);
#                    NVME-OPTS go to -device nvme (e.g. mdts=3).
#                    Drive n gets serial dmabuf-rw-n.
#                    Default: --drive file:64M --drive file:64M,mdts=3
#   --p2p SIZE       the device-memory bed (tests/p2p): every drive goes behind
#                    one PCIe switch (root port 00:10.0, x3130 upstream port,
#                    an xio3130 downstream port per device) with an
#                    ivshmem-plain device, "sw", whose BAR 2 of SIZE (a power
#                    of two) stands in for GPU memory; a second one, "rp", has
#                    a root port of its own (00:11.0), so NVMe reaches it
#                    through the host bridge.  Their memory is the file
#                    build/vm/NAME-bar-{sw,rp}.img (new for every boot).  The
#                    host's bar agent (build/guest/host/bar-agent, log
#                    build/logs/NAME-agent.log) checks and writes those files
#                    and the drive images on the guest's request, through the
#                    mailbox in a third ivshmem device (00:12.0).
#                    Adds dmabuf_rw.p2p=SIZE to the kernel command line.
#   --cpu MODEL      QEMU CPU model (qemu64; with ACCEL=kvm: host); e.g. EPYC,
#                    an AMD Zen, whose root complex the kernel trusts with
#                    peer-to-peer DMA through the host bridge
#   --append ARGS    more kernel parameters (e.g. dmabuf_rw.tests=smoke/*)
#   --timeout SECS   kill the guest after SECS and report it hung   (600)
#   --name NAME      names the log and the images                 (MODE)
#   --log FILE       console log                  (build/logs/NAME.log)
#   --mem MB (1024)  --cpus N (2)
#   --icount SHIFT[,OPT...]
#                    deterministic guest time (make bench-cpu): QEMU's
#                    -icount shift=SHIFT,align=off,sleep=off (OPTs such as
#                    align=on replace those defaults), so the guest's clock
#                    advances 2^SHIFT ns per instruction executed and its CPU
#                    time per operation is an instruction count, not host
#                    time.  icount needs single-threaded TCG (one host thread
#                    runs all vCPUs in turn): -accel tcg,thread=single;
#                    --cpus keeps its meaning.  Not with ACCEL=kvm.
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
interactive=0 p2p="" cpu_model="" icount=""
agent="$top/build/guest/host/bar-agent"
while [ $# -gt 0 ]; do
	case "$1" in
	--iommu)	iommu=$2; shift ;;
	--drive)	drives+=("$2"); shift ;;
	--p2p)		p2p=$2; shift ;;
	--cpu)		cpu_model=$2; shift ;;
	--append)	append="$append $2"; shift ;;
	--timeout)	timeout=$2; shift ;;
	--name)		name=$2; shift ;;
	--log)		log=$2; shift ;;
	--mem)		mem=$2; shift ;;
	--cpus)		cpus=$2; shift ;;
	--icount)	icount=$2; shift ;;
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
[ -z "$p2p" ] || [ -x "$agent" ] || die "no bar agent at $agent (make guest)"

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
cmdline+=" dmabuf_rw.iommu=$iommu dmabuf_rw.drives=${#drives[@]}${p2p:+ dmabuf_rw.p2p=$p2p}$append"

accel=${ACCEL:-tcg}
accel_opt=$accel icount_opt=() iopts=""
if [ -n "$icount" ]; then
	[[ "$icount" =~ ^[0-9]+(,(align|sleep)=(on|off))*$ ]] ||
		die "--icount SHIFT[,align=on|off][,sleep=on|off]: e.g. 3"
	[ "$accel" = tcg ] || die "--icount needs ACCEL=tcg, not $accel"
	# MTTCG (one host thread per vCPU, QEMU's default) refuses icount
	accel_opt=tcg,thread=single
	iopts="shift=$icount"
	[[ "$icount" == *align=* ]] || iopts+=",align=off"
	[[ "$icount" == *sleep=* ]] || iopts+=",sleep=off"
	icount_opt=(-icount "$iopts")
fi
cpu=()
[ "$accel" = kvm ] && cpu=(-cpu host)
[ -z "$cpu_model" ] || cpu=(-cpu "$cpu_model")

mkdir -p "$top/build/vm" "$(dirname "$log")"
# One guest at a time: two TCG guests on a small machine only slow each
# other into timeouts.  Waiting here does not count against --timeout.
exec 8>"$top/build/vm.lock"
if ! flock -n 8; then
	say "another guest of this checkout holds build/vm.lock; waiting for it to end"
	flock 8
	say "got build/vm.lock, booting"
fi
# Test modules built for this kernel: append them (4-byte aligned archive).
modules="$(dirname "$kernel")/../../../test-modules.cpio"
if [ -s "$modules" ]; then
	pad=$(( (4 - $(stat -c %s "$initrd") % 4) % 4 ))
	{ cat "$initrd"; head -c "$pad" /dev/zero; cat "$modules"; } > "$top/build/vm/$name.initrd"
	initrd="$top/build/vm/$name.initrd"
fi

# --p2p: the switch (its downstream ports take the drives and BAR "sw"),
# BAR "rp" on a root port of its own, the agent's mailbox on the root bus.
disks=() agent_args=()
nvme_bus=""
if [ -n "$p2p" ]; then
	disks+=(-device pcie-root-port,id=p2p-rp0,bus=pcie.0,addr=0x10,chassis=1,slot=1
		-device x3130-upstream,id=p2p-up,bus=p2p-rp0
		-device pcie-root-port,id=p2p-rp1,bus=pcie.0,addr=0x11,chassis=1,slot=2)
	for bar in sw rp ctl; do
		img="$top/build/vm/$name-bar-$bar.img"
		size=$p2p
		[ "$bar" != ctl ] || size=1M
		rm -f "$img"
		truncate -s "$size" "$img"
		disks+=(-object "memory-backend-file,id=bar-$bar,share=on,mem-path=$img,size=$size")
		[ "$bar" = ctl ] || agent_args+=("$bar=$img")
	done
	disks+=(-device xio3130-downstream,id=p2p-dn-sw,bus=p2p-up,chassis=2,slot=0
		-device ivshmem-plain,memdev=bar-sw,bus=p2p-dn-sw
		-device ivshmem-plain,memdev=bar-rp,bus=p2p-rp1
		-device ivshmem-plain,memdev=bar-ctl,bus=pcie.0,addr=0x12)
fi
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
		agent_args+=("nvme$i=$img")
		disks+=(-drive "if=none,id=nvme$i,format=raw,cache=unsafe,file=$img") ;;
	null)	disks+=(-drive "if=none,id=nvme$i,driver=null-co,size=$size") ;;
	image)	img=$(realpath -m "$size")	# image:PATH: "size" holds the path
		[ -f "$img" ] || die "--drive $spec: no image $img"
		agent_args+=("nvme$i=$img")
		disks+=(-drive "if=none,id=nvme$i,format=raw,cache=unsafe,file=$img") ;;
	*)	die "--drive $spec: KIND must be file, null or image" ;;
	esac
	if [ -n "$p2p" ]; then
		disks+=(-device "xio3130-downstream,id=p2p-dn$i,bus=p2p-up,chassis=2,slot=$((i + 1))")
		nvme_bus=",bus=p2p-dn$i"
	fi
	disks+=(-device "nvme,serial=dmabuf-rw-$i,drive=nvme$i$nvme_bus$opts")
done

qemu=(${QEMU:-qemu-system-x86_64} -accel "$accel_opt" "${icount_opt[@]}" "${cpu[@]}" "${machine[@]}"
	-m "$mem" -smp "$cpus" -nodefaults -display none -no-reboot
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline" "${disks[@]}")

apid=""
if [ -n "$p2p" ]; then
	"$agent" "$top/build/vm/$name-bar-ctl.img" "${agent_args[@]}" \
		> "${log%.log}-agent.log" 2>&1 &
	apid=$!
	trap 'kill $apid 2>/dev/null' EXIT
fi

if [ "$interactive" = 1 ]; then
	[ -n "$apid" ] || exec "${qemu[@]}" -serial mon:stdio -serial "file:$results"
	"${qemu[@]}" -serial mon:stdio -serial "file:$results"
	exit
fi

say "$name: $iommu IOMMU, ${#drives[@]} drive(s)${p2p:+, $p2p device-memory BARs}, $accel${icount:+ -icount $iopts}${cpu_model:+ ($cpu_model)}; console: ${log#$top/}"
rm -f "$log" "$results"
start=$(date +%s)
timeout -k 5 "$timeout" "${qemu[@]}" -monitor none \
	-serial "file:$log" -serial "file:$results" &
qpid=$!
trap 'kill $qpid $apid 2>/dev/null' EXIT INT TERM
tail -s 0.2 -n +1 -F --pid=$qpid "$results" 2>/dev/null | tr -d '\r' &
tpid=$!
rc=0
wait $qpid || rc=$?
wait $tpid || true
[ -z "$apid" ] || { kill "$apid" 2>/dev/null; wait "$apid" || true; }
trap - EXIT INT TERM
took=$(($(date +%s) - start))
case $rc in
0)	say "$name: guest powered off after $took s" ;;
124|137) rc=124
	say "$name: guest hung: killed after $took s; console: ${log#$top/}" ;;
*)	say "$name: qemu failed (exit $rc) after $took s; console: ${log#$top/}" ;;
esac
exit $rc
