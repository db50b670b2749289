# fuzz_env.sh - sourced by tests/fuzz/run_ci.sh and scripts/fuzz.sh: the
# fuzz configuration's build and the sanitizer settings of every run.

fuzz_src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fuzz_root=$(cd "$fuzz_src/../.." && pwd)

# Every target, in the order they run.
fuzz_targets=(flow connection expr expr_doc webhook_probe webhook_amis_kho
	      webhook_amis_crm webhook_misa_amis misa_callback webhook_haravan
	      webhook_mobiwork_dms)

# fuzz_build DIR: configures (clang, LUONG_FUZZ=ON) and builds the harnesses.
fuzz_build() {
	local dir=$1 launcher=()

	command -v ccache >/dev/null &&
		launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache)
	export CCACHE_NOHASHDIR=1
	cmake -S "$fuzz_root" -B "$dir" -DCMAKE_C_COMPILER=clang \
		-DLUONG_FUZZ=ON -DLUONG_BUILD_TESTS=OFF \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
	cmake --build "$dir" --target fuzz -j "${FUZZ_BUILD_JOBS:-2}" >/dev/null
}

# Leaks on, UB fatal. lsan.supp lets libjq 1.6's own leaks through (its
# parser's, and a member of an object when an error stops `.[]` over it):
# their stacks end inside libjq, so a jq value the host forgot to free would
# pass too; the host's other leaks (cJSON, malloc) still fail the run.
fuzz_sanitizer_env() {
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	export LSAN_OPTIONS=suppressions=$fuzz_src/lsan.supp:print_suppressions=0
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	export LUONG_FUZZ_LOG=${LUONG_FUZZ_LOG:-4}
}

# fuzz_work BASE TARGET: a working corpus in BASE/TARGET, seeded from
# the tree's.
fuzz_work() {
	local work=$1/$2

	mkdir -p "$work/corpus" "$work/artifacts"
	cp -n "$fuzz_src/corpus/$2/"* "$work/corpus/" 2>/dev/null || true
	echo "$work"
}

# fuzz_run DIR TARGET WORK [libFuzzer flags...]: one run of a harness on
# its working corpus, with the flags every run shares; output to WORK/log.
fuzz_run() {
	local dir=$1 t=$2 work=$3 dict=()

	shift 3
	[ -f "$fuzz_src/dict/$t.dict" ] && dict=(-dict="$fuzz_src/dict/$t.dict")
	"$dir/tests/fuzz/fuzz_$t" "$@" "${dict[@]}" -timeout=10 \
		-rss_limit_mb=2048 -max_len=8192 -close_fd_mask=2 \
		-artifact_prefix="$work/artifacts/" "$work/corpus" \
		>"$work/log" 2>&1
}
