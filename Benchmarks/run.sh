#!/usr/bin/env bash
# Builds and runs the oplog-sync benchmarks, times the Muse-like Python writer in the same run,
# and prints each measurement beside its floor, with the ratios (ours / floor, ours / Python).
#
#   Benchmarks/run.sh                 # from anywhere; installs nothing
#
# Sizes: OPLOG_BENCH_APPEND_COUNT (default 20000 entries per append iteration and per Python
# run), OPLOG_BENCH_SCAN_COUNT (default 200000 entries in the scanned log). Timings are noisy;
# the ratios are the output. Nothing is asserted: the exit status says only whether it ran.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
writer="$repo/Tests/Interop/muse_like.py"
append_count="${OPLOG_BENCH_APPEND_COUNT:-20000}"
scan_count="${OPLOG_BENCH_SCAN_COUNT:-200000}"
python_runs=3

fail() {
    echo "run.sh: $*" >&2
    exit 1
}

command -v python3 >/dev/null 2>&1 || fail "python3 is required (it runs the Muse-like writer, $writer); it is not on PATH"
command -v swift >/dev/null 2>&1 || fail "swift is required; it is not on PATH"
[[ -f "$writer" ]] || fail "the Muse-like writer is missing: $writer"
[[ "$append_count" =~ ^[1-9][0-9]*$ ]] || fail "OPLOG_BENCH_APPEND_COUNT must be a positive integer"
[[ "$scan_count" =~ ^[1-9][0-9]*$ ]] || fail "OPLOG_BENCH_SCAN_COUNT must be a positive integer"

# Everything this run writes goes under one folder, removed however the run ends; the
# benchmarks put their per-iteration roots there too (OPLOG_BENCH_TMPDIR).
work="$(mktemp -d /tmp/oplog-bench-run.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export OPLOG_BENCH_TMPDIR="$work" OPLOG_BENCH_APPEND_COUNT="$append_count" OPLOG_BENCH_SCAN_COUNT="$scan_count"

revision=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
echo "== oplog-sync at $revision"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
echo "== building and running the benchmarks (log: $work/benchmark.log, kept only on failure)"
started=$(date +%s)
if ! swift package --package-path "$here" benchmark \
    --no-progress --format histogramPercentiles --path "$work/results" >"$work/benchmark.log" 2>&1; then
    cp "$work/benchmark.log" /tmp/oplog-bench-failed.log
    tail -40 "$work/benchmark.log" >&2
    fail "the benchmarks failed; full log in /tmp/oplog-bench-failed.log"
fi
echo "   done in $(($(date +%s) - started)) s"

# The Python writer: the median of $python_runs runs of COUNT appends, minus the median of
# runs appending nothing (interpreter start and imports), so its rate is its steady rate.
now_ns() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
time_writer() { # COUNT RUN -> nanoseconds
    local root="$work/python-$1-$2" start end
    start=$(now_ns)
    python3 "$writer" write "$root" bench python-actor "$1" >/dev/null
    end=$(now_ns)
    if (($1 > 0)); then
        local lines
        lines=$(wc -l <"$root/.muse/op_log/bench/ops.jsonl")
        ((lines == $1)) || fail "the Python writer wrote $lines lines, expected $1"
    fi
    rm -rf "$root"
    echo $((end - start))
}
echo "== timing the Muse-like Python writer ($python_runs x $append_count appends)"
python_full=$(for run in $(seq "$python_runs"); do time_writer "$append_count" "$run"; done | median)
python_idle=$(for run in $(seq "$python_runs"); do time_writer 0 "$run"; done | median)

# The median (p50) of a benchmark's metric, from the histogramPercentiles export.
p50() { # TARGET BENCHMARK METRIC
    local file
    file=$(find "$work/results" -name "*.$1.$2.$3.histogram.percentiles.tsv" | head -1)
    [[ -n "$file" ]] || fail "no $3 result for $1 / $2 in $work/results"
    awk -F'\t' '$1 == "50" { print $2 }' "$file"
}

append_lines=$(p50 Append OpLog.append linesPerSecond)
floor_write_lines=$(p50 Append floor.write linesPerSecond)
make_lines=$(p50 Append part.OpEntry.make linesPerSecond)
session_append_lines=$(p50 Append part.SessionLog.append linesPerSecond)
foreign_clock_lines=$(p50 Append part.LamportClock.foreignAppend linesPerSecond)
scan_bytes=$(p50 Scan SessionLog.scan bytesPerSecond)
scan_lines=$(p50 Scan SessionLog.scan linesPerSecond)
floor_read_bytes=$(p50 Scan floor.readSplit bytesPerSecond)
floor_read_lines=$(p50 Scan floor.readSplit linesPerSecond)

awk -v count="$append_count" -v scanCount="$scan_count" \
    -v pyFull="$python_full" -v pyIdle="$python_idle" \
    -v append="$append_lines" -v floorWrite="$floor_write_lines" \
    -v make="$make_lines" -v sessionAppend="$session_append_lines" -v foreignClock="$foreign_clock_lines" \
    -v scanB="$scan_bytes" -v scanL="$scan_lines" -v floorB="$floor_read_bytes" -v floorL="$floor_read_lines" '
function rate(v, unit) {
    if (v >= 1e9) return sprintf("%.2f G%s", v / 1e9, unit)
    if (v >= 1e6) return sprintf("%.2f M%s", v / 1e6, unit)
    if (v >= 1e3) return sprintf("%.1f k%s", v / 1e3, unit)
    return sprintf("%.0f %s", v, unit)
}
function us(v) { return sprintf("%.2f us", 1e6 / v) }
BEGIN {
    python = count / ((pyFull - pyIdle) / 1e9)
    printf "\n== results (medians; %d appends per iteration, %d-entry log scanned)\n\n", count, scanCount
    fmt = "%-44s %14s %14s %11s %11s %9s\n"
    printf fmt, "measurement", "ours", "floor", "ours/floor", "ours/python", "target"
    printf fmt, "append: OpLog.append, lines/s", rate(append, "/s"), rate(floorWrite, "/s"), \
        sprintf("%.4f", append / floorWrite), sprintf("%.2f", append / python), "python>=5"
    printf fmt, "append: muse_like.py write, lines/s", rate(python, "/s"), rate(floorWrite, "/s"), \
        sprintf("%.4f", python / floorWrite), "1.00", ""
    printf fmt, "scan: SessionLog.scan, bytes/s", rate(scanB, "B/s"), rate(floorB, "B/s"), \
        sprintf("%.4f", scanB / floorB), "", "floor>=0.25"
    printf fmt, "scan: SessionLog.scan, lines/s", rate(scanL, "/s"), rate(floorL, "/s"), \
        sprintf("%.4f", scanL / floorL), "", ""
    printf "\n-- where an append goes (time per entry)\n"
    pfmt = "%-52s %12s %12s\n"
    printf pfmt, "", "per entry", "lines/s"
    printf pfmt, "OpLog.append, the whole", us(append), rate(append, "/s")
    printf pfmt, "  OpEntry.make alone (content id, line; no I/O)", us(make), rate(make, "/s")
    printf pfmt, "  the rest: clock and file (whole - make)", sprintf("%.2f us", 1e6 / append - 1e6 / make), ""
    printf pfmt, "floor: write(2) per line", us(floorWrite), rate(floorWrite, "/s")
    printf pfmt, "muse_like.py write (startup excluded)", us(python), rate(python, "/s")
    printf pfmt, "stateless SessionLog.append, one line per call", us(sessionAppend), rate(sessionAppend, "/s")
    printf pfmt, "stateless LamportClock.next per foreign line", \
        sprintf("%.2f us", 1e6 / foreignClock - 1e6 / floorWrite), ""
    printf "\npython: median %.3f s for %d appends, %.3f s for none (startup)\n", pyFull / 1e9, count, pyIdle / 1e9
}'
echo
echo "== total $(($(date +%s) - started)) s"
