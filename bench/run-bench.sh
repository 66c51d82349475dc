#!/bin/bash
# make bench: boot the guest once per IOMMU mode with one null-co NVMe drive
# and run bench/guest-bench.sh there (dmabuf-io: 4 KiB random reads QD32
# plain / fixed / dmabuf / premapped, 1 MiB sequential reads QD8 dmabuf /
# bounce; fio's io_uring engine versus the dmabuf engine, with a dma-buf and
# premapped), and 1 MiB sequential reads into
# device memory, a PCI BAR exported by vfio-pci, dmabuf / bounce (the bed of
# tests/p2p, vm/run-vm.sh --p2p), several short repetitions each; and
# files: an ext4 and an xfs image made on the host the way the tests/fs bed
# makes them (tests/fs/images.sh: sparse files, host mkfs), attached as
# drives 2 and 3 for every boot of the run, a 128 MiB file on each (written
# by the first boot), 4 KiB random and 1 MiB sequential reads from the file
# into a dma-buf and into fixed host memory, and into a dma-buf from the
# file system's drive itself (the raw block device); fsck'd after the last
# boot.  Then bench/table.c takes medians and spreads and prints the tables;
# gnuplot draws the chart.  The guests run one after the other.
#
# Output in build/bench/: raw.csv (every run), summary.csv (medians),
# table.md (what is printed), bench.png, and per mode the guest's output
# (MODE.out) and console log (MODE.log).
#
# Environment:
#   MODES="none strict lazy pt"   IOMMU modes, one boot each
#   REPS=5                        repetitions of every run
#   SECS=2                        seconds per run
#   FIO=1                         also run fio (the image with fio)
#   FILES=1                       also the file rows (ext4 and xfs)
#   FILE_REPS=3                   ... in the first FILE_REPS repetitions
#                                 (12 runs each: ~40 s per repetition and
#                                 mode at SECS=2)
#   ONLY=files                    the file rows alone (FILE_REPS repetitions,
#                                 no fio): ~3 min per mode
#   DRIVE=null:8G                 the measured drive (vm/run-vm.sh --drive);
#                                 a second, file-backed one holds the data
#                                 of the fio engine's check
#   BENCH_CPU=EPYC                QEMU CPU model.  An AMD Zen: the kernel lets
#                                 NVMe reach device memory through the host
#                                 bridge only there, and in strict and lazy
#                                 mode that is the one route QEMU delivers
#                                 (tests/p2p/p2p-test.h), so every mode gets
#                                 a device-memory row
#   TABLE_ONLY=1                  no boots: tabulate build/bench/raw.csv again
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
modes=${MODES:-none strict lazy pt}
reps=${REPS:-5}
secs=${SECS:-2}
usefio=${FIO:-1}
usefiles=${FILES:-1}
file_reps=${FILE_REPS:-3}
only=${ONLY:-}
case "$only" in
"") ;;
files)	usefio=0 usefiles=1 reps=$file_reps ;;
*)	say "ONLY=$only: only ONLY=files is known"; exit 2 ;;
esac
drive=${DRIVE:-null:8G}
cpu=${BENCH_CPU:-EPYC}
out=build/bench
say() { printf 'bench: %s\n' "$*" >&2; }

mkdir -p "$out"
start=$(date +%s)
${CC:-cc} -O2 -Wall -Wextra -o "$out/bench-table" bench/table.c -lm || exit 1

fio_opt=()
if [ "$usefio" = 1 ]; then
	if [ -f build/guest/initramfs-fio.cpio.gz ] && [ -f build/fio/dmabuf-engine.so ]; then
		fio_opt=(--fio)
	else
		say "no fio image or engine (make fio-engine guest): fio runs skipped"
		usefio=0
	fi
fi

raw="$out/raw.csv"
failed=0
# The file systems, once for all boots of this run (the first writes the
# files, the others read them); a failure leaves the file rows out.
fs_opt=()
if [ "${TABLE_ONLY:-0}" != 1 ] && [ "$usefiles" = 1 ] && [ "$file_reps" -gt 0 ]; then
	if tests/fs/images.sh make "$out/fs" 2> "$out/fs-images.err"; then
		fs_opt=(--drive "image:$out/fs-ext4.img" --drive "image:$out/fs-xfs.img"
			--append "dmabuf_rw.fs=ext4:2,xfs:3 dmabuf_rw.bench_file_reps=$file_reps${only:+ dmabuf_rw.bench_only=$only}")
	else
		say "no file system images (tests/fs/images.sh make: $(tail -n 1 "$out/fs-images.err")): file runs skipped"
		failed=1
	fi
fi
[ ${#fs_opt[@]} -gt 0 ] || file_reps=0
if [ "${TABLE_ONLY:-0}" != 1 ]; then
	# the tool's CSV header, behind the boot mode, repetition and test
	printf 'boot,rep,test,%s\n' "mode,dmabuf,rw,pattern,bs,qd,jobs,device,iommu,ios,seconds,iops,mbps,cpu_us_per_io,usr_us_per_io,sys_us_per_io,eagain,lat_min_us,lat_mean_us,lat_p50_us,lat_p99_us,lat_p999_us,lat_max_us,premapped" > "$raw.tmp"
	for m in $modes; do
		# one guest at a time: vm/run-vm.sh takes this checkout's guest lock
		# (and says when it waits); unrelated VMs on the host do not count
		# boot + (8 + fio) runs per repetition, with room to spare
		tmo=$(( 120 + reps * (10 * (secs + 3) * (${#only} == 0) + 3 * usefio * (secs + 10)) +
			(file_reps > 0) * (120 + file_reps * 12 * (secs + 3)) ))
		if [ "$only" = files ]; then
			say "$m: $file_reps x 12 file runs of $secs s"
		else
			say "$m: $reps x (8 dmabuf-io runs$([ "$usefio" = 1 ] && echo " + 3 fio runs")) of $secs s$([ "$file_reps" -gt 0 ] && echo ", $file_reps x 12 file runs")"
		fi
		# the guest's output lands in $out/$m.out (run-vm.sh: the log's twin);
		# show its progress lines as they come.  A guest that froze or died
		# before /init said anything (under TCG on a loaded host, -cpu EPYC:
		# see tests/run-check.sh) measured nothing and is booted once more.
		for try in 1 2; do
			rm -f "$out/$m.out"
			vm/run-vm.sh --iommu "$m" --name "bench-$m" --log "$out/$m.log" \
				--drive "$drive" --drive file:64M,mdts=3 --p2p 64M --cpu "$cpu" \
				"${fio_opt[@]}" "${fs_opt[@]}" --timeout "$tmo" \
				--append "dmabuf_rw.mode=run dmabuf_rw.run=/bin/guest-bench.sh dmabuf_rw.bench_reps=$reps dmabuf_rw.bench_secs=$secs dmabuf_rw.bench_fio=$usefio" \
				>/dev/null &
			vm=$!
			tail -s 0.5 -n +1 -F --pid=$vm "$out/$m.out" 2>/dev/null | sed -u 's/\r$//' |
				grep --line-buffered -E '^# rep|^# warning|^error|^# no fio|^# fio engine|^# device memory|^# file' | sed -u "s/^/  [$m] /" &
			rc=0
			wait $vm || rc=$?
			wait
			grep -q '^# dmabuf-rw guest:' "$out/$m.out" 2>/dev/null || [ "$try" = 2 ] || {
				cp "$out/$m.log" "$out/$m-died.log"
				say "$m: the guest froze or died before /init (exit $rc; console: $out/$m-died.log); booting again"
				continue
			}
			break
		done
		touch "$out/$m.out"
		n=$(grep -c '^csv:' "$out/$m.out")
		if ! grep -q '^# bench done' "$out/$m.out"; then
			say "$m: the guest stopped before the end (exit $rc); see $out/$m.log"
			failed=1
		elif [ "$rc" != 0 ] || grep -q '^error' "$out/$m.out"; then
			say "$m: guest exit $rc, $(grep -c '^error' "$out/$m.out") failed run(s); see $out/$m.out, $out/$m.log"
			failed=1
		fi
		sed -n "s/^csv:/$m,/p" "$out/$m.out" >> "$raw.tmp"
		say "$m: $n runs"
	done
	mv "$raw.tmp" "$raw"
fi
# what the guests wrote, judged by the host's fsck; clean images go
for img in ${fs_opt[@]+"$out/fs-ext4.img" "$out/fs-xfs.img"}; do
	if tests/fs/images.sh fsck "$img" > "$img.fsck" 2>&1; then
		rm -f "$img" "$img.fsck"
	else
		say "$img is not clean after the boots (fsck: $img.fsck): kept"
		failed=1
	fi
done

{
	echo "make bench: $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(sed -n 's/^# dmabuf-rw guest: \([^,]*\),.*/\1/p' "$out"/*.out | head -n1), QEMU TCG, 2 vCPUs ($cpu), drive $drive"
	if [ "${TABLE_ONLY:-0}" = 1 ]; then
		echo "tabulated again from $raw"
	else
		echo "$reps runs of $secs s per cell; modes: $modes"
	fi
	echo
	"$out/bench-table" "$raw" "$out"
	# which BAR each boot measured: the route matters more than the mode
	for m in $modes; do
		[ -f "$out/$m.out" ] || continue
		sed -n "s/^# device memory: \(.*\)/device memory [$m]: \1/p" "$out/$m.out"
	done | sed '1s/^/\n/'
} > "$out/table.md" || failed=1
cat "$out/table.md"
if command -v gnuplot >/dev/null && [ -z "$only" ] && [ -s "$out/rand4k.dat" ]; then
	gnuplot -e "dir='$out'" bench/chart.gp && say "chart: $out/bench.png"
fi
say "raw runs: $raw; medians: $out/summary.csv; took $(($(date +%s) - start)) s"
exit $failed
