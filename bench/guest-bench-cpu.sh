#!/bin/sh
# make bench-cpu, inside the guest (/bin/guest-bench-cpu.sh, run by
# guest/init with dmabuf_rw.mode=run dmabuf_rw.run=/bin/guest-bench-cpu.sh),
# booted by bench/run-bench-cpu.sh under QEMU -icount: on NVMe drive 0 (a
# null-co drive), for each repetition and each memory mode, in this order:
#   rand4k: 4 KiB random reads, QD32       dmabuf-io bench -m MODE
#   seq1m:  1 MiB sequential reads, QD8    dmabuf-io bench -m MODE
# The modes interleave within a repetition, so drift hits all alike.  What
# counts is the whole guest's busy time per I/O (dmabuf-io --cpu system,
# CSV column busy_us_per_io): soak threads keep the vCPU from ever halting,
# so under -icount that is the instructions all the I/O's work took,
# wherever it ran; dmabuf-io's own CPU time (user + system) and the
# interrupts and context switches per I/O come along.  Host memory is
# scattered (--scatter, every page a DMA segment of its own), so that the
# work per I/O does not follow how the allocator happened to hand out pages.
#
# Output: "csv:REP,TEST,<dmabuf-io CSV row>" per run and "# ..." progress
# lines; a failed run prints "error: ..." and the script goes on, a
# premapped run the kernel mapped per I/O "# warning: ...".
# Parameters: dmabuf_rw.bench_reps (3), dmabuf_rw.bench_secs (2 s per run),
# dmabuf_rw.bench_modes (plain,fixed,dmabuf,premapped: any dmabuf-io -m
# mode), dmabuf_rw.bench_tests (rand4k,seq1m).
. "$(dirname "$0")/guest-bench-lib.sh"
reps=$(param dmabuf_rw.bench_reps 3)
secs=$(param dmabuf_rw.bench_secs 2)
modes=$(param dmabuf_rw.bench_modes plain,fixed,dmabuf,premapped | tr , ' ')
tests=$(param dmabuf_rw.bench_tests rand4k,seq1m | tr , ' ')
bench_drive
q=/sys/block/${dev#/dev/}/queue
echo "# bench-cpu on $dev: $reps x $secs s per run, modes $modes, tests $tests; queue limits: max_sectors_kb $(cat $q/max_sectors_kb), max_segments $(cat $q/max_segments), max_segment_size $(cat $q/max_segment_size)"

show_row() {	# REP TEST ROW: the progress line of run_tool
	echo "$3" | awk -F, -v t="$2" -v r="$1" \
		'{ printf "# rep %s %-7s %-9s busy %8.2f us/IO, process %8.2f (user %.2f, system %.2f); per I/O %.2f irqs, %.2f switches\n", r, t, $1, $25, $14, $15, $16, $26, $27 }'
}

# One unrecorded short run first: page cache, slab and the drive's queues
# warm up, the first recorded run is not the odd one out.
dmabuf-io bench -t 1 -m fixed -b 4k -q 32 -p random "$dev" >/dev/null 2>&1
rep=1
while [ "$rep" -le "$reps" ]; do
	for t in $tests; do
		for m in $modes; do
			case "$t" in
			rand4k)	run_tool "$rep" "$t" --cpu system --scatter -m "$m" -b 4k -q 32 -p random ;;
			seq1m)	run_tool "$rep" "$t" --cpu system --scatter -m "$m" -b 1m -q 8 -p sequential ;;
			*)	echo "error: unknown test $t" ;;
			esac
		done
	done
	rep=$((rep + 1))
done
echo "# bench-cpu done"
