#!/usr/bin/env bash
# Makes docs/status-page.png: the status page of a node ("studio") with several sessions and two
# peers, one up to date ("laptop") and one in the middle of a catch-up ("backup"), as headless
# Chromium renders it. Everything runs on loopback in a temporary folder and is stopped at the
# end, after printing the same node's `oplog-sync status`. Needs a built oplog-sync (swift build), chromium and python3 (scripts/setup.sh).
#
#   bash scripts/status-screenshot.sh [OUTPUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-docs/status-page.png}
bin=${OPLOG_TEST_BINARY:-$(swift build --show-bin-path)/oplog-sync}
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# lines ROOT SESSION COUNT ACTOR: writes COUNT Muse-shaped entries into ROOT's SESSION.
lines() {
    python3 - "$1" "$2" "$3" "$4" <<'EOF'
import json, os, sys, uuid
root, session, count, actor = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
folder = os.path.join(root, ".muse", "op_log", session)
os.makedirs(folder, exist_ok=True)
with open(os.path.join(folder, "ops.jsonl"), "a") as log:
    for index in range(1, count + 1):
        entry = {"op_id": str(uuid.uuid4()), "actor_id": actor, "lamport_ts": index, "parent_op_ids": [],
                 "domain": "music", "domain_op": {"op": "insert", "pitch": 60 + index % 12},
                 "created_at": "2026-12-01T10:00:00+00:00", "intent_id": "", "reservation_id": ""}
        log.write(json.dumps(entry, separators=(",", ":")) + "\n")
EOF
}

# start NAME [run options...]: starts a daemon; sets $port and $http to its addresses' ports.
start() {
    local name=$1
    shift
    mkdir -p "$work/$name"
    "$bin" run --root "$work/$name" --listen 127.0.0.1:0 --http 127.0.0.1:0 \
        --log-level warning "$@" >"$work/$name.out" 2>"$work/$name.log" &
    pids+=($!)
    for _ in $(seq 300); do
        http=$(sed -n 's/^http on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/$name.out")
        [[ -n "$http" ]] && break
        sleep 0.1
    done
    [[ -n "$http" ]] || { cat "$work/$name.log" >&2; echo "screenshot: $name did not start" >&2; exit 1; }
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/$name.out")
}

# field HTTP_PORT EXPRESSION: evaluates a Python expression over the node's /status as `s`.
field() {
    python3 -c "import json, sys, urllib.request; s = json.load(urllib.request.urlopen('http://127.0.0.1:$1/status')); print($2)"
}

mkdir -p "$work/studio"
lines "$work/studio" song-intro 1240 alice
lines "$work/studio" song-verse 862 bob
lines "$work/studio" lyrics 57 carol
lines "$work/studio" drums-take-3 400000 drum-agent
"$bin" checkpoint --root "$work/studio" --session song-intro --snapshot snap-2026-12-01 >/dev/null
"$bin" checkpoint --root "$work/studio" --session lyrics --snapshot draft-4 >/dev/null

# Nodes are paired by ID (`oplog-sync id`); each folder's identity is made once.
mkdir -p "$work/laptop" "$work/backup"
studio_id=$("$bin" id --root "$work/studio")
laptop_id=$("$bin" id --root "$work/laptop")
backup_id=$("$bin" id --root "$work/backup")
start studio --accept "$laptop_id" --accept "$backup_id"
studio_port=$port studio_http=$http
start laptop --peer "$studio_id@127.0.0.1:$studio_port"
for _ in $(seq 600); do
    [[ "$(field "$studio_http" "[p['lag_entries'] for p in s['peers'] if p['id'] == '$laptop_id'] == [0]")" == True ]] && break
    sleep 0.2
done

start backup --peer "$studio_id@127.0.0.1:$studio_port"
backup_pid=${pids[-1]}
# Freeze the backup a third of the way through its catch-up, so the picture shows one.
for _ in $(seq 600); do
    done_part=$(field "$studio_http" "next((p['catch_up'] or {}).get('done', 0) / max(1, (p['catch_up'] or {}).get('total', 1)) for p in s['peers'] if p['id'] == '$backup_id')")
    python3 -c "import sys; sys.exit(0 if $done_part > 0.33 else 1)" && break
    sleep 0.05
done
kill -STOP "$backup_pid"

mkdir -p "$(dirname "$out")"
chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --user-data-dir="$work/chromium" --hide-scrollbars --window-size=1280,600 \
    --virtual-time-budget=1500 --screenshot="$out" "http://127.0.0.1:$studio_http/" 2>/dev/null
echo "wrote $out"
# The same moment as `oplog-sync status` shows it.
"$bin" status --http "127.0.0.1:$studio_http"
