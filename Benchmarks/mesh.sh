#!/usr/bin/env bash
# Full meshes of N nodes (issue #15): each pair of nodes linked once, one writer appending
# ENTRIES lines on one node, every node holding them all at the end. For each N the script
# reports how long until every node held every line, the bytes each node received over its
# links per entry (TLS records included, from `/status`'s per-peer `bytes_received`) against the
# bytes of the entry itself, how many copies of each entry a node received
# (`oplog_sync_entries_received_total`; N-1 would be one per link, 1 is the floor), and the CPU
# seconds each node spent per 10,000 entries (from /proc), and the prunes and grafts the nodes
# sent (the tree's repairs). Each size runs twice in the same run:
# with broadcast trees (`--forwarding tree`, the default: about one copy per node) and with
# flooding (`--forwarding flood`: every node forwards every entry to every peer but the one it
# came from), the floor the tree is measured against.
#
#   Benchmarks/mesh.sh                                           # 4, 8 and 16 nodes, release build
#   OPLOG_BENCH_MESH_SIZES="4 8" OPLOG_BENCH_MESH_ENTRIES=2000 Benchmarks/mesh.sh   # quicker
#   OPLOG_BENCH_BINARY=.build/debug/oplog-sync Benchmarks/mesh.sh   # an existing binary
#
# Sizes: OPLOG_BENCH_MESH_SIZES ("4 8 16"), OPLOG_BENCH_MESH_ENTRIES (10000),
# OPLOG_BENCH_MESH_FORWARDING ("tree flood"),
# OPLOG_BENCH_MESH_TIMEOUT (600 s for each wait). Nothing is asserted: the exit status says only
# whether it ran. Everything goes under one temporary folder, removed however the run ends; the
# nodes are stopped by pid.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
sizes="${OPLOG_BENCH_MESH_SIZES:-4 8 16}"
entries="${OPLOG_BENCH_MESH_ENTRIES:-10000}"
timeout_seconds="${OPLOG_BENCH_MESH_TIMEOUT:-600}"
policies="${OPLOG_BENCH_MESH_FORWARDING:-tree flood}"

bench=mesh
# shellcheck source=Benchmarks/nodes.sh
source "$here/nodes.sh"
for size in $sizes; do
    [[ "$size" =~ ^[0-9]+$ ]] && ((size >= 2 && size <= 32)) || fail "each size must be 2 to 32 nodes, not '$size'"
done
for policy in $policies; do
    [[ "$policy" == tree || "$policy" == flood ]] || fail "each forwarding must be tree or flood, not '$policy'"
done
for setting in entries timeout_seconds; do
    [[ "${!setting}" =~ ^[1-9][0-9]*$ ]] || fail "$setting must be a positive integer, not '${!setting}'"
done
command -v python3 >/dev/null 2>&1 || fail "python3 is required (it reads /status); it is not on PATH"

make_work

# shellcheck source=Benchmarks/release-binary.sh
source "$here/release-binary.sh"

# The sum of bytes_received over the node's peers in its /status, and its
# oplog_sync_entries_received_total.
received() { # HTTP_PORT
    python3 - "$1" <<'PY'
import json, sys, urllib.request
port = sys.argv[1]
status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=10))
total = sum(peer.get("bytes_received", 0) for peer in status.get("peers", []))
counts = {"oplog_sync_entries_received_total": 0.0, "oplog_sync_prunes_sent_total": 0.0, "oplog_sync_grafts_sent_total": 0.0}
for line in urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode().splitlines():
    name = line.split(" ", 1)[0].split("{", 1)[0]
    if name in counts:
        counts[name] += float(line.rsplit(" ", 1)[1])
print(total, *(int(value) for value in counts.values()))
PY
}

run() { # N POLICY
    local count="$1" policy="$2" dir="$work/mesh-$1-$2"
    local index other
    local -a roots=() ids=() ports=() http=() node_pids=()
    for ((index = 0; index < count; index++)); do
        roots+=("$dir/n$index")
        mkdir -p "${roots[-1]}"
        ids+=("$("$binary" id --root "${roots[-1]}")") || fail "oplog-sync id failed"
    done
    for ((index = 0; index < count; index++)); do
        local -a arguments=(--forwarding "$policy")
        for ((other = 0; other < count; other++)); do
            ((other == index)) && continue
            arguments+=(--accept "${ids[$other]}")
            # Each pair is linked once: the later node dials the earlier.
            ((other < index)) && arguments+=(--peer "${ids[$other]}@127.0.0.1:${ports[$other]}")
        done
        start_node "${roots[$index]}" "${arguments[@]}"
        node_pids+=("${pids[-1]}")
        ports+=("$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "${roots[$index]}.out" | head -1)")
        http+=("$(sed -n 's/^http on .*:\([0-9]*\)$/\1/p' "${roots[$index]}.out" | head -1)")
    done
    # Every link up before the clock starts: each node sees N-1 peers connected.
    local deadline=$(($(date +%s) + timeout_seconds))
    for ((index = 0; index < count; index++)); do
        until [[ "$(curl -fsS "http://127.0.0.1:${http[$index]}/metrics" | awk '/^oplog_sync_peer_connected/ { s += $2 } END { print s + 0 }')" == "$((count - 1))" ]]; do
            (($(date +%s) < deadline)) || fail "node $index of $count did not link to every other node"
            sleep 0.2
        done
    done
    local -a cpu_before=()
    for ((index = 0; index < count; index++)); do cpu_before+=("$(cpu_ticks "${node_pids[$index]}")"); done
    local began
    began=$(seconds)
    python3 -c "
import sys
for n in range($entries):
    sys.stdout.write('{\"op\":\"insert\",\"seq\":%d,\"pitch\":%d}\n' % (n, 60 + n % 12))
" | "$binary" append --root "${roots[0]}" --session mesh --actor writer --domain music --op - >/dev/null ||
        fail "append failed"
    for ((index = 0; index < count; index++)); do
        local file="${roots[$index]}/.muse/op_log/mesh/ops.jsonl"
        until [[ -f "$file" ]] && (($(wc -l <"$file") >= entries)); do
            (($(date +%s) < deadline)) || fail "node $index of $count holds $(wc -l <"$file" 2>/dev/null || echo 0) of $entries lines"
            kill -0 "${node_pids[$index]}" 2>/dev/null || fail "node $index exited: $(tail -3 "${roots[$index]}.log")"
            sleep 0.05
        done
    done
    local converged
    converged=$(seconds)
    # Let the acknowledgements and progress records settle before the counts are read.
    sleep 2
    local entry_bytes tick_rate
    entry_bytes=$(stat -c %s "${roots[0]}/.muse/op_log/mesh/ops.jsonl")
    tick_rate=$(getconf CLK_TCK)
    local bytes_total=0 copies_total=0 cpu_total=0 prunes_total=0 grafts_total=0 bytes copies prunes grafts
    for ((index = 0; index < count; index++)); do
        read -r bytes copies prunes grafts < <(received "${http[$index]}")
        prunes_total=$((prunes_total + prunes))
        grafts_total=$((grafts_total + grafts))
        ((index == 0)) && continue
        bytes_total=$((bytes_total + bytes))
        copies_total=$((copies_total + copies))
    done
    for ((index = 0; index < count; index++)); do
        cpu_total=$((cpu_total + $(cpu_ticks "${node_pids[$index]}") - ${cpu_before[$index]}))
    done
    local receivers=$((count - 1))
    echo "== $count nodes, full mesh ($((count * (count - 1) / 2)) links), forwarding $policy, $entries entries of" \
        "$((entry_bytes / entries)) bytes on average, written on one node"
    echo "   every node held every entry after $(printf '%.2f' "$(echo "$converged - $began" | bc)") s"
    echo "   per receiving node: $(echo "scale=2; $bytes_total / $receivers / $entries" | bc) bytes received per entry" \
        "($(echo "scale=2; $bytes_total / $receivers / $entry_bytes" | bc) x the entries' bytes; one copy over one link" \
        "would be 1.00 plus framing and acknowledgements); $(echo "scale=2; $copies_total / $receivers / $entries" | bc)" \
        "copies of each entry received"
    echo "   CPU: $(echo "scale=3; $cpu_total / $tick_rate / $count * 10000 / $entries" | bc) s per node per 10,000 entries" \
        "(mean over all $count nodes)"
    echo "   tree: $prunes_total prunes and $grafts_total grafts sent, over all nodes"
    stop_nodes
    rm -rf "$dir"
}

for size in $sizes; do
    for policy in $policies; do run "$size" "$policy"; done
done
