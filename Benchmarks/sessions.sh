#!/usr/bin/env bash
# Many sessions on one node (issue #15, "many sessions"): node A holds N sessions of a few
# entries each, node B starts empty and dials A. The script reports how long until B holds every
# line and until both nodes' progress records stop changing, the most descriptors and threads
# each node had meanwhile (sampled from /proc), and then, with both idle, each node's CPU time
# over a while, its descriptors, threads and RSS. The same run with one session gives the
# baseline for the memory each idle session costs.
#
#   Benchmarks/sessions.sh                                   # 1,000 sessions, release build
#   OPLOG_BENCH_SESSIONS=200 OPLOG_BENCH_IDLE_SECONDS=10 Benchmarks/sessions.sh   # quicker
#   OPLOG_BENCH_BINARY=.build/debug/oplog-sync Benchmarks/sessions.sh   # an existing binary
#
# Sizes: OPLOG_BENCH_SESSIONS (1000), OPLOG_BENCH_SESSION_LINES (5 per session),
# OPLOG_BENCH_IDLE_SECONDS (30), OPLOG_BENCH_SESSIONS_TIMEOUT (600 s for each wait). Nothing is
# asserted: the exit status says only whether it ran. Everything goes under one temporary
# folder, removed however the run ends; the nodes are stopped by pid.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
sessions="${OPLOG_BENCH_SESSIONS:-1000}"
per_session="${OPLOG_BENCH_SESSION_LINES:-5}"
idle_seconds="${OPLOG_BENCH_IDLE_SECONDS:-30}"
timeout_seconds="${OPLOG_BENCH_SESSIONS_TIMEOUT:-600}"

bench=sessions
node_log_level=info
# shellcheck source=Benchmarks/nodes.sh
source "$here/nodes.sh"
for setting in sessions per_session idle_seconds timeout_seconds; do
    [[ "${!setting}" =~ ^[1-9][0-9]*$ ]] || fail "$setting must be a positive integer, not '${!setting}'"
done
command -v python3 >/dev/null 2>&1 || fail "python3 is required (it writes the logs); it is not on PATH"

make_work

# shellcheck source=Benchmarks/release-binary.sh
source "$here/release-binary.sh"

status_field() { # PID FIELD (kB)
    awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}
descriptors() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
threads() { find "/proc/$1/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# run COUNT: one measurement; sets idle_rss_a and idle_rss_b (kB).
run() {
    local count="$1" dir="$work/run-$1"
    local a="$dir/A" b="$dir/B"
    mkdir -p "$a" "$b"
    python3 - "$a" "$count" "$per_session" <<'PY'
import json, os, sys, uuid
root, count, per_session = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for number in range(count):
    folder = os.path.join(root, ".muse", "op_log", f"session-{number:05d}")
    os.makedirs(folder)
    previous = None
    with open(os.path.join(folder, "ops.jsonl"), "w") as out:
        for index in range(per_session):
            op_id = str(uuid.uuid4())
            entry = {
                "op_id": op_id, "actor_id": "writer-a", "lamport_ts": index + 1,
                "parent_op_ids": [previous] if previous else [], "domain": "music",
                "domain_op": {"op": "insert", "seq": index, "pitch": 60 + index % 12},
                "created_at": "2026-12-03T00:00:00+00:00", "intent_id": "", "reservation_id": "",
            }
            out.write(json.dumps(entry, separators=(",", ":")) + "\n")
            previous = op_id
PY
    local lines=$((count * per_session))
    local id_a id_b
    id_a=$("$binary" id --root "$a") || fail "oplog-sync id failed for A"
    id_b=$("$binary" id --root "$b") || fail "oplog-sync id failed for B"
    start_node "$a" --accept "$id_b"
    local a_pid="${pids[-1]}"
    local port
    port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$a.out" | head -1)
    local began
    began=$(seconds)
    start_node "$b" --peer "$id_a@127.0.0.1:$port"
    local b_pid="${pids[-1]}"
    local most_fds_a=0 most_fds_b=0 most_threads_a=0 most_threads_b=0
    sample() {
        local value
        value=$(descriptors "$a_pid") && ((value > most_fds_a)) && most_fds_a=$value
        value=$(descriptors "$b_pid") && ((value > most_fds_b)) && most_fds_b=$value
        value=$(threads "$a_pid") && ((value > most_threads_a)) && most_threads_a=$value
        value=$(threads "$b_pid") && ((value > most_threads_b)) && most_threads_b=$value
        return 0
    }
    local deadline=$(($(date +%s) + timeout_seconds)) have=0
    while :; do
        sample
        have=$(find "$b/.muse/op_log" -name ops.jsonl -exec cat {} + 2>/dev/null | wc -l)
        ((have >= lines)) && break
        (($(date +%s) < deadline)) || fail "B has $have of $lines lines after $timeout_seconds s"
        kill -0 "$b_pid" 2>/dev/null || fail "B exited: $(tail -3 "$b.log")"
        sleep 0.2
    done
    local replicated
    replicated=$(seconds)
    # Settled: neither progress record has changed for 3 s.
    local last="" same=0 now
    deadline=$(($(date +%s) + timeout_seconds))
    while ((same < 15)); do
        sample
        now=$(stat -c %Y.%s "$a/.muse/sync/progress.json" "$b/.muse/sync/progress.json" 2>/dev/null | tr '\n' ' ' || true)
        if [[ "$now" == "$last" ]]; then same=$((same + 1)); else same=0 last="$now"; fi
        (($(date +%s) < deadline)) || fail "the progress records still change after $timeout_seconds s"
        sleep 0.2
    done
    local settled
    settled=$(seconds)
    local tick_rate a0 b0
    tick_rate=$(getconf CLK_TCK)
    a0=$(cpu_ticks "$a_pid")
    b0=$(cpu_ticks "$b_pid")
    sleep "$idle_seconds"
    local a_cpu=$((($(cpu_ticks "$a_pid") - a0) * 1000 / tick_rate))
    local b_cpu=$((($(cpu_ticks "$b_pid") - b0) * 1000 / tick_rate))
    idle_rss_a=$(status_field "$a_pid" VmRSS)
    idle_rss_b=$(status_field "$b_pid" VmRSS)
    echo "== $count session(s) of $per_session lines: B holds all $lines lines after $(echo "$replicated - $began" | bc) s;" \
        "progress settled after $(echo "$settled - $began" | bc) s"
    echo "   most descriptors meanwhile: A $most_fds_a, B $most_fds_b; most threads: A $most_threads_a, B $most_threads_b"
    echo "   idle for $idle_seconds s: CPU A $a_cpu ms, B $b_cpu ms;" \
        "descriptors A $(descriptors "$a_pid"), B $(descriptors "$b_pid");" \
        "threads A $(threads "$a_pid"), B $(threads "$b_pid");" \
        "RSS A $((idle_rss_a / 1024)) MiB, B $((idle_rss_b / 1024)) MiB"
    stop_nodes
    rm -rf "$dir"
}

run 1
base_a=$idle_rss_a base_b=$idle_rss_b
if ((sessions > 1)); then
    run "$sessions"
    echo "== memory per idle session (RSS over the one-session run): A $(((idle_rss_a - base_a) / (sessions - 1))) kB," \
        "B $(((idle_rss_b - base_b) / (sessions - 1))) kB"
fi
