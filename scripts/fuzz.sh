#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (with AddressSanitizer) and runs each for a number of
# inputs, starting from the committed seed corpus in Fuzz/Corpus/<target>/.
#
#   scripts/fuzz.sh                       # smoke pass: 20,000 inputs or 60 s per target (CI)
#   FUZZ_RUNS=10000000 FUZZ_MAX_TIME=86400 scripts/fuzz.sh   # the long run (README: Fuzzing)
#   scripts/fuzz.sh FuzzJSONLines         # some targets only
#   scripts/fuzz.sh --seeds               # rewrite Fuzz/Corpus/ from the targets' seed makers
#   FUZZ_CONFIGURATION=release scripts/fuzz.sh   # optimised build: about 10x the inputs per
#                                         # second of FuzzReconciliation, a longer first build
#
# FUZZ_RUNS: inputs per target (default 20000). FUZZ_MAX_TIME: seconds per target at most
# (default 60; a run stops at whichever comes first, so the smoke pass costs at most about four
# minutes after the build: FuzzReconciliation runs a whole hostile exchange per input, and
# reaches fewer inputs than the others in that time). FUZZ_SEED: libFuzzer's random seed
# (default 1, so that CI's smoke pass is the same every time; 0 picks one from the clock).
# New inputs found go to a temporary folder, not into the committed corpus. A crash or a
# violated property stops that target with a non-zero status and leaves the input in
# Fuzz/Crashes/<target>-crash-<sha1>; rerun it with `Fuzz/.build-fuzz/debug/<target> <file>`
# (or release/). The script exits non-zero if any target failed.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${FUZZ_RUNS:-20000}"
max_time="${FUZZ_MAX_TIME:-60}"
seed="${FUZZ_SEED:-1}"
configuration="${FUZZ_CONFIGURATION:-debug}"
[[ "$configuration" == debug || "$configuration" == release ]] || {
    echo "fuzz.sh: FUZZ_CONFIGURATION must be debug or release" >&2
    exit 64
}
[[ "$runs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: FUZZ_RUNS must be a whole number" >&2; exit 64; }
[[ "$max_time" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: FUZZ_MAX_TIME must be a positive number" >&2; exit 64; }
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: FUZZ_SEED must be a whole number" >&2; exit 64; }

# Each target and its longest input, in bytes: enough for the seeds and for a few frames or
# hostile messages, small enough to stay fast.
declare -A max_len=(
    [FuzzWireFrames]=16384
    [FuzzHandshake]=512
    [FuzzReconciliation]=2048
    [FuzzJSONLines]=4096
)
all_targets=(FuzzWireFrames FuzzHandshake FuzzReconciliation FuzzJSONLines)

write_seeds=false
targets=()
for argument in "$@"; do
    case "$argument" in
    --seeds) write_seeds=true ;;
    Fuzz*)
        [[ -n "${max_len[$argument]:-}" ]] || { echo "fuzz.sh: no target $argument (${all_targets[*]})" >&2; exit 64; }
        targets+=("$argument")
        ;;
    *) echo "fuzz.sh: unknown argument $argument" >&2; exit 64 ;;
    esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")

scratch=Fuzz/.build-fuzz
echo "== building ${targets[*]} with -sanitize=fuzzer,address ($scratch)"
started=$(date +%s)
build() {
    swift build --package-path Fuzz --scratch-path "$scratch" -c "$configuration" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
}
# Once more on failure: OpLogIdentity's DurableFiles.swift sometimes fails a first build from
# scratch (`stat` seen as CoreFoundation's under MemberImportVisibility, depending on which
# module built the header first) and builds on the second.
build || { echo "== the build failed; trying once more" >&2; build; }
bin="$scratch/$configuration"
echo "== built in $(( $(date +%s) - started )) s"

if $write_seeds; then
    for target in "${targets[@]}"; do
        rm -rf "Fuzz/Corpus/$target"
        mkdir -p "Fuzz/Corpus/$target"
        OPLOG_FUZZ_WRITE_SEEDS="$PWD/Fuzz/Corpus/$target" "$bin/$target"
        echo "$target: $(ls "Fuzz/Corpus/$target" | wc -l) seeds written to Fuzz/Corpus/$target"
    done
    exit 0
fi

# Allocation stacks off and a small quarantine: several times faster on these allocation-heavy
# targets (rerun a crash file with ASAN_OPTIONS= for full reports). Swift's runtime keeps
# metadata alive to the end, so leak checking at exit would only report that.
export ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=0:quarantine_size_mb=16:detect_leaks=0}"
# Swift's own crash backtracer reads memory that ASan then reports as a second, bogus crash.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"
work="$(mktemp -d /tmp/oplog-fuzz.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p Fuzz/Crashes
failed=()
for target in "${targets[@]}"; do
    mkdir -p "$work/$target"
    echo "== $target: $runs inputs at most, ${max_time} s at most, inputs up to ${max_len[$target]} bytes"
    log="$work/$target.log"
    started=$(date +%s)
    status=0
    "$bin/$target" "$work/$target" "Fuzz/Corpus/$target" \
        -runs="$runs" -max_total_time="$max_time" -max_len="${max_len[$target]}" -seed="$seed" \
        -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="Fuzz/Crashes/$target-" >"$log" 2>&1 || status=$?
    executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    elapsed=$(( $(date +%s) - started ))
    if [[ $status -ne 0 ]]; then
        failed+=("$target")
        grep -E "fuzz property violated|ERROR: |SUMMARY: |Fatal error|Test unit written" "$log" >&2 || tail -40 "$log" >&2
        echo "$target: FAILED (status $status) after ${executed:-?} inputs, ${elapsed} s; log kept in Fuzz/Crashes/$target.log" >&2
        cp "$log" "Fuzz/Crashes/$target.log"
    else
        echo "$target: ${executed:-?} inputs, no crash, ${elapsed} s, corpus $(ls "$work/$target" | wc -l) new inputs"
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]} (inputs in Fuzz/Crashes/)" >&2
    exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, no crash"
