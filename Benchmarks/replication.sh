#!/usr/bin/env bash
# Builds oplog-sync and the replication benchmark (release, each in its own scratch folder) and
# runs it: two real `oplog-sync run` nodes on loopback, live latency and bulk rate, each beside a
# plain TCP pipe of the same bytes measured in the same run.
#
#   Benchmarks/replication.sh                                  # from anywhere; installs nothing
#   OPLOG_BENCH_LIVE_SECONDS=3 OPLOG_BENCH_BULK_LINES=20000 Benchmarks/replication.sh   # quick look
#
# Sizes: OPLOG_BENCH_LIVE_SECONDS (20), OPLOG_BENCH_LIVE_RATE (200 lines/s), OPLOG_BENCH_BULK_LINES
# (200000), OPLOG_BENCH_BULK_WRITE_BYTES (8 MiB), OPLOG_BENCH_OP_IDS (uuid | content),
# OPLOG_BENCH_LIVE_NO_FSYNC (1; 0 skips the live --no-fsync run). Nothing is asserted: the exit
# status says only whether it ran.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
main_scratch="$repo/.build-bench"
bench_scratch="$here/.build-bench"

fail() {
    echo "replication.sh: $*" >&2
    exit 1
}

command -v swift >/dev/null 2>&1 || fail "swift is required; it is not on PATH"

# Everything the run writes goes under one folder, removed however the run ends (the benchmark
# itself stops its nodes and removes its roots, also on SIGINT/SIGTERM).
work="$(mktemp -d /tmp/oplog-bench-replication.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export OPLOG_BENCH_TMPDIR="$work"

revision=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
echo "== oplog-sync at $revision"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"

build() { # WHAT LOG SWIFT-BUILD-ARGUMENTS...
    local what="$1" log="$work/$2"
    shift 2
    echo "== building $what (release; log: $log, kept only on failure)"
    if ! swift build -c release "$@" >"$log" 2>&1; then
        cp "$log" "/tmp/oplog-bench-replication-build-failed.log"
        tail -40 "$log" >&2
        fail "building $what failed; full log in /tmp/oplog-bench-replication-build-failed.log"
    fi
}
started=$(date +%s)
build "oplog-sync" build-oplog-sync.log \
    --package-path "$repo" --scratch-path "$main_scratch" --product oplog-sync
build "the replication benchmark" build-benchmark.log \
    --package-path "$here" --scratch-path "$bench_scratch" --product ReplicationBenchmark
echo "   built in $(($(date +%s) - started)) s"

binary="$(swift build -c release --package-path "$repo" --scratch-path "$main_scratch" --show-bin-path)/oplog-sync"
benchmark="$(swift build -c release --package-path "$here" --scratch-path "$bench_scratch" --show-bin-path)/ReplicationBenchmark"
# Timings on a shared 2-core machine follow whatever else runs: the load says how much did.
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# In the background, so that a SIGTERM or SIGINT to this script reaches it at once (it then
# stops its own nodes, by pid, and removes its roots) rather than after it finished.
"$benchmark" --oplog-sync "$binary" &
benchmark_pid=$!
trap 'kill -TERM "$benchmark_pid" 2>/dev/null || true' INT TERM HUP
status=0
wait "$benchmark_pid" || status=$?
if kill -0 "$benchmark_pid" 2>/dev/null; then # the wait was cut short by a signal
    status=0
    wait "$benchmark_pid" || status=$?
fi
((status == 0)) || fail "the benchmark ended with status $status"
echo
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== total $(($(date +%s) - started)) s"
