#!/usr/bin/env bash
# Where the sender's and the receiver's CPU goes (issue #16), sampled with `perf` on the machine
# itself: unlike callgrind (Benchmarks/instructions.sh), which runs the code on valgrind's CPU,
# this sees the instructions the daemon really runs. Valgrind hides SHA-NI (CPUID leaf 7, EBX
# bit 29 reads 0 under it), so BoringSSL takes its AVX path for SHA-256 there; here it takes
# the SHA extensions when the processor has them.
#
#   Benchmarks/profile.sh                                # release build, 200,000 lines
#   OPLOG_BENCH_PROFILE_LINES=50000 Benchmarks/profile.sh
#   OPLOG_BENCH_OP_IDS=content Benchmarks/profile.sh     # sha256: op ids, verified on receipt
#
# Two nodes linked over TLS (paired by ID); once linked, both are sampled (`perf record`, the
# software cpu-clock at 999 Hz, so it works in VMs without hardware counters), the lines are
# appended to A's log in one write (a large Muse append), and sampling stops when B holds them
# all and both fell quiet. Printed: each side's CPU per line (user and system time from
# /proc/PID/stat over the transfer), and each side's costliest functions by samples of their own.
#
# Settings: OPLOG_BENCH_PROFILE_LINES (200000), OPLOG_BENCH_OP_IDS (uuid | content),
# OPLOG_BENCH_PROFILE_TOP (20 functions each side), OPLOG_BENCH_PROFILE_TIMEOUT (600 s for each
# wait), OPLOG_BENCH_PROFILE_KEEP (a folder to copy the samples to, A.perf and B.perf, for
# `perf report -i` with call graphs), OPLOG_BENCH_BINARY. Needs perf and python3. Nothing is asserted; everything goes under
# one temporary folder, removed however the run ends; the nodes and perf are stopped by pid.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
lines="${OPLOG_BENCH_PROFILE_LINES:-200000}"
op_ids="${OPLOG_BENCH_OP_IDS:-uuid}"
top="${OPLOG_BENCH_PROFILE_TOP:-20}"
timeout_seconds="${OPLOG_BENCH_PROFILE_TIMEOUT:-600}"
keep="${OPLOG_BENCH_PROFILE_KEEP:-}"

bench=profile
node_log_level=info
# shellcheck source=Benchmarks/nodes.sh
source "$here/nodes.sh"
for setting in lines top timeout_seconds; do
    [[ "${!setting:-}" =~ ^[1-9][0-9]*$ ]] || fail "$setting must be a positive integer, not '${!setting:-}'"
done
[[ "$op_ids" == uuid || "$op_ids" == content ]] || fail "OPLOG_BENCH_OP_IDS must be uuid or content, not '$op_ids'"
command -v perf >/dev/null 2>&1 || fail "perf is required (apt-get install linux-perf); it is not on PATH"
command -v python3 >/dev/null 2>&1 || fail "python3 is required (it writes the log); it is not on PATH"

make_work
# shellcheck source=Benchmarks/release-binary.sh
source "$here/release-binary.sh"
node_start_seconds=$timeout_seconds

# The samplers, stopped (SIGINT, so that each writes its file) before the nodes.
samplers=()
stop_samplers() {
    for pid in "${samplers[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
    for pid in "${samplers[@]}"; do wait "$pid" 2>/dev/null || true; done
    samplers=()
}
trap 'stop_samplers; stop_nodes; rm -rf "$work"' EXIT

a="$work/A" b="$work/B"
mkdir -p "$a/.muse/op_log/bench" "$b"
echo "== writing $lines lines ($op_ids op ids)"
write_muse_lines "$work/lines" "$lines" "$op_ids"
a_id=$("$binary" id --root "$a") && b_id=$("$binary" id --root "$b") || fail "oplog-sync id failed"
start_node "$a" --accept "$b_id"
a_pid=${pids[-1]}
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$a.out" | head -1)
start_node "$b" --peer "$a_id@127.0.0.1:$port"
b_pid=${pids[-1]}
deadline=$(($(date +%s) + timeout_seconds))
until grep -q "peer connected" "$a.log" && grep -q "peer connected" "$b.log"; do
    (($(date +%s) < deadline)) || fail "A and B did not link"
    sleep 0.2
done

for side in A B; do
    pid=$a_pid
    [[ $side == B ]] && pid=$b_pid
    perf record -q -e cpu-clock -F 999 -g -p "$pid" -o "$work/$side.perf" >"$work/$side.perf.log" 2>&1 &
    samplers+=("$!")
done
sleep 1 # perf attaches
a_before=$(cpu_ticks "$a_pid") b_before=$(cpu_ticks "$b_pid")
started=$(seconds)
cat "$work/lines" >>"$a/.muse/op_log/bench/ops.jsonl"
file="$b/.muse/op_log/bench/ops.jsonl"
until [[ -f "$file" ]] && (($(wc -l <"$file") >= lines)); do
    (($(date +%s) < deadline + timeout_seconds)) || fail "B holds $(wc -l <"$file" 2>/dev/null || echo 0) of $lines lines"
    sleep 0.1
done
arrived=$(seconds)
# Acknowledgements and progress records settle: both quiet for a second.
quiet=0
while ((quiet < 2)); do
    a_now=$(cpu_ticks "$a_pid") b_now=$(cpu_ticks "$b_pid")
    sleep 0.5
    if (($(cpu_ticks "$a_pid") == a_now && $(cpu_ticks "$b_pid") == b_now)); then quiet=$((quiet + 1)); else quiet=0; fi
done
a_after=$(cpu_ticks "$a_pid") b_after=$(cpu_ticks "$b_pid")
stop_samplers
cmp -s "$work/lines" "$file" || fail "B's log is not the lines appended to A's, byte for byte"
ticks=$(getconf CLK_TCK)
if [[ -n "$keep" ]]; then
    mkdir -p "$keep" && cp "$work/A.perf" "$work/B.perf" "$keep/" || fail "cannot copy the samples to $keep"
fi

echo "== oplog-sync profile, $lines lines, $op_ids op ids: in B after $(python3 -c "print(f'{$arrived - $started:.2f}')") s"
for side in A B; do
    if [[ $side == A ]]; then used=$((a_after - a_before)) role="sender"; else used=$((b_after - b_before)) role="receiver"; fi
    echo
    echo "== $side ($role): $(python3 -c "print(f'{$used / $ticks * 1e6 / $lines:.2f}')") µs of CPU per line" \
        "(user and system, $used ticks of 1/$ticks s); its $top costliest functions by own samples"
    perf report -i "$work/$side.perf" --no-children --sort symbol --stdio -g none --percent-limit 0.3 2>/dev/null |
        grep -E '^ +[0-9.]+%' | awk -v n="$top" 'NR <= n' | sed -E 's/ +\[\.\] / /; s/ +\[k\] / [kernel] /' |
        if command -v swift >/dev/null 2>&1; then swift demangle --simplified; else cat; fi | cut -c1-150
done
