#!/usr/bin/env bash
# A fresh replica joins a node that already holds a large log (issue #5, "bounded backlog"):
# node A indexes N entries at startup, node B starts empty and dials A, and the script waits
# until B's file holds all N lines. It reports the time, the rate, and each node's peak RSS
# (VmHWM, sampled from /proc while it runs and read again at the end).
#
#   Benchmarks/backlog.sh                                   # 1,000,000 entries, release build
#   OPLOG_BENCH_BACKLOG_LINES=200000 Benchmarks/backlog.sh  # quicker
#   OPLOG_BENCH_BINARY=.build/debug/oplog-sync Benchmarks/backlog.sh   # an existing binary, no build
#
# Nothing is asserted: the exit status says only whether it ran. Everything goes under one
# temporary folder, removed however the run ends; the nodes are stopped by pid.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
lines="${OPLOG_BENCH_BACKLOG_LINES:-1000000}"
timeout_seconds="${OPLOG_BENCH_BACKLOG_TIMEOUT:-1800}"

fail() {
    echo "backlog.sh: $*" >&2
    exit 1
}
[[ "$lines" =~ ^[1-9][0-9]*$ ]] || fail "OPLOG_BENCH_BACKLOG_LINES must be a positive integer, not '$lines'"
command -v python3 >/dev/null 2>&1 || fail "python3 is required (it writes the log); it is not on PATH"

work="$(mktemp -d /tmp/oplog-bench-backlog.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# shellcheck source=Benchmarks/release-binary.sh
source "$here/release-binary.sh"

session="backlog"
mkdir -p "$work/A/.muse/op_log/$session" "$work/B"
echo "== writing $lines entries (UUID ids, each the child of the one before, as a live session is)"
python3 - "$work/A/.muse/op_log/$session/ops.jsonl" "$lines" <<'PY'
import json, sys, uuid
path, count = sys.argv[1], int(sys.argv[2])
previous = None
with open(path, "w") as out:
    for index in range(count):
        op_id = str(uuid.uuid4())
        entry = {
            "op_id": op_id, "actor_id": "writer-a", "lamport_ts": index + 1,
            "parent_op_ids": [previous] if previous else [], "domain": "music",
            "domain_op": {"op": "insert", "seq": index, "pitch": 60 + index % 12, "text": "café ♫"},
            "created_at": "2026-11-26T00:00:00+00:00", "intent_id": "", "reservation_id": "",
        }
        out.write(json.dumps(entry, separators=(",", ":")) + "\n")
        previous = op_id
PY
bytes=$(stat -c %s "$work/A/.muse/op_log/$session/ops.jsonl")
echo "   $bytes bytes"

start_node() { # NAME ARGS...
    local name="$1"
    shift
    # The control endpoint on a free port too: two nodes cannot share its default, 7421.
    "$binary" run --root "$work/$name" --listen 127.0.0.1:0 --http 127.0.0.1:0 --log-level info "$@" \
        >"$work/$name.out" 2>"$work/$name.log" &
    pids+=("$!")
    for _ in $(seq 1 600); do
        if grep -q "^listening on " "$work/$name.out" 2>/dev/null; then return 0; fi
        kill -0 "${pids[-1]}" 2>/dev/null || fail "$name exited: $(tail -3 "$work/$name.log")"
        sleep 0.1
    done
    fail "$name did not listen within 60 s"
}
peak() { # PID
    awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}
seconds() { date +%s.%N; }

# Paired by node ID, as DESIGN §7 asks: each node's `oplog-sync id`, then --accept / --peer ID@.
id_a=$("$binary" id --root "$work/A") || fail "oplog-sync id failed for A"
id_b=$("$binary" id --root "$work/B") || fail "oplog-sync id failed for B"
began=$(seconds)
start_node A --accept "$id_b"
a_pid="${pids[0]}"
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/A.out" | head -1)
[[ -n "$port" ]] || fail "cannot read A's port from: $(cat "$work/A.out")"
# A indexes its log before it accepts the peer's entries; wait for the "indexed" log line.
for _ in $(seq 1 "$((timeout_seconds * 10))"); do
    grep -q "indexed" "$work/A.log" && break
    sleep 0.1
done
indexed=$(seconds)
echo "== A listening on port $port; indexed in $(echo "$indexed - $began" | bc) s, peak RSS $(( $(peak "$a_pid") / 1024 )) MiB"

start_node B --peer "$id_a@127.0.0.1:$port"
b_pid="${pids[1]}"
joined=$(seconds)
target="$work/B/.muse/op_log/$session/ops.jsonl"
a_peak=0
b_peak=0
have=0
deadline=$(($(date +%s) + timeout_seconds))
while :; do
    a_peak=$(( $(peak "$a_pid") > a_peak ? $(peak "$a_pid") : a_peak ))
    b_peak=$(( $(peak "$b_pid") > b_peak ? $(peak "$b_pid") : b_peak ))
    have=$( [[ -f "$target" ]] && wc -l <"$target" || echo 0)
    ((have >= lines)) && break
    (($(date +%s) < deadline)) || fail "B has $have of $lines lines after $timeout_seconds s"
    kill -0 "$b_pid" 2>/dev/null || fail "B exited: $(tail -3 "$work/B.log")"
    sleep 0.5
done
done_at=$(seconds)
elapsed=$(echo "$done_at - $joined" | bc)
echo "== B holds all $have lines after $elapsed s: $(echo "$lines / $elapsed" | bc) lines/s"
cmp -s "$work/A/.muse/op_log/$session/ops.jsonl" "$target" && same="byte-identical" || same="DIFFERENT"
echo "   B's file is $same to A's"
echo "== peak RSS: A $((a_peak / 1024)) MiB, B $((b_peak / 1024)) MiB (issue #5: 256 MiB each; issue #16: 128 MiB each, in 5 s)"
echo "== A's catch-up log lines:"
grep -E "peer catching up|peer caught up" "$work/A.log" | sed 's/^/   /' | tail -8 || true
