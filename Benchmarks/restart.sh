#!/usr/bin/env bash
# Restarting a node that holds a large log (issue #5, item 1): the node indexes N entries once
# (writing its entry index in the state folder), is stopped, then started three times:
#   - with its index: it restores the entries and reads no line;
#   - with its index, after 1,000 lines were appended while it was down: it reads only those;
#   - without its index (removed): it reads and verifies every line again, and rebuilds it.
# Each start reports the time until the `indexed` log line and the peak RSS, from
# `/usr/bin/time -v` ("Maximum resident set size") after a SIGTERM.
#
#   Benchmarks/restart.sh                                   # 1,000,000 entries, release build
#   OPLOG_BENCH_RESTART_LINES=200000 Benchmarks/restart.sh  # quicker
#   OPLOG_BENCH_BINARY=.build/release/oplog-sync Benchmarks/restart.sh   # an existing binary
#
# Nothing is asserted. Everything goes under one temporary folder, removed however the run ends;
# the node is stopped by pid.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
lines="${OPLOG_BENCH_RESTART_LINES:-1000000}"

fail() {
    echo "restart.sh: $*" >&2
    exit 1
}
[[ "$lines" =~ ^[1-9][0-9]*$ ]] || fail "OPLOG_BENCH_RESTART_LINES must be a positive integer, not '$lines'"
command -v python3 >/dev/null 2>&1 || fail "python3 is required (it writes the log); it is not on PATH"
[[ -x /usr/bin/time ]] || fail "/usr/bin/time is required (GNU time, for the peak RSS)"

work="$(mktemp -d /tmp/oplog-bench-restart.XXXXXX)"
pid=""
cleanup() {
    if [[ -n "$pid" ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# shellcheck source=Benchmarks/release-binary.sh
source "$here/release-binary.sh"

session="restart"
log="$work/A/.muse/op_log/$session/ops.jsonl"
mkdir -p "$(dirname "$log")"
write_entries() { # COUNT FIRST_LAMPORT MODE
    python3 - "$log" "$1" "$2" "$3" <<'PY'
import json, sys, uuid
path, count, first, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(path, mode) as out:
    for index in range(count):
        entry = {
            "op_id": str(uuid.uuid4()), "actor_id": "writer-a", "lamport_ts": first + index,
            "parent_op_ids": [], "domain": "music",
            "domain_op": {"op": "insert", "seq": index, "pitch": 60 + index % 12, "text": "café ♫"},
            "created_at": "2026-11-26T00:00:00+00:00", "intent_id": "", "reservation_id": "",
        }
        out.write(json.dumps(entry, separators=(",", ":")) + "\n")
PY
}
echo "== writing $lines entries"
write_entries "$lines" 1 w
echo "   $(stat -c %s "$log") bytes"

seconds() { date +%s.%N; }
run=0
# Starts the node, waits for its `indexed` line, stops it; prints the time and the peak RSS.
start_and_stop() { # LABEL
    run=$((run + 1))
    local began indexed
    began=$(seconds)
    /usr/bin/time -v -o "$work/time-$run.txt" \
        "$binary" run --root "$work/A" --listen 127.0.0.1:0 --http 127.0.0.1:0 --log-level info \
        >"$work/out-$run.txt" 2>"$work/log-$run.txt" &
    pid=$!
    until grep -q "from_index=" "$work/log-$run.txt" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || fail "the node exited: $(tail -3 "$work/log-$run.txt")"
        sleep 0.05
    done
    indexed=$(seconds)
    # `time` runs the node as its child: signal the node, then wait for `time`.
    pkill -TERM -P "$pid" -x oplog-sync || kill -TERM "$pid"
    wait "$pid" || true
    pid=""
    local rss
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time-$run.txt")
    echo "== $1: indexed after $(echo "$indexed - $began" | bc) s, peak RSS $((rss / 1024)) MiB"
    grep -o 'entries=[0-9]* .*lines_read=[0-9]*' "$work/log-$run.txt" | sed 's/^/   /' || true
    grep "entry index does not match" "$work/log-$run.txt" | sed 's/^/   /' || true
}

start_and_stop "first start, no index (reads the log, writes the index)"
echo "   index: $(stat -c %s "$work/A/.muse/sync/index/$session.idx") bytes"
start_and_stop "restart with the index"
write_entries 1000 "$((lines + 1))" a
start_and_stop "restart with the index, 1,000 lines appended while down"
rm "$work/A/.muse/sync/index/$session.idx"
start_and_stop "restart without the index (rebuild)"
