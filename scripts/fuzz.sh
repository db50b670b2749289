#!/usr/bin/env bash
# fuzz.sh TARGET|all [SECONDS] [JOBS] - a long fuzzing run.
#
# Builds the fuzz configuration (clang, LUONG_FUZZ=ON) in $FUZZ_BUILD
# (default build-fuzz) and runs TARGET (or every target in turn) for
# SECONDS (default 600) with JOBS worker processes (default 1; libFuzzer's
# fork mode), keeping going after a crash, leak or time-out. The working
# corpus grows in $FUZZ_BUILD/fuzz-work/<target>/corpus, seeded from
# tests/fuzz/corpus/<target>; findings land in .../artifacts/. Targets:
# flow connection expr expr_doc webhook_probe webhook_amis_kho
# webhook_amis_crm webhook_misa_amis misa_callback.
set -euo pipefail

[ $# -ge 1 ] || { sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/fuzz/fuzz_env.sh"
dir=${FUZZ_BUILD:-$root/build-fuzz}
secs=${2:-600}
jobs=${3:-1}
targets=("$1")
[ "$1" = all ] && targets=("${fuzz_targets[@]}")

fuzz_build "$dir"
fuzz_sanitizer_env
export TMPDIR=$dir/fuzz-work/tmp
mkdir -p "$TMPDIR"
for t in "${targets[@]}"; do
	[ -x "$dir/tests/fuzz/fuzz_$t" ] || { echo "no target $t" >&2; exit 2; }
	work=$(fuzz_work "$dir/fuzz-work" "$t")
	echo "fuzz_$t: ${secs} s, $jobs job(s); log $work/log"
	fuzz_run "$dir" "$t" "$work" -fork="$jobs" -ignore_crashes=1 \
		-ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$secs" ||
		true
	tail -n 3 "$work/log"
	ls "$work/artifacts"
done
