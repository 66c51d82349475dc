# Sourced by bench/guest-bench.sh and bench/guest-bench-cpu.sh in the guest
# (the image puts all three in /bin): the parts both need.
#
#   param NAME DEFAULT     NAME's value on the kernel command line
#   bench_drive            $dev: NVMe drive 0 (the measured one), or exit 1
#   run_tool REP TEST ARGS...
#                          one dmabuf-io bench run on $dev for $secs s;
#                          prints "csv:REP,TEST,<dmabuf-io CSV row>", then
#                          calls the sourcing script's show_row REP TEST ROW
#                          for its progress line; a failed run prints
#                          "error: ...", a run whose premapped buffers the
#                          kernel mapped per I/O "# warning: ..."

param() {
	for w in $(cat /proc/cmdline); do
		case "$w" in "$1="*) echo "${w#*=}"; return ;; esac
	done
	echo "$2"
}

# drive 0 by serial number (vm/run-vm.sh: dmabuf-rw-0)
bench_drive() {
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
}

run_tool() {
	rep=$1 test=$2
	shift 2
	if row=$(dmabuf-io bench --csv --no-header -t "$secs" "$@" "$dev" 2>/tmp/err); then
		echo "csv:$rep,$test,$row"
		show_row "$rep" "$test" "$row"
		# the row says "no" too; this line reaches the host's console
		sed -n "s/^dmabuf-io: warning: /# warning: rep $rep $test: /p" /tmp/err
	else
		echo "error: rep $rep $test dmabuf-io bench $*: $(tail -n 3 /tmp/err)"
	fi
}
