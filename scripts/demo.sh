#!/usr/bin/env bash
# Live replication between two nodes on loopback: two scratch Muse repositories (studio and
# laptop), one `oplog-sync run` daemon on each, peered with each other. Writers on both sides
# (oplog-sync's own `append` and a Muse-like Python writer) append to the same session; the
# demo shows both files converge byte for byte, a checkpoint crossing over, and a clean stop.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
swift build --product oplog-sync >&2
bin="$(swift build --show-bin-path)/oplog-sync"
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

studio="$work/studio" laptop="$work/laptop"
mkdir -p "$studio" "$laptop"

# start NAME ROOT [run options...]: starts a daemon on free ports (peers and control endpoint);
# sets $port and $http to them.
start() {
    local name=$1 root=$2
    shift 2
    "$bin" run --root "$root" --listen 127.0.0.1:0 --http 127.0.0.1:0 --log-level info "$@" \
        >"$work/$name.out" 2>"$work/$name.log" &
    pids+=($!)
    for _ in $(seq 100); do
        http=$(sed -n 's/^http on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/$name.out" 2>/dev/null || true)
        [[ -n "$http" ]] && break
        sleep 0.1
    done
    [[ -n "$http" ]] || { cat "$work/$name.log" >&2; echo "demo: $name did not start" >&2; exit 1; }
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/$name.out")
    echo "$name: listening on 127.0.0.1:$port, status page on http://127.0.0.1:$http/ (log: $work/$name.log)"
}

# converge SESSION: waits until both replicas hold the same lines (any order), up to 30 s.
converge() {
    local a="$studio/.muse/op_log/$1/ops.jsonl" b="$laptop/.muse/op_log/$1/ops.jsonl"
    for _ in $(seq 300); do
        if [[ -f "$a" && -f "$b" ]] && cmp -s <(sort "$a") <(sort "$b"); then return 0; fi
        sleep 0.1
    done
    echo "demo: the replicas did not converge" >&2
    exit 1
}

say "# pairing: each machine's node ID (made once, kept in .muse/sync/identity/)"
say "oplog-sync id --root STUDIO"
studio_id=$("$bin" id --root "$studio")
echo "$studio_id"
say "oplog-sync id --root LAPTOP"
laptop_id=$("$bin" id --root "$laptop")
echo "$laptop_id"
say "oplog-sync run --root STUDIO --listen 127.0.0.1:0 --http 127.0.0.1:0 --accept $laptop_id &"
start studio "$studio" --accept "$laptop_id"
studio_port=$port studio_http=$http
say "oplog-sync run --root LAPTOP --listen 127.0.0.1:0 --http 127.0.0.1:0 --peer $studio_id@127.0.0.1:$studio_port &"
start laptop "$laptop" --peer "$studio_id@127.0.0.1:$studio_port"

run "$bin" append --root "$studio" --session live-1 --actor alice --domain music --op '{"op":"insert","pitch":60}'
run "$bin" append --root "$studio" --session live-1 --actor alice --domain music --op '{"op":"insert","pitch":64}'
say "python3 Tests/Interop/muse_like.py write LAPTOP live-1 muse-bot 3    # Muse's own way of appending"
python3 Tests/Interop/muse_like.py write "$laptop" live-1 muse-bot 3 >/dev/null
converge live-1
run "$bin" append --root "$laptop" --session live-1 --actor bob --domain music --op '{"op":"delete","pitch":60}'
converge live-1

say "# both replicas now hold the same 6 lines, byte for byte:"
run wc -l "$studio/.muse/op_log/live-1/ops.jsonl" "$laptop/.muse/op_log/live-1/ops.jsonl"
say "cmp <(sort STUDIO/ops.jsonl) <(sort LAPTOP/ops.jsonl) && echo identical"
cmp <(sort "$studio/.muse/op_log/live-1/ops.jsonl") <(sort "$laptop/.muse/op_log/live-1/ops.jsonl") && echo identical
say "# the same canonical log on both sides (first on the laptop):"
run "$bin" log --root "$laptop" --session live-1 --canonical
run "$bin" delta --root "$studio" --session live-1 --domain music

run "$bin" checkpoint --root "$laptop" --session live-1 --snapshot snap-0001
for _ in $(seq 100); do
    cmp -s "$studio/.muse/op_log/live-1/checkpoint.json" "$laptop/.muse/op_log/live-1/checkpoint.json" 2>/dev/null && break
    sleep 0.1
done
say "cat STUDIO/.muse/op_log/live-1/checkpoint.json    # arrived from the laptop"
cat "$studio/.muse/op_log/live-1/checkpoint.json"

say "# a session started while both run replicates too:"
run "$bin" append --root "$laptop" --session live-2 --actor bob --domain code --op '{"op":"insert","line":1}'
converge live-2
run "$bin" sessions --root "$studio"
run "$bin" verify --root "$studio"
run "$bin" verify --root "$laptop"

say "# what the studio's control endpoint says of its peers and sessions:"
run "$bin" status --http "127.0.0.1:$studio_http"

say "kill -TERM <both daemons>    # finish durable writes, exit 0"
for pid in "${pids[@]}"; do kill -TERM "$pid"; done
for pid in "${pids[@]}"; do wait "$pid" && echo "daemon $pid exited 0"; done
pids=()
say "tail -n 3 LAPTOP.log"
tail -n 3 "$work/laptop.log"
