#!/bin/bash
# make bench-cpu: guest CPU time per I/O, deterministic enough that 5% shows.
# Boots the guest once per IOMMU mode under QEMU -icount (vm/run-vm.sh
# --icount: single-threaded TCG, the guest's clock counts instructions) with
# one null-co NVMe drive, and runs bench/guest-bench-cpu.sh there: dmabuf-io
# bench for each test (rand4k: 4 KiB random reads QD32; seq1m: 1 MiB
# sequential reads QD8) and memory mode (plain, fixed, dmabuf, premapped),
# RUNS repetitions, the modes interleaved.  The number is the whole guest's
# busy time per I/O (dmabuf-io --cpu system: soak threads at idle priority
# keep the vCPU from halting and count the time everything else takes):
# under icount the instructions of all the work an I/O causes, wherever it
# runs (interrupts, softirqs, io_uring's workers, kernel threads), not
# device time.  Host memory is scattered (dmabuf-io --scatter) and QEMU runs
# at real-time priority (BENCH_PRIO), both so that chance stays out of it.
# dmabuf-io's own CPU time (user + system of its process), the figure
# before, comes along as an extra column.  IOPS mean nothing here (use make
# bench).  bench/cpu-table.c
# takes medians and spreads and prints the table with the ratios, and
# premapped's against its targets (met or not; nothing fails on them).
# FILES=1 adds files as make bench has them: an ext4 and an xfs image made
# on the host (tests/fs/images.sh, once per run, fsck'd after the last
# boot) attached to every boot of the series as drives 1 and 2, a 128 MiB
# file on each, and the same tests on them (ext4-rand4k, xfs-seq1m, ...):
# file-dmabuf, file-fixed, and raw-dmabuf from the file system's drive
# itself, for issue 13's target file-dmabuf / raw-dmabuf <= 1.10.
#
# Output in build/bench/: cpu.csv (boot,test,mode,runs and the median, min
# and max of the busy time per I/O as cpu_us_per_io_*, then the same of the
# process's own time as process_us_per_io_*), cpu-raw.csv (every run:
# busy_us_per_io, and cpu_us_per_io the process's), cpu-table.md (what is
# printed), and per boot the guest's output and console log
# (cpu-MODE.out, cpu-MODE.log).
#
# Environment:
#   MODES="none strict lazy pt"    IOMMU modes, one boot each
#   RUNS=3                         repetitions of every run
#   SECS=2                         guest seconds per run
#   CPU_MEM_MODES="plain fixed dmabuf premapped"
#                                  dmabuf-io -m modes (any it knows)
#   CPU_TESTS="rand4k seq1m"       tests
#   ICOUNT=3                       vm/run-vm.sh --icount: the shift (2^ICOUNT
#                                  ns per instruction), optionally with
#                                  QEMU's suboptions (3,sleep=on)
#   CPUS=1                         vCPUs.  One: single-threaded TCG runs the
#                                  vCPUs in turn against one virtual clock,
#                                  so with two a thread's CPU time also counts
#                                  the instructions the other vCPU ran while
#                                  both were busy (rand4k spread 3-12% with
#                                  two, under 1% with one)
#   DRIVE=null:8G                  the measured drive (vm/run-vm.sh --drive)
#   BENCH_PRIO=rt                  QEMU's host priority: rt (SCHED_FIFO 1,
#                                  root only), nice:N, none.  The guest's
#                                  instruction counts do not depend on the
#                                  host, but how many completions one
#                                  interrupt carries does: when the host
#                                  stops the vCPU thread (for a kernel
#                                  build sharing the machine), the guest's
#                                  clock stops and completions pile up
#   UNPATCHED=1                    after each mode's boot, one more of the
#                                  same kernel without the series (make
#                                  kernel-unpatched builds it; the base
#                                  source, the same configuration) running
#                                  plain and fixed only, as boot
#                                  MODE-unpatched: issue 11's "no more CPU
#                                  per I/O than without the series" target
#   FILES=1                        also the file tests (default 0); not in
#                                  the -unpatched boots, whose kernel
#                                  cannot read files into a dma-buf
#   TABLE_ONLY=1                   no boots: tabulate cpu-raw.csv again
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
modes=${MODES:-none strict lazy pt}
runs=${RUNS:-3}
secs=${SECS:-2}
mem_modes=$(echo "${CPU_MEM_MODES:-plain fixed dmabuf premapped}" | tr ', ' '\n\n' | grep . | paste -sd,)
cpu_tests=$(echo "${CPU_TESTS:-rand4k seq1m}" | tr ', ' '\n\n' | grep . | paste -sd,)
shift_=${ICOUNT:-3}
cpus=${CPUS:-1}
drive=${DRIVE:-null:8G}
out=build/bench
say() { printf 'bench-cpu: %s\n' "$*" >&2; }
prio_=${BENCH_PRIO:-rt}
case "$prio_" in
rt)	prio=(chrt -f 1)
	chrt -f 1 true 2>/dev/null || { say "BENCH_PRIO=rt needs root: at nice 0"; prio=(); prio_=none; } ;;
nice:*)	prio=(nice -n "${prio_#nice:}") ;;
none)	prio=() ;;
*)	say "BENCH_PRIO: rt, nice:N or none"; exit 2 ;;
esac

# BENCH_PRIO=rt: QEMU's main thread, whose main loop completes the drive's
# I/O, one real-time level above its other threads.  All at the same
# SCHED_FIFO level, the vCPU thread, which never sleeps (the guest's soak
# threads keep it busy), kept the main thread from running for many
# seconds once it woke on the same CPU: the guest's commands timed out.
# The threads exist once the guest boots; later ones inherit the main
# thread's level.  $1: the QEMU's console log, which names it.
rt_io_thread() {
	local p t
	while sleep 0.5; do
		for p in $(pgrep -x qemu-system-x86); do
			tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$1" || continue
			sleep 2
			for t in $(ls "/proc/$p/task" 2>/dev/null); do
				if [ "$t" = "$p" ]; then
					chrt -f -p 2 "$t"
				else
					chrt -f -p 1 "$t"
				fi
			done >/dev/null
			return
		done
	done
}

mkdir -p "$out"
start=$(date +%s)
${CC:-cc} -O2 -Wall -Wextra -o "$out/bench-cpu-table" bench/cpu-table.c -lm || exit 1

raw="$out/cpu-raw.csv"
failed=0
times=""
# The file systems, once for all boots of this run (the first writes the
# files, the others read them); a failure leaves the file tests out.
# vm/run-vm.sh numbers the drives in order: the measured one is 0.
fs_imgs=() fs_opt=() nfs=0
if [ "${TABLE_ONLY:-0}" != 1 ] && [ "${FILES:-0}" = 1 ]; then
	if tests/fs/images.sh make "$out/cpu-fs" 2> "$out/cpu-fs-images.err"; then
		fs_imgs=("$out/cpu-fs-ext4.img" "$out/cpu-fs-xfs.img") nfs=2
		fs_opt=(--drive "image:${fs_imgs[0]}" --drive "image:${fs_imgs[1]}"
			--append "dmabuf_rw.fs=ext4:1,xfs:2")
	else
		say "no file system images (tests/fs/images.sh make: $(tail -n 1 "$out/cpu-fs-images.err")): file tests skipped"
		failed=1
	fi
fi
if [ "${TABLE_ONLY:-0}" != 1 ]; then
	printf 'boot,rep,test,%s\n' "mode,dmabuf,rw,pattern,bs,qd,jobs,device,iommu,ios,seconds,iops,mbps,cpu_us_per_io,usr_us_per_io,sys_us_per_io,eagain,lat_min_us,lat_mean_us,lat_p50_us,lat_p99_us,lat_p999_us,lat_max_us,premapped,busy_us_per_io,irqs_per_io,ctxsw_per_io" > "$raw.tmp"
	boot_modes=""
	for m in $modes; do
		boot_modes="$boot_modes $m"
		[ "${UNPATCHED:-0}" != 1 ] || boot_modes="$boot_modes $m-unpatched"
	done
	for b in $boot_modes; do
		m=${b%-unpatched} kconf=${CONFIG:-} bmodes=$mem_modes bfs=("${fs_opt[@]}") bnfs=$nfs
		if [ "$b" != "$m" ]; then
			# the kernel without the series knows only the ordinary modes
			kconf=unpatched bfs=() bnfs=0
			bmodes=$(echo "$mem_modes" | tr , '\n' | grep -xE 'plain|fixed' | paste -sd,)
			[ -n "$bmodes" ] || continue
		fi
		# per repetition and test: the modes, and 3 runs per file system
		nb=$(( runs * ($(echo "$bmodes" | tr , '\n' | wc -l) + 3 * bnfs) * $(echo "$cpu_tests" | tr , '\n' | wc -l) ))
		# a run takes about 1-2 s of host time per guest second on an idle
		# host; leave room for a loaded one (waiting for build/vm.lock
		# does not count), and for writing the files
		tmo=$(( 300 + (bnfs > 0) * 300 + nb * (secs + 2) * 6 ))
		say "$b: $nb runs of $secs s ($runs x tests $cpu_tests x modes $bmodes$([ "$bnfs" = 0 ] || echo " + file-dmabuf,file-fixed,raw-dmabuf on ext4 and xfs")), icount $shift_, $cpus vCPU(s)"
		rm -f "$out/cpu-$b.out"
		t0=$(date +%s)
		watcher=""
		if [ "$prio_" = rt ]; then
			rt_io_thread "cpu-$b.log" &
			watcher=$!
		fi
		CONFIG=$kconf "${prio[@]}" vm/run-vm.sh --iommu "$m" --name "bench-cpu-$b" --log "$out/cpu-$b.log" \
			--drive "$drive" ${bfs[@]+"${bfs[@]}"} --icount "$shift_" --cpus "$cpus" --timeout "$tmo" \
			--append "dmabuf_rw.mode=run dmabuf_rw.run=/bin/guest-bench-cpu.sh dmabuf_rw.bench_reps=$runs dmabuf_rw.bench_secs=$secs dmabuf_rw.bench_modes=$bmodes dmabuf_rw.bench_tests=$cpu_tests" \
			2> >(tee "$out/cpu-$b.vm" | grep --line-buffered -E 'waiting|got build|hung|failed|no kernel' >&2) |
			sed -u 's/\r$//' | grep --line-buffered -E '^# rep|^# warning|^# file|^error' | sed -u "s/^/  [$b] /"
		rc=${PIPESTATUS[0]}
		[ -z "$watcher" ] || { kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null; }
		# the tee of run-vm's messages may lag a moment behind its exit
		for i in 1 2 3 4 5 6 7 8 9 10; do
			grep -q ' after [0-9]* s' "$out/cpu-$b.vm" 2>/dev/null && break
			sleep 0.2
		done
		# wall time of the boot without the wait for build/vm.lock (run-vm
		# says "after N s"), else all of it
		took=$(sed -n 's/.* after \([0-9]*\) s.*/\1/p' "$out/cpu-$b.vm" 2>/dev/null | tail -n1)
		[ -n "$took" ] || took=$(($(date +%s) - t0))
		n=$(grep -c '^csv:' "$out/cpu-$b.out" 2>/dev/null)
		if [ "$rc" != 0 ] || grep -q '^error' "$out/cpu-$b.out" || [ "$n" != "$nb" ]; then
			say "$b: guest exit $rc, $n of $nb runs, $(grep -c '^error' "$out/cpu-$b.out" 2>/dev/null) failed; see $out/cpu-$b.out, $out/cpu-$b.log"
			failed=1
		fi
		sed -n "s/^csv:/$b,/p" "$out/cpu-$b.out" >> "$raw.tmp"
		say "$b: $n runs in $took s"
		times="$times $b ${took}s"
	done
	mv "$raw.tmp" "$raw"
fi
# what the guests wrote, judged by the host's fsck; clean images go
fsck_said=""
for img in ${fs_imgs[@]+"${fs_imgs[@]}"}; do
	if tests/fs/images.sh fsck "$img" > "$img.fsck" 2>&1; then
		say "$img: clean after the boots (fsck)"
		fsck_said="$fsck_said ${img##*-} clean"
		rm -f "$img" "$img.fsck"
	else
		say "$img is not clean after the boots (fsck: $img.fsck): kept"
		fsck_said="$fsck_said ${img##*-} NOT CLEAN (kept, $img.fsck)"
		failed=1
	fi
done

{
	# the kernel each boot ran ("7.3.4+ #5"): a rebuild between boots shows
	kernels=$(for m in $modes; do
		sed -n 's/.*Linux version \([^ ]*\) .* \(#[0-9]*\) .*/\1 \2/p' "$out/cpu-$m.log" 2>/dev/null | head -n1
	done | sort -u)
	unpatched=$([ "${UNPATCHED:-0}" != 1 ] || for m in $modes; do
		sed -n 's/.*Linux version \([^ ]*\) .* \(#[0-9]*\) .*/\1 \2/p' "$out/cpu-$m-unpatched.log" 2>/dev/null | head -n1
	done | sort -u)
	echo "make bench-cpu: $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(echo "$kernels" | paste -sd/ | sed 's|/| / |g')${unpatched:+ (without the series: $(echo "$unpatched" | paste -sd/ | sed 's|/| / |g'))}, QEMU TCG -icount $(for m in $modes; do sed -n 's/.*tcg -icount \([^;]*\);.*/\1/p' "$out/cpu-$m.vm" 2>/dev/null; done | head -n1), $cpus vCPU(s), drive $drive, QEMU's host priority ${prio[*]:-none}"
	if [ "${TABLE_ONLY:-0}" = 1 ]; then
		echo "tabulated again from $raw"
	else
		echo "$runs runs of $secs s per cell; boots (wall time):$times"
		[ -z "$fsck_said" ] || echo "file system images after the last boot (host fsck):$(echo "$fsck_said" | sed 's/\.img / /g; s/ \([^ ]*\) \(clean\|NOT\)/, \1 \2/g; s/^,//')"
	fi
	[ "$(echo "$kernels" | wc -l)" -le 1 ] && [ "$(echo "$unpatched" | wc -l)" -le 1 ] ||
		echo "WARNING: the boots ran different kernels (rebuilt meanwhile): the table compares them"
	echo
	"$out/bench-cpu-table" "$raw" "$out/cpu.csv" busy_us_per_io
} > "$out/cpu-table.md" || failed=1
cat "$out/cpu-table.md"
say "runs: $raw; medians: $out/cpu.csv; took $(($(date +%s) - start)) s"
exit $failed
