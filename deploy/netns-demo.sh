#!/usr/bin/env bash
# Three hosts on one machine: a studio, a laptop and a read-only backup, each in its own network
# namespace with its own address (10.77.0.1-3) on a bridge that lives in a namespace of its own,
# so nothing is added to this machine's own network; and a fourth host (10.77.0.4) that nobody
# paired with. The script pairs the three by node ID, starts one `oplog-sync run` in each host,
# writes on the studio and the laptop, waits until the three hold the same lines and the same
# checkpoint, checks that the stranger got nothing and is listed as refused, shows
# `oplog-sync status` as each host sees it (each node's control endpoint is on its own
# namespace's 127.0.0.1:7421), and tears everything down, also when it fails or is interrupted.
# Exits 0 once the three replicas converged and the stranger was refused.
#
#   sudo bash deploy/netns-demo.sh [PATH-TO-oplog-sync]
#
# It needs root (network namespaces) and iproute2. Without a path it uses OPLOG_TEST_BINARY, else
# builds the debug binary with `swift build`.
set -euo pipefail

if [[ "$(id -u)" -ne 0 ]]; then
    echo "netns-demo: needs root to create network namespaces; run: sudo bash deploy/netns-demo.sh" >&2
    exit 1
fi
cd "$(dirname "$0")/.."
command -v ip >/dev/null || { echo "netns-demo: needs ip (Debian: apt-get install iproute2)" >&2; exit 1; }

bin=${1:-${OPLOG_TEST_BINARY:-}}
if [[ -z "$bin" ]]; then
    swift build --product oplog-sync >&2
    bin="$(swift build --show-bin-path)/oplog-sync"
fi
[[ -x "$bin" ]] || { echo "netns-demo: $bin is not an executable" >&2; exit 1; }

# Names carry this script's pid, so two runs never touch each other's namespaces (interface
# names stay within 15 bytes).
tag="osd$$"
switch="$tag-sw"
hosts=(studio laptop backup stranger)
declare -A address=([studio]=10.77.0.1 [laptop]=10.77.0.2 [backup]=10.77.0.3 [stranger]=10.77.0.4)
work=$(mktemp -d)
pids=()
made=()

cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    # Deleting a namespace deletes the veth ends in it.
    for namespace in "${made[@]}"; do ip netns delete "$namespace" 2>/dev/null || true; done
    if [[ $status -ne 0 ]]; then
        for host in "${hosts[@]}"; do
            [[ -f "$work/$host.log" ]] && { echo "--- $host.log (last 20 lines)" >&2; tail -n 20 "$work/$host.log" >&2; }
        done
    fi
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
in_host() { local host=$1; shift; ip netns exec "$tag-$host" "$@"; }

say "# four hosts: network namespaces $tag-{studio,laptop,backup,stranger} on a bridge in $switch"
ip netns add "$switch"
made+=("$switch")
ip -n "$switch" link add br0 type bridge
ip -n "$switch" link set br0 up
index=0
for host in "${hosts[@]}"; do
    index=$((index + 1))
    ip netns add "$tag-$host"
    made+=("$tag-$host")
    # A veth pair made here, one end moved to the host, the other to the switch.
    ip link add "$tag-h$index" type veth peer name "$tag-s$index"
    ip link set "$tag-h$index" netns "$tag-$host"
    ip link set "$tag-s$index" netns "$switch"
    ip -n "$switch" link set "$tag-s$index" master br0 up
    ip -n "$tag-$host" link set lo up
    ip -n "$tag-$host" link set "$tag-h$index" name eth0
    ip -n "$tag-$host" addr add "${address[$host]}/24" dev eth0
    ip -n "$tag-$host" link set eth0 up
    echo "$host: ${address[$host]} (namespace $tag-$host)"
done
say "# pairing: each host's node ID (oplog-sync id, made once in ROOT/.muse/sync/identity/)"
declare -A id
for host in "${hosts[@]}"; do
    mkdir -p "$work/$host"
    id[$host]=$(in_host "$host" "$bin" id --root "$work/$host")
    echo "$host: ${id[$host]}"
done

# start HOST [run options...]: one daemon in HOST's namespace, on its own address; waits for
# its control endpoint.
start() {
    local host=$1
    shift
    say "[$host] oplog-sync run --listen ${address[$host]}:7420 $*"
    # Not through in_host: `$!` must be the daemon itself (ip netns exec execs it), not a subshell.
    ip netns exec "$tag-$host" "$bin" run --root "$work/$host" --listen "${address[$host]}:7420" --http 127.0.0.1:7421 \
        --log-level info "$@" >"$work/$host.out" 2>"$work/$host.log" &
    pids+=($!)
    for _ in $(seq 300); do
        grep -q '^http on ' "$work/$host.out" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "netns-demo: $host did not start" >&2
    exit 1
}
start studio --accept "${id[laptop]}" --accept "${id[backup]}"
start laptop --peer "${id[studio]}@${address[studio]}:7420" --accept "${id[backup]}"
start backup --read-only --peer "${id[studio]}@${address[studio]}:7420" --peer "${id[laptop]}@${address[laptop]}:7420"
# A node nobody paired with: it dials the studio, which refuses it.
start stranger --peer "${id[studio]}@${address[studio]}:7420"

say "# writers on the studio and the laptop, one session"
for pitch in 60 64 67; do
    in_host studio "$bin" append --root "$work/studio" --session song --actor alice --domain music \
        --op "{\"op\":\"insert\",\"pitch\":$pitch}" >/dev/null
done
for pitch in 72 76; do
    in_host laptop "$bin" append --root "$work/laptop" --session song --actor bob --domain music \
        --op "{\"op\":\"insert\",\"pitch\":$pitch}" >/dev/null
done
in_host laptop "$bin" checkpoint --root "$work/laptop" --session song --snapshot take-1 >/dev/null
echo "studio wrote 3 entries, the laptop 2 and a checkpoint"

# converged: every host holds the same 5 lines (in any order) and the same checkpoint.
converged() {
    local first="$work/studio/.muse/op_log/song"
    [[ -f "$first/ops.jsonl" && -f "$first/checkpoint.json" ]] || return 1
    [[ $(wc -l <"$first/ops.jsonl") -eq 5 ]] || return 1
    for host in laptop backup; do
        local other="$work/$host/.muse/op_log/song"
        [[ -f "$other/ops.jsonl" && -f "$other/checkpoint.json" ]] || return 1
        cmp -s <(sort "$first/ops.jsonl") <(sort "$other/ops.jsonl") || return 1
        cmp -s "$first/checkpoint.json" "$other/checkpoint.json" || return 1
    done
}
say "# waiting for the three replicas to converge"
for _ in $(seq 600); do converged && break; sleep 0.1; done
converged || { echo "netns-demo: the replicas did not converge within 60 s" >&2; exit 1; }
for host in studio laptop backup; do
    printf '%s: %s lines, checkpoint %s\n' "$host" "$(wc -l <"$work/$host/.muse/op_log/song/ops.jsonl")" \
        "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snapshot_id"])' \
            "$work/$host/.muse/op_log/song/checkpoint.json")"
    in_host "$host" "$bin" verify --root "$work/$host" >/dev/null
done

# Every link runs between the hosts' own addresses: each node lists its peers as connected, at
# 10.77.0.x, with nothing left to send.
linked() {
    local host=$1 peers=$2
    in_host "$host" "$bin" status --json | python3 -c '
import json, sys
status, wanted = json.load(sys.stdin), int(sys.argv[1])
peers = [p for p in status["peers"] if p["connected"] and p["address"].startswith("10.77.0.") and p["lag_entries"] == 0]
sys.exit(0 if len(peers) == wanted else 1)' "$peers"
}
for _ in $(seq 300); do
    linked studio 2 && linked laptop 2 && linked backup 2 && break
    sleep 0.1
done
for host in studio laptop backup; do
    linked "$host" 2 || { echo "netns-demo: $host does not show its two peers linked and current" >&2; exit 1; }
done

# The stranger got nothing, and the studio lists it as refused, with the option that admits it.
if [[ -e "$work/stranger/.muse/op_log/song" ]]; then
    echo "netns-demo: the stranger, never paired, received the session" >&2
    exit 1
fi
for _ in $(seq 100); do
    in_host studio "$bin" status --json | grep -q "\"${id[stranger]}\"" && break
    sleep 0.1
done
in_host studio "$bin" status --json | python3 -c '
import json, sys
pending = [p["id"] for p in json.load(sys.stdin)["pending"]]
sys.exit(0 if sys.argv[1] in pending else 1)' "${id[stranger]}" ||
    { echo "netns-demo: the studio does not list the stranger as pending" >&2; exit 1; }
echo "stranger: no session received; the studio lists it as pending (--accept ${id[stranger]} would admit it)"

for host in "${hosts[@]}"; do
    say "[$host] oplog-sync status"
    in_host "$host" "$bin" status
done

say "# stopping: SIGTERM to each daemon (finishes durable writes, exits 0), then the namespaces go"
for pid in "${pids[@]}"; do kill -TERM "$pid"; done
for pid in "${pids[@]}"; do
    code=0
    wait "$pid" || code=$?
    [[ $code -eq 0 ]] || { echo "netns-demo: daemon $pid exited $code" >&2; exit 1; }
done
pids=()
echo "netns-demo: converged across three namespaces, the fourth refused; all daemons exited 0"
