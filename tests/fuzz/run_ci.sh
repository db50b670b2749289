#!/usr/bin/env bash
# run_ci.sh BUILD_DIR [SECONDS] - the bounded fuzz job of the test command.
#
# Configures and builds the fuzz configuration in BUILD_DIR, then runs
# every harness for SECONDS (default 15) from its seed corpus, two at a
# time (FUZZ_PARALLEL). Prints one line per target with the executions
# run; exits non-zero on any crash, leak, UB or time-out, printing the
# report and where the input was kept.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [SECONDS]" >&2; exit 2; }
. "$(dirname "$0")/fuzz_env.sh"
dir=$(mkdir -p "$1" && cd "$1" && pwd)
secs=${2:-15}
parallel=${FUZZ_PARALLEL:-2}

t0=$SECONDS
fuzz_build "$dir"
echo "fuzz: built in $((SECONDS - t0)) s"
fuzz_sanitizer_env
base=$dir/fuzz-ci # not fuzz-work: the long runs' corpus stays
export TMPDIR=$base/tmp
mkdir -p "$TMPDIR"

# run_one TARGET: a bounded run; the log says how it went.
run_one() {
	local t=$1 work

	# from the seeds alone, so a run takes the same time every time
	rm -rf "${base:?}/$t"
	work=$(fuzz_work "$base" "$t")
	fuzz_run "$dir" "$t" "$work" -max_total_time="$secs" \
		-print_final_stats=1
}

for t in "${fuzz_targets[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do
		wait -n || true
	done
	run_one "$t" &
done
wait || true

failed=0
for t in "${fuzz_targets[@]}"; do
	work=$base/$t
	runs=$(sed -n 's/^stat::number_of_executed_units: //p' "$work/log")
	corp=$(ls "$work/corpus" | wc -l)
	art=$(ls "$work/artifacts" 2>/dev/null | head -1)
	if [ -n "$art" ] || [ -z "$runs" ]; then
		failed=1
		printf 'fuzz_%-18s FAILED after %s runs: %s\n' "$t" "${runs:-?}" \
			"$work/artifacts/$art"
		grep -E -A30 'ERROR:|runtime error|SUMMARY' "$work/log" | head -60
	else
		printf 'fuzz_%-18s ok  %7s runs in %s s, corpus %s\n' "$t" \
			"$runs" "$secs" "$corp"
	fi
done
echo "fuzz: $((SECONDS - t0)) s in all"
exit $failed
