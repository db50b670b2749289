#!/usr/bin/env bash
# Builds everything with AddressSanitizer and UndefinedBehaviorSanitizer
# and runs every test: unit, SDK, sandbox contract, integration, torture
# and browser tests, then the libFuzzer harnesses for a bounded time.
# Arguments go to ctest (e.g. -R unit) and then skip the fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
build=${LUONG_TEST_BUILD:-build-test}
cmake -S . -B "$build" -DLUONG_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j"$(nproc)"

# Leak reports fail the run; UBSan findings abort the test that hit them.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# known leaks of system libraries, each named (libjq 1.6 only, for now)
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
status=0
(cd "$build" && ctest --output-on-failure --timeout 600 "$@") || status=$?

# libFuzzer harnesses, their own clang build (tests/fuzz/README.md)
if [ $# -eq 0 ]; then
  bash tests/fuzz/run_ci.sh "${LUONG_FUZZ_BUILD:-build-fuzz-ci}" \
    "${LUONG_FUZZ_SECONDS:-15}" || status=$?
fi

# Each Check runner's own summary line, so it is visible in CI output.
echo "Check summaries:"
grep -h -E "^[0-9]+%: Checks: " "$build/Testing/Temporary/LastTest.log" || true
exit $status
