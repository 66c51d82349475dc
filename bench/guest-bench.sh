#!/bin/sh
# make bench, inside the guest (/bin/guest-bench.sh, run by guest/init with
# dmabuf_rw.mode=run dmabuf_rw.run=/bin/guest-bench.sh): on NVMe drive 0
# (a null-co drive), for each repetition, in this order:
#   4 KiB random reads, QD32:      dmabuf-io bench -m plain, fixed, dmabuf,
#                                  premapped
#   1 MiB sequential reads, QD8:   dmabuf-io bench -m dmabuf, bounce
#   the same into device memory:   dmabuf-io bench -m dmabuf, bounce with
#                                  -d vfio:BDF (test dev1m), on the bed
#                                  with device-memory BARs (run-vm.sh --p2p)
#   fio, 4 KiB random reads QD32:  io_uring (fixedbufs) and dmabuf engines,
#                                  the latter also with premapped, when fio
#                                  and the engine are in the image
#   files, in the first dmabuf_rw.bench_file_reps repetitions, when the
#   boot has file system drives (dmabuf_rw.fs=ext4:2,xfs:3, images made
#   on the host by tests/fs/images.sh): a 128 MiB file on each, written
#   once (a boot that finds it keeps it), 4 KiB random reads QD32 and
#   1 MiB sequential reads QD8 (tests ext4-rand4k, ext4-seq1m, xfs-...),
#   each as file-dmabuf (dmabuf-io -m dmabuf on the file), file-fixed
#   (-m fixed on the file) and raw-dmabuf (-m dmabuf on the file system's
#   drive itself, over an area of the file's size; reading it while it is
#   mounted changes nothing)
# Repetitions interleave the modes, so drift hits all of them alike.
#
# Before the fio runs, tests/tool/fio-engine checks the engine's data path
# (with verify) on drive 1.
# Output: "csv:REP,TEST,<dmabuf-io CSV row>" per run (fio runs use the same
# columns, those fio does not report left empty; latency is fio's clat) and
# "# ..." progress lines.  A failed run prints "error: ..." and the script
# goes on; a premapped run the kernel mapped per I/O "# warning: ..." (and
# "no" in the row's premapped column).
# Parameters: dmabuf_rw.bench_reps (5), dmabuf_rw.bench_secs (2 s per run),
# dmabuf_rw.bench_fio (1), dmabuf_rw.bench_file_reps (3), dmabuf_rw.fs,
# dmabuf_rw.bench_only=files (the file runs alone, bench_file_reps times).
. "$(dirname "$0")/guest-bench-lib.sh"
reps=$(param dmabuf_rw.bench_reps 5)
secs=$(param dmabuf_rw.bench_secs 2)
usefio=$(param dmabuf_rw.bench_fio 1)
file_reps=$(param dmabuf_rw.bench_file_reps 3)
only=$(param dmabuf_rw.bench_only "")
if [ "$only" = files ]; then
	reps=$file_reps usefio=0
fi
engine=/usr/lib/fio/dmabuf-engine.so
job=/usr/share/fio/dmabuf.fio

bench_drive
if [ "$usefio" = 1 ] && { ! command -v fio >/dev/null || [ ! -f "$engine" ]; }; then
	echo "# no fio or no $engine in this image (vm/run-vm.sh --fio, make fio-engine): fio runs skipped"
	usefio=0
fi
# the fio engine must move the right data before it is measured (on drive
# 1, a file-backed drive: the null-co drive 0 keeps no data)
if [ "$usefio" = 1 ]; then
	/tests/tool/fio-engine > /tmp/fio-check 2>&1
	case $? in
	0)	echo "# fio engine check (tests/tool/fio-engine): ok" ;;
	77)	echo "# fio engine check skipped: $(tail -n 1 /tmp/fio-check)" ;;
	*)	echo "error: fio engine check failed, fio runs skipped: $(tail -n 8 /tmp/fio-check | tr '\n' ' ')"
		usefio=0 ;;
	esac
fi
# Device memory: the ivshmem BAR (vm/run-vm.sh --p2p) the drive reaches on
# this bed, bound to vfio-pci, whose dma-buf export dmabuf-io uses.  "sw"
# sits behind the drive's PCIe switch: the kernel hands the drive the BAR's
# bus address, which QEMU delivers only when the drive's DMA is not
# translated (it sends every DMA up to the IOMMU, see tests/p2p/route.c).
# "rp" has a root port of its own: through the host bridge, which the
# kernel allows only on AMD Zen CPUs (run-bench.sh boots -cpu EPYC).
devmem=""
ivshmem() {	# PORT: the ivshmem device behind root port PORT
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ] || continue
		case "$(readlink -f "$d")" in */"$1"/*) basename "$d"; return ;; esac
	done
}
if [ -n "$(param dmabuf_rw.p2p "")" ]; then
	domain=$(cat "/sys/block/${dev#/dev/}/device/device/iommu_group/type" 2>/dev/null)
	zen=$(awk -F': ' '/^vendor_id/ { v = $2 } /^cpu family/ { print (v == "AuthenticAMD" && $2 >= 23); exit }' /proc/cpuinfo)
	case "$domain" in
	DMA|DMA-FQ) [ "$zen" = 1 ] && devmem=$(ivshmem 0000:00:11.0) ;;
	*)	devmem=$(ivshmem 0000:00:10.0) ;;
	esac
	if [ -z "$devmem" ]; then
		echo "# device memory: no route from $dev to a BAR here (IOMMU domain ${domain:-none}, host bridge not trusted): dev1m runs skipped"
	else
		[ -e "/sys/bus/pci/devices/$devmem/iommu_group" ] ||
			echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode
		echo vfio-pci > "/sys/bus/pci/devices/$devmem/driver_override"
		if ! echo "$devmem" > /sys/bus/pci/drivers/vfio-pci/bind; then
			echo "error: cannot bind $devmem to vfio-pci: dev1m runs skipped"
			devmem=""
		else
			echo "# device memory: BAR of $devmem ($(readlink -f /sys/bus/pci/devices/$devmem | grep -q /0000:00:10.0/ && echo "behind the drive's switch" || echo "through the host bridge"))"
		fi
	fi
fi
# Files: mount each file system drive and make its file, unless an earlier
# boot of this run did (guest-bench-lib.sh).
files=""
[ "$file_reps" -le 0 ] || bench_files
echo "# bench on $dev ($(cat /sys/block/${dev#/dev/}/size) sectors): $reps x $secs s per run, fio=$usefio"

show_row() {	# REP TEST ROW: the progress line of run_tool
	echo "$3" | awk -F, -v t="$2" -v r="$1" \
		'{ printf "# rep %s %-7s %-9s %8.1f KIOPS %8.1f MB/s  CPU %6.1f us/IO  p99 %8.1f us\n", r, t, $1, $12 / 1e3, $13, $14, $21 }'
}

# fio terse v3: 3 jobname, 6 read KiB, 7 read KiB/s, 8 read IOPS, 9 runtime ms,
# 24/30/32 clat p50/p99/p99.9 as "50.000000%=USEC".  The premapped column:
# what the engine logged for a premapped job (stdout: "are premapped",
# stderr: "NOT premapped"), "-" for the others.
run_fio() {	# REP SECTION
	rep=$1
	if out=$(DEV=$dev ENGINE=$engine RUNTIME=$secs fio --section="$2" \
			--output-format=terse --terse-version=3 "$job" 2>/tmp/err) &&
	   line=$(echo "$out" | grep '^3;'); then
		pm=-
		echo "$out" | grep -q 'are premapped' && pm=yes
		grep -q 'NOT premapped' /tmp/err && pm=no
		row=$(echo "$line" | awk -F';' -v dev="$dev" -v pm="$pm" '
			function v(f) { sub(/^[^=]*=/, "", f); return f }
			{ printf "fio-%s,-,read,random,4096,32,1,\"%s\",,%d,%.3f,%s,%.3f,,,,,,,%s,%s,%s,,%s",
				$3, dev, $6 / 4, $9 / 1000, $8, $7 * 1024 / 1e6, v($24), v($30), v($32), pm }')
		echo "csv:$rep,rand4k,$row"
		echo "$line" | awk -F';' -v r="$rep" \
			'{ printf "# rep %s fio     %-16s %8.1f KIOPS\n", r, $3, $8 / 1e3 }'
		[ "$pm" != no ] || echo "# warning: rep $rep fio $2: $(grep -m1 'NOT premapped' /tmp/err)"
	else
		echo "error: rep $rep fio --section=$2: $(tail -n 3 /tmp/err)"
	fi
}

rep=1
while [ "$rep" -le "$reps" ]; do
	for m in plain fixed dmabuf premapped; do
		[ "$only" != files ] || break
		run_tool "$rep" rand4k -m "$m" -b 4k -q 32 -p random
	done
	for m in dmabuf bounce; do
		[ "$only" != files ] || break
		run_tool "$rep" seq1m -m "$m" -b 1m -q 8 -p sequential
	done
	if [ -n "$devmem" ] && [ "$only" != files ]; then
		for m in dmabuf bounce; do
			run_tool "$rep" dev1m -m "$m" -d "vfio:$devmem" -b 1m -q 8 -p sequential
		done
	fi
	if [ "$rep" -le "$file_reps" ]; then
		file_runs "$rep" "rand4k seq1m"
	fi
	if [ "$usefio" = 1 ]; then
		run_fio "$rep" io_uring-fixed
		run_fio "$rep" dmabuf
		run_fio "$rep" dmabuf-premapped
	fi
	rep=$((rep + 1))
done
# unmounted, so that the host's fsck finds the images clean
bench_files_umount
echo "# bench done"
