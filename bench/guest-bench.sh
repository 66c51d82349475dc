#!/bin/sh
# make bench, inside the guest (/bin/guest-bench.sh, run by guest/init with
# dmabuf_rw.mode=run dmabuf_rw.run=/bin/guest-bench.sh): on NVMe drive 0
# (a null-co drive), for each repetition, in this order:
#   4 KiB random reads, QD32:      dmabuf-io bench -m plain, fixed, dmabuf
#   1 MiB sequential reads, QD8:   dmabuf-io bench -m dmabuf, bounce
#   fio, 4 KiB random reads QD32:  io_uring (fixedbufs) and dmabuf engines,
#                                  when fio and the engine are in the image
# Repetitions interleave the modes, so drift hits all of them alike.
#
# Before the fio runs, tests/tool/fio-engine checks the engine's data path
# (with verify) on drive 1.
# Output: "csv:REP,TEST,<dmabuf-io CSV row>" per run (fio runs use the same
# columns, those fio does not report left empty; latency is fio's clat) and
# "# ..." progress lines.  A failed run prints "error: ..." and the script
# goes on.
# Parameters: dmabuf_rw.bench_reps (5), dmabuf_rw.bench_secs (2 s per run),
# dmabuf_rw.bench_fio (1).
param() {
	for w in $(cat /proc/cmdline); do
		case "$w" in "$1="*) echo "${w#*=}"; return ;; esac
	done
	echo "$2"
}
reps=$(param dmabuf_rw.bench_reps 5)
secs=$(param dmabuf_rw.bench_secs 2)
usefio=$(param dmabuf_rw.bench_fio 1)
engine=/usr/lib/fio/dmabuf-engine.so
job=/usr/share/fio/dmabuf.fio

# drive 0 by serial number (vm/run-vm.sh: dmabuf-rw-0)
dev=""
for c in /sys/class/nvme/nvme*; do
	[ "$(tr -d ' \n' < "$c/serial")" = dmabuf-rw-0 ] || continue
	for n in "$c"/nvme*n*; do
		[ -e "$n" ] || continue
		dev=/dev/$(basename "$n" | sed 's/c[0-9]*n/n/')
		break
	done
done
[ -b "$dev" ] || { echo "error: no NVMe drive 0 (serial dmabuf-rw-0)"; exit 1; }
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
echo "# bench on $dev ($(cat /sys/block/${dev#/dev/}/size) sectors): $reps x $secs s per run, fio=$usefio"

run_tool() {	# REP TEST ARGS...
	rep=$1 test=$2
	shift 2
	if row=$(dmabuf-io bench --csv --no-header -t "$secs" "$@" "$dev" 2>/tmp/err); then
		echo "csv:$rep,$test,$row"
		echo "$row" | awk -F, -v t="$test" -v r="$rep" \
			'{ printf "# rep %s %-7s %-7s %8.1f KIOPS %8.1f MB/s  CPU %6.1f us/IO  p99 %8.1f us\n", r, t, $1, $12 / 1e3, $13, $14, $21 }'
	else
		echo "error: rep $rep $test dmabuf-io bench $*: $(tail -n 3 /tmp/err)"
	fi
}

# fio terse v3: 3 jobname, 6 read KiB, 7 read KiB/s, 8 read IOPS, 9 runtime ms,
# 24/30/32 clat p50/p99/p99.9 as "50.000000%=USEC"
run_fio() {	# REP SECTION
	rep=$1
	if line=$(DEV=$dev ENGINE=$engine RUNTIME=$secs fio --section="$2" \
			--output-format=terse --terse-version=3 "$job" 2>/tmp/err | grep '^3;'); then
		row=$(echo "$line" | awk -F';' -v dev="$dev" '
			function v(f) { sub(/^[^=]*=/, "", f); return f }
			{ printf "fio-%s,-,read,random,4096,32,1,\"%s\",,%d,%.3f,%s,%.3f,,,,,,,%s,%s,%s,",
				$3, dev, $6 / 4, $9 / 1000, $8, $7 * 1024 / 1e6, v($24), v($30), v($32) }')
		echo "csv:$rep,rand4k,$row"
		echo "$line" | awk -F';' -v r="$rep" \
			'{ printf "# rep %s fio     %-14s %8.1f KIOPS\n", r, $3, $8 / 1e3 }'
	else
		echo "error: rep $rep fio --section=$2: $(tail -n 3 /tmp/err)"
	fi
}

rep=1
while [ "$rep" -le "$reps" ]; do
	for m in plain fixed dmabuf; do
		run_tool "$rep" rand4k -m "$m" -b 4k -q 32 -p random
	done
	for m in dmabuf bounce; do
		run_tool "$rep" seq1m -m "$m" -b 1m -q 8 -p sequential
	done
	if [ "$usefio" = 1 ]; then
		run_fio "$rep" io_uring-fixed
		run_fio "$rep" dmabuf
	fi
	rep=$((rep + 1))
done
echo "# bench done"
