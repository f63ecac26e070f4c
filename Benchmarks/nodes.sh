# shellcheck shell=bash
# What the benchmarks that run several nodes from one binary share (mesh.sh, sessions.sh,
# instructions.sh, profile.sh).
# Source it first; set `bench` (the script's name, for messages and its temporary folder)
# before, and `node_log_level` (default warning) before the first start_node.

# fail MESSAGE: prints "BENCH.sh: MESSAGE" and exits 1.
fail() {
    echo "$bench.sh: $*" >&2
    exit 1
}

pids=()
# Stops every node this run started, by pid, and waits for each.
stop_nodes() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
}

# Makes the run's temporary folder, `$work`, removed with the nodes stopped however the run
# ends (exit, ^C, TERM, HUP).
make_work() {
    work="$(mktemp -d "/tmp/oplog-bench-$bench.XXXXXX")"
    trap 'stop_nodes; rm -rf "$work"' EXIT
    trap 'exit 130' INT TERM HUP
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
seconds() { date +%s.%N; }

# What start_node runs the binary under (valgrind, say); nothing by default.
node_wrapper=()
# start_node DIR ARGS...: runs `$binary run` on root DIR with ARGS, on free ports (listener and
# control endpoint), output in DIR.out and DIR.log; returns once it printed its `http on` line
# (within `node_start_seconds`, default 60).
start_node() {
    local dir="$1"
    shift
    "${node_wrapper[@]}" "$binary" run --root "$dir" --listen 127.0.0.1:0 --http 127.0.0.1:0 \
        --log-level "${node_log_level:-warning}" "$@" >"$dir.out" 2>"$dir.log" &
    pids+=("$!")
    local waits=$((${node_start_seconds:-60} * 10))
    for _ in $(seq 1 "$waits"); do
        if grep -q "^http on " "$dir.out" 2>/dev/null; then return 0; fi
        kill -0 "${pids[-1]}" 2>/dev/null || fail "$dir exited: $(tail -3 "$dir.log")"
        sleep 0.1
    done
    fail "$dir did not start within ${node_start_seconds:-60} s"
}

# write_muse_lines FILE COUNT [uuid|content]: COUNT entries as Muse's writer leaves them, each
# the child of the one before, about 300 bytes a line (a non-ASCII `text`), with `uuid` op ids
# (the default) or `content` ids (`sha256:` of the entry's RFC 8785 form, verified on receipt).
write_muse_lines() {
    python3 - "$1" "$2" "${3:-uuid}" <<'PY'
import hashlib, json, sys, uuid
path, count, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
previous = None
with open(path, "w") as out:
    for index in range(count):
        entry = {
            "actor_id": "writer-a", "lamport_ts": index + 1,
            "parent_op_ids": [previous] if previous else [], "domain": "music",
            "domain_op": {"op": "insert", "seq": index, "pitch": 60 + index % 12, "text": "caf\u00e9 \u266b"},
            "created_at": "2026-12-04T00:00:00+00:00", "intent_id": "", "reservation_id": "",
        }
        if kind == "uuid":
            op_id = str(uuid.uuid4())
        else:
            # RFC 8785 of these fields: keys sorted, compact, UTF-8 as is.
            canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            op_id = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
        out.write(json.dumps({"op_id": op_id, **entry}, separators=(",", ":"), ensure_ascii=False) + "\n")
        previous = op_id
PY
}
