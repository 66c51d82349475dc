# Sourced by bench/guest-bench.sh and bench/guest-bench-cpu.sh in the guest
# (the image puts all three in /bin): the parts both need.
#
#   param NAME DEFAULT     NAME's value on the kernel command line
#   nvme_serial N          the namespace of the drive with serial dmabuf-rw-N
#   bench_drive            $dev: NVMe drive 0 (the measured one), or exit 1
#   test_args TEST         dmabuf-io bench's arguments for TEST (rand4k:
#                          4 KiB random reads QD32, seq1m: 1 MiB sequential
#                          reads QD8); fails for an unknown one
#   run_tool REP TEST ARGS...
#                          one dmabuf-io bench run on $dev for $secs s;
#                          prints "csv:REP,TEST,<dmabuf-io CSV row>", then
#                          calls the sourcing script's show_row REP TEST ROW
#                          for its progress line; a failed run prints
#                          "error: ...", a run whose premapped buffers the
#                          kernel mapped per I/O "# warning: ..."
#   bench_files            the file system drives of dmabuf_rw.fs=TYPE:N,...
#                          (images made on the host by tests/fs/images.sh):
#                          mounts each on /tmp/bench-TYPE and makes its
#                          $file_mib MiB file, unless an earlier boot of the
#                          run did; $files: "TYPE:FILE:DEVICE ..."
#   file_runs REP TESTS [ARGS...]
#                          for each file of $files and each test of TESTS
#                          (test TYPE-TEST): file-dmabuf (dmabuf-io -m
#                          dmabuf on the file), file-fixed (-m fixed on the
#                          file) and raw-dmabuf (-m dmabuf on the file
#                          system's drive itself, over an area of the
#                          file's size; reading it while it is mounted
#                          changes nothing), ARGS before each run's own
#   bench_files_umount     unmounts them, so that the host's fsck finds the
#                          images clean

file_mib=128

param() {
	for w in $(cat /proc/cmdline); do
		case "$w" in "$1="*) echo "${w#*=}"; return ;; esac
	done
	echo "$2"
}

nvme_serial() {
	for c in /sys/class/nvme/nvme*; do
		[ "$(tr -d ' \n' < "$c/serial")" = "dmabuf-rw-$1" ] || continue
		for n in "$c"/nvme*n*; do
			[ -e "$n" ] && { echo "/dev/$(basename "$n" | sed 's/c[0-9]*n/n/')"; return; }
		done
	done
}

# drive 0 by serial number (vm/run-vm.sh: dmabuf-rw-0)
bench_drive() {
	dev=$(nvme_serial 0)
	[ -b "$dev" ] || { echo "error: no NVMe drive 0 (serial dmabuf-rw-0)"; exit 1; }
}

test_args() {
	case "$1" in
	rand4k)	echo "-b 4k -q 32 -p random" ;;
	seq1m)	echo "-b 1m -q 8 -p sequential" ;;
	*)	return 1 ;;
	esac
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

bench_files() {
	files=""
	for spec in $(param dmabuf_rw.fs "" | tr , ' '); do
		t=${spec%%:*} d=$(nvme_serial "${spec#*:}") mnt=/tmp/bench-${spec%%:*}
		f=$mnt/bench.dat
		mkdir -p "$mnt"
		if [ ! -b "$d" ] || ! mount -t "$t" "$d" "$mnt" 2>/tmp/err; then
			echo "error: $t on drive ${spec#*:} (${d:-missing}): cannot mount: $(cat /tmp/err): file runs skipped"
			continue
		fi
		if [ "$(stat -c %s "$f" 2>/dev/null)" != $((file_mib << 20)) ]; then
			# allocated in one go (fallocate), then every block written,
			# so that no read meets an unwritten extent
			rm -f "$f"
			if ! fallocate -l "$((file_mib << 20))" "$f" 2>/tmp/err ||
			   ! dmabuf-io bench -m plain -w write -p seq -b 1m -q 8 -n "$file_mib" \
					--no-progress "$f" >/dev/null 2>>/tmp/err || ! sync; then
				echo "error: making $f: $(tail -n 2 /tmp/err | tr '\n' ' '): $t file runs skipped"
				continue
			fi
			echo "# file: $f ($t on $d): $file_mib MiB written"
		else
			echo "# file: $f ($t on $d): $file_mib MiB, made by an earlier boot"
		fi
		files="$files $t:$f:$d"
	done
}

# run_tool on another target, its CSV row's mode (and progress line) LABEL
file_run() {	# REP TEST LABEL TARGET ARGS...
	r_=$1 t_=$2 label=$3 saved=$dev
	dev=$4
	shift 4
	run_tool "$r_" "$t_" "$@" |
		sed -e "s/^\(csv:[^,]*,[^,]*,\)[^,]*,/\1$label,/" \
		    -e "s/^\(# rep [0-9]* [^ ]* *\)[^ ]* /\1$label /"
	dev=$saved
}

# (names of its own: the callers loop over t, f, p, ...)
file_runs() {
	fr_rep=$1 fr_tests=$2
	shift 2
	for fr_x in $files; do
		fr_t=${fr_x%%:*} fr_f=${fr_x#*:}
		fr_f=${fr_f%%:*} fr_d=${fr_x##*:}
		for fr_p in $fr_tests; do
			fr_a=$(test_args "$fr_p") || { echo "error: unknown test $fr_p"; continue; }
			# shellcheck disable=SC2086 # fr_a: the test's arguments, split
			{
				file_run "$fr_rep" "$fr_t-$fr_p" file-dmabuf "$fr_f" "$@" -m dmabuf $fr_a
				file_run "$fr_rep" "$fr_t-$fr_p" file-fixed "$fr_f" "$@" -m fixed $fr_a
				file_run "$fr_rep" "$fr_t-$fr_p" raw-dmabuf "$fr_d" "$@" -m dmabuf \
					-s "${file_mib}m" $fr_a
			}
		done
	done
}

bench_files_umount() {
	for x in $files; do
		f=${x#*:}
		mnt=$(dirname "${f%%:*}")
		umount "$mnt" 2>/tmp/err || echo "error: umount $mnt: $(cat /tmp/err)"
	done
}
