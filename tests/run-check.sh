#!/bin/bash
# make check: build the kernel and the guest, boot the guest once per IOMMU
# mode and run the guest tests there, as one TAP stream:
#   ok 12 - smoke/rw [strict]
#   not ok 13 - smoke/udmabuf [strict]     (followed by the test's output)
# A boot that hangs, dies before the end, or whose console shows a kernel
# splat (BUG, WARNING, Oops, KASAN, UBSAN, panic, kmemleak leaks, hung
# task) adds a "not ok" line naming the console log.  The last line is
# always "N passed, N failed, N skipped"; the exit status is 1 on failure.
#
# Environment:
#   MODES="none strict lazy pt"  IOMMU modes, one boot each
#   TESTS="*"                    guest test globs (dmabuf_rw.tests= syntax:
#                                comma-separated area/name globs, !excludes)
#   CONFIG=debug                 the debug kernel (kernel/config/debug.config)
#   TEST_TIMEOUT=300             per-test limit in the guest, seconds
#   BOOT_TIMEOUT=900             per-boot limit, seconds
#   VERBOSE=1                    show the output of passing tests too
#   NO_BUILD=1                   use the kernel and guest already built
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
modes=${MODES:-none strict lazy pt}
tests=${TESTS:-*}
flavour=${CONFIG:-}
test_timeout=${TEST_TIMEOUT:-300}
boot_timeout=${BOOT_TIMEOUT:-900}
logs=build/logs
n=0 pass=0 fail=0 skip=0

summary() {
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
# counters and what the guest reported go to the state file ($1).
tap_filter() {
	awk -v n="$n" -v mode="$m" -v state="$1" -v verbose="${VERBOSE:-0}" '
	BEGIN { plan = -1 }
	/^# run: / { cur = substr($0, 8); buf = ""; lines = 0 }
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
		else if (dir ~ /^ # SKIP/) nskip++
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

for m in $modes; do
	log="$logs/check${flavour:+-$flavour}-$m.log"
	state="$logs/.check-$m.state"
	t0=$(date +%s)
	rm -f "$state"
	vm/run-vm.sh --iommu "$m" --name "check${flavour:+-$flavour}-$m" --log "$log" \
		--timeout "$boot_timeout" \
		--append "dmabuf_rw.tests=$tests dmabuf_rw.timeout=$test_timeout" \
		2>"$logs/.run-vm.err" | tap_filter "$state"
	rc=${PIPESTATUS[0]}
	tpass=0 tfail=0 tskip=0 results=0 plan=-1 done=0 cur=""
	[ ! -f "$state" ] || . "$state"
	pass=$((pass + tpass)) fail=$((fail + tfail)) skip=$((skip + tskip))
	splat=$(first_splat "$log")
	if [ "$rc" = 124 ]; then
		not_ok "boot [$m]: hung, killed after $boot_timeout s${cur:+ while running $cur}; ${splat:-see $log}"
		tail_log "$log"
	elif [ "$rc" != 0 ]; then
		sed 's/^/#   /' "$logs/.run-vm.err"
		not_ok "boot [$m]: qemu failed with status $rc (see $log)"
	elif [ "$done" != 1 ]; then
		not_ok "boot [$m]: guest stopped before the end${cur:+ while running $cur}; ${splat:-see $log}"
		tail_log "$log"
	else
		[ "$results" = "$plan" ] ||
			not_ok "boot [$m]: $results results for a plan of $plan (see $log)"
		[ -z "$splat" ] || not_ok "kernel [$m]: $splat"
	fi
	echo "# [$m] $results tests in $(($(date +%s) - t0)) s; console: $log"
done

[ "$n" -gt 0 ] || not_ok "no guest test matched TESTS=$tests"
echo "# make check took $(($(date +%s) - start)) s"
summary
