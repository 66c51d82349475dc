#!/bin/bash
# make check: build the kernel and the guest, boot the guest once per IOMMU
# mode and run the guest tests there, as one TAP stream:
#   ok 12 - smoke/rw [strict]
#   not ok 13 - smoke/udmabuf [strict]     (followed by the test's output)
# The tests outside p2p/ boot the image with fio (vm/run-vm.sh --fio) when
# make guest built it: tool/ needs it.  tool/fio-engine runs in the boots
# of FIO_MODES only.  Boots that run fs/ tests
# also get an ext4 and an xfs drive, made and fsck'd on the host (fs_bed).
# A boot that hangs, dies before the end, or whose console shows a kernel
# splat (BUG, WARNING, Oops, KASAN, UBSAN, panic, kmemleak leaks, hung
# task) adds a "not ok" line naming the console log.  Before the end, the
# tests that skipped are listed with the reason each printed (a skip is
# only for what a bed does not have: tests/lib/test.h).  The last line is
# always "N passed, N failed, N skipped"; the exit status is 1 on failure.
#
# Environment:
#   MODES="none strict lazy pt"  IOMMU modes, one boot each
#   TESTS="*,!p2p/storm"         guest test globs (dmabuf_rw.tests= syntax:
#                                comma-separated area/name globs, !excludes).
#                                p2p/storm only on request (TESTS=p2p/storm):
#                                its minute-long storm of BAR revocations
#                                breaks the bed's QEMU 7.2 now and then (its
#                                NVMe stops fetching commands, an IPI gets
#                                lost, once a segfault), see tests/p2p/storm.c
#   P2P_BEDS="EPYC qemu64:strict:p2p/route"
#                                the p2p/ tests run in the device-memory bed
#                                (vm/run-vm.sh --p2p), one boot per bed and
#                                mode: CPU[:MODE+MODE...[:GLOB+GLOB...]], by
#                                default every mode of MODES and every p2p/
#                                test; "ok 3 - p2p/read [strict p2p:EPYC]";
#                                "" leaves them out.  Why these two: see below
#   FIO_MODES=strict             the IOMMU modes whose boots run
#                                tool/fio-engine (a minute a boot): what it
#                                tests is the engine's use of the library and
#                                fio's verify, which no IOMMU mode changes; the
#                                kernel path under it is the one dmabuf/ and
#                                tool/bench take in every mode
#   SWIOTLB_BED=none             the premap/ tests once more, in a boot of this
#                                IOMMU mode with swiotlb=force: all DMA bounces,
#                                so premapped buffers must fall back to per-I/O
#                                mapping (tests/premap/premap-test.h); "none" or
#                                "pt" (with an IOMMU translating, swiotlb=force
#                                changes nothing), only when MODES has it;
#                                "ok 5 - premap/read [none swiotlb]"; "" leaves
#                                it out
#   P2P_BAR=64M                  size of its device-memory BARs
#   P2P_BOOT_TIMEOUT=300         per-boot limit there (a boot takes ~40 s;
#                                with CONFIG: BOOT_TIMEOUT)
#   CONFIG=debug                 the debug kernel (kernel/config/debug.config)
#   DEBUG_LOOPS=1                the guest gets dmabuf_rw.debug=1: tests run a
#                                tenth of their long loops (t_scale() in
#                                tests/lib/test.h); on with CONFIG, and
#                                DEBUG_LOOPS=1 without it times the scaled
#                                suite on the normal kernel
#   SPLIT="dmabuf fuzz,inval life"
#                                the tests outside p2p/ over several boots per
#                                mode: one per group of areas, one more for
#                                the areas in no group; with CONFIG only (a
#                                debug kernel is several times slower), ""
#                                for one boot
#   TEST_TIMEOUT=300             per-test limit in the guest, seconds (in
#                                a p2p boot at most half the boot's limit);
#                                a test about to hit it gets the stacks of
#                                the blocked tasks in the console log
#   BOOT_TIMEOUT=900             per-boot limit, seconds
#   VERBOSE=1                    show the output of passing tests too
#   NO_BUILD=1                   use the kernel and guest already built
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
modes=${MODES:-none strict lazy pt}
tests=${TESTS:-*,!p2p/storm}
flavour=${CONFIG:-}
p2p_beds=${P2P_BEDS-EPYC qemu64:strict:p2p/route}
p2p_bar=${P2P_BAR:-64M}
swiotlb_bed=${SWIOTLB_BED-none}
test_timeout=${TEST_TIMEOUT:-300}
boot_timeout=${BOOT_TIMEOUT:-900}
p2p_timeout=${P2P_BOOT_TIMEOUT:-$([ -z "$flavour" ] && echo 300 || echo "$boot_timeout")}
debug_loops=${DEBUG_LOOPS:-$([ -z "$flavour" ] && echo 0 || echo 1)}
split=${SPLIT-$([ -z "$flavour" ] || echo "dmabuf fuzz,inval life")}
logs=build/logs
skips=$logs/.skips
n=0 pass=0 fail=0 skip=0

summary() {
	if [ -s "$skips" ]; then
		echo "# $(wc -l < "$skips") skipped:"
		sed 's/^/#   /' "$skips"
	fi
	echo "1..$n"
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
	exit
}
not_ok() {
	n=$((n + 1))
	fail=$((fail + 1))
	echo "not ok $n - $*"
}

if [ -n "$flavour" ] && [ ! -f "kernel/config/$flavour.config" ]; then
	echo "# SKIP: no kernel/config/$flavour.config"
	summary
fi

start=$(date +%s)
mkdir -p "$logs"

: > "$skips"
if [ "${NO_BUILD:-0}" != 1 ]; then
	echo "# building kernel${flavour:+ ($flavour)} and guest (log: $logs/build.log)"
	make -s "kernel${flavour:+-$flavour}" test-modules guest 2>&1 | tee "$logs/build.log" |
		grep --line-buffered -E '^[a-z-]+: ' | sed -u 's/^/#   /'
	if [ "${PIPESTATUS[0]}" != 0 ]; then
		tail -n 20 "$logs/build.log" | sed 's/^/#   /'
		not_ok "build (see $logs/build.log)"
		summary
	fi
	echo "# built in $(($(date +%s) - start)) s"
fi

# Host-side tests (tests/host/run.sh): no root, no VM; after the build,
# which unpacks the fio tree host/fio-getevents compiles against.
tests/host/run.sh "$n" | tee "$logs/host.tap" | grep -v '^# host: '
read -r hp hf hs < <(sed -n 's/^# host: //p' "$logs/host.tap"; echo 0 1 0)
n=$((n + hp + hf + hs)) pass=$((pass + hp)) fail=$((fail + hf)) skip=$((skip + hs))

# First kernel splat in a console log: "TEXT, during TEST (LOG:LINE)".
first_splat() {
	tr -d '\r' < "$1" | awk -v file="$1" '
		/^# run: / { cur = substr($0, 8) }
		/\[ *[0-9]+\.[0-9]+\].*(BUG:|WARNING:|Oops|KASAN:|UBSAN:|Kernel panic|suspected memory leak|blocked for more than|Initramfs unpacking failed)/ {
			line = $0
			sub(/^.*\[ *[0-9]+\.[0-9]+\] */, "", line)
			print line (cur != "" ? ", during " cur : "") " (" file ":" NR ")"
			exit
		}'
}

tail_log() {
	echo "#   last lines of $1:"
	tr -d '\r' < "$1" | tail -n 12 | sed 's/^/#     /'
}

# Renumber the guest's TAP stream; show the output of failed tests.  The
# counters and what the guest reported go to the state file ($1), each skip
# with its reason to $skips, each test's time ("# TEST took N s", from
# guest/init) to the times file ($3).
tap_filter() {
	awk -v n="$n" -v mode="$2" -v state="$1" -v times="$3" -v skips="$skips" \
		-v verbose="${VERBOSE:-0}" '
	BEGIN { plan = -1 }
	/^# run: / { cur = substr($0, 8); buf = ""; lines = 0 }
	/^# [^ ]+ took [0-9]+ s$/ { print $2, $4 > times }
	/^# run: / || /^# dmabuf-rw guest:/ { if (verbose) print; next }
	/^(not )?ok [0-9]+ - / {
		ok = $1 == "ok"
		desc = $0
		sub(/^(not )?ok [0-9]+ - /, "", desc)
		dir = ""
		if ((i = index(desc, " # ")) > 0) {
			dir = substr(desc, i)
			desc = substr(desc, 1, i - 1)
		}
		printf "%s %d - %s [%s]%s\n", ok ? "ok" : "not ok", ++n, desc, mode, dir
		if (!ok) { printf "%s", buf; nfail++ }
		else if (dir ~ /^ # SKIP/) {
			nskip++
			why = dir
			sub(/^ # SKIP:? */, "", why)
			printf "%s [%s]: %s\n", desc, mode, why >> skips
			fflush(skips)
		}
		else npass++
		results++
		cur = ""; buf = ""; lines = 0
		fflush()
		next
	}
	/^1\.\.[0-9]+$/ { plan = substr($0, 4) + 0; next }
	/^# dmabuf-rw: done/ { done = 1; next }
	/^# / {
		if (verbose) { print "#   " substr($0, 3); next }
		if (++lines <= 50) buf = buf "#   " substr($0, 3) "\n"
		else if (lines == 51) buf = buf "#   ... (more in the log)\n"
	}
	END {
		printf "n=%d tpass=%d tfail=%d tskip=%d results=%d plan=%d done=%d cur=\"%s\"\n",
			n, npass, nfail, nskip, results, plan, done, cur > state
	}'
}

# Does TESTS select any of the tests (area/name) on standard input?  The
# guest applies the globs; this only spares boots that would run nothing.
any_selected() {
	local t g globs
	IFS=, read -ra globs <<< "$tests"
	while read -r t; do
		for g in "${globs[@]}"; do
			case "$g" in !*) continue ;; */*) ;; *) g="$g/*" ;; esac
			# shellcheck disable=SC2053
			[[ $t == $g ]] && return 0
		done
	done
	return 1
}
all_tests=$(ls tests/*/*.c | sed -n 's|^tests/\([^/]*\)/\([^/]*\)\.c$|\1/\2|p' | grep -v '^\(lib\|host\)/')
other_areas=$(echo "$all_tests" | cut -d/ -f1 | sort -u | grep -vx p2p | sed 's/^/!/' | paste -sd,)

# One boot: TAP label (IOMMU mode first), name of its logs and images,
# guest test globs, then more vm/run-vm.sh options.
#
# p2p boots (boot_tmo set to $p2p_timeout) are booted once more when the
# guest froze before /init printed anything: that happened once in about 40
# boots with -cpu EPYC under TCG on a loaded host (no kernel message after
# the NVMe probe, see the kept NAME-hung.log), says nothing about the tests
# and would otherwise cost the whole boot timeout.  A second freeze, or a
# hang once tests ran, fails as usual.
boot() {
	local label=$1 name=$2 globs=$3 m=${1%% *} what="$1${part:+: $part}"
	local log="$logs/$2.log" state="$logs/.$2.state" times="$logs/$2.times" t0 rc splat slow try=1
	local tmo=${boot_tmo:-$boot_timeout} ttmo=$test_timeout
	# a test that hangs a p2p boot is named (and its blocked tasks dumped,
	# guest/init) before the boot's own, shorter limit kills the guest
	[ -z "${boot_tmo:-}" ] || [ "$ttmo" -le $((boot_tmo / 2)) ] || ttmo=$((boot_tmo / 2))
	shift 3
	t0=$(date +%s)
	while :; do
		rm -f "$state" "$times"
		vm/run-vm.sh --iommu "$m" --name "$name" --log "$log" \
			--timeout "$tmo" "$@" \
			--append "dmabuf_rw.tests=$globs dmabuf_rw.timeout=$ttmo${debug_append}" \
			2>"$logs/.run-vm.err" | tap_filter "$state" "$label" "$times"
		rc=${PIPESTATUS[0]}
		[ "$rc" = 124 ] && [ -n "${boot_tmo:-}" ] && [ "$try" = 1 ] &&
			[ ! -s "${log%.log}.out" ] || break
		cp "$log" "${log%.log}-hung.log"
		echo "# boot [$what]: froze before /init after $tmo s (console: ${log%.log}-hung.log); booting again"
		try=2
	done
	tpass=0 tfail=0 tskip=0 results=0 plan=-1 done=0 cur=""
	[ ! -f "$state" ] || . "$state"
	pass=$((pass + tpass)) fail=$((fail + tfail)) skip=$((skip + tskip))
	splat=$(first_splat "$log")
	if [ "$rc" = 124 ]; then
		not_ok "boot [$what]: hung, killed after $tmo s${cur:+ while running $cur}; ${splat:-see $log}"
		tail_log "$log"
	elif [ "$rc" != 0 ]; then
		sed 's/^/#   /' "$logs/.run-vm.err"
		not_ok "boot [$what]: qemu failed with status $rc (see $log)"
	elif [ "$done" != 1 ]; then
		not_ok "boot [$what]: guest stopped before the end${cur:+ while running $cur}; ${splat:-see $log}"
		tail_log "$log"
	else
		[ "$results" = "$plan" ] ||
			not_ok "boot [$what]: $results results for a plan of $plan (see $log)"
		[ -z "$splat" ] || not_ok "kernel [$what]: $splat"
	fi
	slow=$(sort -k2 -nr "$times" 2>/dev/null | head -n 3 | awk '{ printf "%s %s %d s", sep, $1, $2; sep = "," }')
	echo "# [$what] $results tests in $(($(date +%s) - t0)) s${slow:+ (slowest:$slow)}; console: $log"
}

# The device-memory beds.  What decides the outcome of a drive -> BAR pair is
# the route the kernel picks (drivers/pci/p2pdma.c) and whether QEMU delivers
# it (tests/p2p/p2p-test.h): the IOMMU mode and whether the kernel trusts the
# root complex, i.e. the CPU model (q35's host bridge is not on the P2PDMA
# whitelist; AMD Zen CPUs are).  EPYC, in every mode, covers every route that
# moves data (bus address below the switch: none and pt; through the host
# bridge: all four) and the bus address QEMU misroutes into the IOMMU (strict,
# lazy).  qemu64 adds only the refusal of a route through an untrusted host
# bridge, which is decided before any IOMMU is involved and so looks the same
# in every mode: one boot of p2p/route in strict mode (where nothing reaches
# device memory at all) shows it.  The data tests would only skip there.
p2p_boots() {	# MODE: one "CPU GLOBS" line per p2p boot in this mode
	local bed cpu bmodes bglobs g sel
	for bed in $p2p_beds; do
		IFS=: read -r cpu bmodes bglobs <<< "$bed"
		[ -z "$bmodes" ] || [[ "+$bmodes+" == *"+$1+"* ]] || continue
		if [ -z "$bglobs" ]; then
			echo "$all_tests" | grep '^p2p/' | any_selected &&
				echo "$cpu $tests,$other_areas"
			continue
		fi
		# the bed's own tests, where TESTS selects them
		sel=""
		for g in ${bglobs//+/ }; do
			for t in $(echo "$all_tests" | grep '^p2p/'); do
				# shellcheck disable=SC2053
				[[ $t == $g ]] && echo "$t" | any_selected && { sel="$sel,$g"; break; }
			done
		done
		[ -z "$sel" ] || echo "$cpu ${sel#,},$(echo "$tests" | tr , '\n' | grep '^!' | paste -sd,),$other_areas"
	done
}

debug_append=""
[ "$debug_loops" != 1 ] || debug_append=" dmabuf_rw.debug=1"
fio_modes=${FIO_MODES-strict}
fio=()
[ ! -f build/guest/initramfs-fio.cpio.gz ] || fio=(--fio)

# The boots of the tests outside p2p/ in one mode, one "NAME GLOBS" line
# each: one boot, or with SPLIT one per group and one for the rest.  A
# group's boot excludes every other area, so that TESTS still narrows it.
split_boots() {
	local areas grouped group a excl sel
	if [ -z "$split" ]; then
		echo "$all_tests" | grep -v '^p2p/' | any_selected && echo "- $tests,!p2p"
		return
	fi
	areas=$(echo "$all_tests" | grep -v '^p2p/' | cut -d/ -f1 | sort -u)
	grouped=" ${split//,/ } "
	for group in $split rest; do
		excl="" sel=""
		for a in $areas; do
			if [ "$group" = rest ]; then
				[[ $grouped == *" $a "* ]] && excl="$excl,!$a" || sel="$sel $a"
			elif [[ ",$group," == *",$a,"* ]]; then
				sel="$sel $a"
			else
				excl="$excl,!$a"
			fi
		done
		any_selected <<< "$(for a in $sel; do echo "$all_tests" | grep "^$a/"; done)" ||
			continue
		echo "${group//,/+} $tests,!p2p$excl"
	done
}

# Does the guest select any test (area/name on standard input) with GLOBS
# (dmabuf_rw.tests= syntax: an exclude wins wherever it stands)?
selects() {
	local t g pat in globs
	IFS=, read -ra globs <<< "$1"
	while read -r t; do
		in=0
		for g in "${globs[@]}"; do
			pat=${g#!}
			[[ $pat == */* ]] || pat="$pat/*"
			# shellcheck disable=SC2053
			[[ $t == $pat ]] || continue
			[[ $g == !* ]] && { in=0; break; }
			in=1
		done
		[ "$in" = 1 ] && return 0
	done
	return 1
}

# tests/fs: a boot that runs any fs/ test gets two more drives, an ext4 and
# an xfs image made on the host for this boot (tests/fs/images.sh; the xfs
# drive with a small MDTS, as drive 1), and dmabuf_rw.fs= says which drive
# holds which; after the boot the host's fsck judges both images, one TAP
# line each ("ok 40 - fs/fsck-ext4 [strict]").  A clean image is deleted.
# The images are made before vm/run-vm.sh waits for its lock: their names
# carry this run's PID, so that another checkout user's boot of the same
# name keeps its own.
fs_tests=$(echo "$all_tests" | grep -E '^(fs/|tool/files$)')
fs_bed() {	# NAME GLOBS: sets fs_opts and fs_images for that boot
	fs_opts=() fs_images=()
	echo "$fs_tests" | selects "$2" || return 0
	if ! tests/fs/images.sh make "build/vm/$1-$$" 2> "$logs/.fs-images.err"; then
		sed 's/^/#   /' "$logs/.fs-images.err"
		not_ok "fs images for $1 (tests/fs/images.sh make)"
		return 0
	fi
	fs_images=("build/vm/$1-$$-ext4.img" "build/vm/$1-$$-xfs.img")
	# vm/run-vm.sh's two default drives first: the other tests use them
	# shellcheck disable=SC2054	# the commas are inside drive specs
	fs_opts=(--drive file:64M --drive file:64M,mdts=3
		--drive "image:${fs_images[0]}" --drive "image:${fs_images[1]},mdts=3"
		--append "dmabuf_rw.fs=ext4:2,xfs:3")
}
fs_fsck() {	# LABEL: check the images of the last fs_bed
	local img fs out
	for img in "${fs_images[@]}"; do
		fs=${img%.img}
		fs=${fs##*-}
		n=$((n + 1))
		if out=$(tests/fs/images.sh fsck "$img" 2>&1); then
			pass=$((pass + 1))
			echo "ok $n - fs/fsck-$fs [$1]"
			rm -f "$img"
		else
			fail=$((fail + 1))
			echo "not ok $n - fs/fsck-$fs [$1]"
			echo "$out" | grep -v '^Cannot get host\|^Repair may fail\|^the image and' |
				tail -n 25 | sed 's/^/#   /'
			echo "#   image kept: $img"
		fi
	done
}

for m in $modes; do
	mapfile -t parts < <(split_boots)
	for p in "${parts[@]}"; do
		part=${p%% *} globs=${p#* }
		[[ " $fio_modes " == *" $m "* ]] || globs="$globs,!tool/fio-engine"
		name=check${flavour:+-$flavour}-$m
		[ "$part" = - ] || name=$name-$part
		fs_bed "$name" "$globs"
		if [ "$part" = - ]; then
			part="" boot "$m" "$name" "$globs" "${fio[@]}" "${fs_opts[@]}"
		else
			boot "$m" "$name" "$globs" "${fio[@]}" "${fs_opts[@]}"
		fi
		fs_fsck "$m"
	done
	part=""
	mapfile -t beds < <(p2p_boots "$m")
	for bed in "${beds[@]}"; do
		cpu=${bed%% *} globs=${bed#* }
		boot_tmo=$p2p_timeout boot "$m p2p:$cpu" "check${flavour:+-$flavour}-p2p-$cpu-$m" \
			"${globs//,,/,}" --p2p "$p2p_bar" --cpu "$cpu"
	done
done

# The swiotlb bed: premap/ only, where TESTS selects any of it.
case "$swiotlb_bed" in
"" | none | pt) ;;
*) not_ok "SWIOTLB_BED=$swiotlb_bed: swiotlb=force bounces DMA only in IOMMU mode none or pt" ;;
esac
if [ -n "$swiotlb_bed" ] && [[ " $modes " == *" $swiotlb_bed "* ]] &&
	echo "$all_tests" | grep '^premap/' | any_selected; then
	not_premap=$(echo "$all_tests" | cut -d/ -f1 | sort -u | grep -vx premap | sed 's/^/!/' | paste -sd,)
	boot "$swiotlb_bed swiotlb" "check${flavour:+-$flavour}-swiotlb-$swiotlb_bed" \
		"$tests,$not_premap" --append swiotlb=force
fi

[ "$n" -gt 0 ] || not_ok "no guest test matched TESTS=$tests"
echo "# make check took $(($(date +%s) - start)) s"
summary
