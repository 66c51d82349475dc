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
# With file system drives (dmabuf_rw.fs=ext4:1,xfs:2, images made on the
# host by tests/fs/images.sh): a 128 MiB file on each (written by the
# first boot of the run, kept by the others), and after each test's runs
# the same test on the files, with the same arguments (guest-bench-lib.sh
# file_runs, as make bench does them): tests ext4-rand4k, xfs-rand4k,
# ext4-seq1m, xfs-seq1m, each as file-dmabuf (-m dmabuf on the file),
# file-fixed (-m fixed on the file) and raw-dmabuf (-m dmabuf on the file
# system's drive, an area of the file's size).
#
# Output: "csv:REP,TEST,<dmabuf-io CSV row>" per run and "# ..." progress
# lines; a failed run prints "error: ..." and the script goes on, a
# premapped run the kernel mapped per I/O "# warning: ...".
# Parameters: dmabuf_rw.bench_reps (3), dmabuf_rw.bench_secs (2 s per run),
# dmabuf_rw.bench_modes (plain,fixed,dmabuf,premapped: any dmabuf-io -m
# mode), dmabuf_rw.bench_tests (rand4k,seq1m), dmabuf_rw.fs.
. "$(dirname "$0")/guest-bench-lib.sh"
reps=$(param dmabuf_rw.bench_reps 3)
secs=$(param dmabuf_rw.bench_secs 2)
modes=$(param dmabuf_rw.bench_modes plain,fixed,dmabuf,premapped | tr , ' ')
tests=$(param dmabuf_rw.bench_tests rand4k,seq1m | tr , ' ')
bench_drive
bench_files
q=/sys/block/${dev#/dev/}/queue
echo "# bench-cpu on $dev: $reps x $secs s per run, modes $modes, tests $tests; queue limits: max_sectors_kb $(cat $q/max_sectors_kb), max_segments $(cat $q/max_segments), max_segment_size $(cat $q/max_segment_size)"

show_row() {	# REP TEST ROW: the progress line of run_tool
	echo "$3" | awk -F, -v t="$2" -v r="$1" \
		'{ printf "# rep %s %-7s %-9s busy %8.2f us/IO, process %8.2f (user %.2f, system %.2f); per I/O %.2f irqs, %.2f switches\n", r, t, $1, $25, $14, $15, $16, $26, $27 }'
}

# One unrecorded short run first: page cache, slab and the drive's queues
# warm up, the first recorded run is not the odd one out; on drive 0 and
# on each file ($files: TYPE:FILE:DEVICE).
for x in "$dev" $files; do
	x=${x#*:}
	dmabuf-io bench -t 1 -m fixed -b 4k -q 32 -p random "${x%%:*}" >/dev/null 2>&1
done
rep=1
while [ "$rep" -le "$reps" ]; do
	for t in $tests; do
		a=$(test_args "$t") || { echo "error: unknown test $t"; continue; }
		for m in $modes; do
			# shellcheck disable=SC2086 # a: the test's arguments, split
			run_tool "$rep" "$t" --cpu system --scatter -m "$m" $a
		done
		file_runs "$rep" "$t" --cpu system --scatter
	done
	rep=$((rep + 1))
done
# unmounted, so that the host's fsck finds the images clean
bench_files_umount
echo "# bench-cpu done"
