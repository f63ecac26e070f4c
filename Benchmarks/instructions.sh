#!/usr/bin/env bash
# Instructions per line (issue #16): counts from `valgrind --tool=callgrind`, user space only,
# which do not move with the machine's load as timings do, so that a regression shows as a number.
#
#   append   `oplog-sync append --op -`: entries from standard input, each one OpLog.append
#   log      `oplog-sync log`: the session read and printed (SessionLog.scan and the output)
#   verify   `oplog-sync verify`: every line parsed and checked, ids and parents
#   index    `oplog-sync run` started on a log it never indexed, until it logged `indexed`
#   send     node A, linked to B over TLS, taking in lines appended to its log in one write
#            (noticed, read, parsed, numbered) and shipping them
#   receive  node B taking them in: parsed and verified, appended, fsynced, acknowledged
#
# Each runs at two sizes, and the figure is the difference of the two counts over the difference
# of the sizes: start-up, the TLS handshake and shutdown cancel out. `send` and `receive` come
# from one run, both nodes under callgrind. The lines are
# written as Muse writes them (`uuid` op ids by default, or `content` ids that are verified).
#
#   Benchmarks/instructions.sh                                   # release build, 2,000 and 10,000 lines
#   OPLOG_BENCH_INSN_SIZES="1000 3000" Benchmarks/instructions.sh   # quicker
#   OPLOG_BENCH_BINARY=.build/debug/oplog-sync Benchmarks/instructions.sh
#
# Settings: OPLOG_BENCH_INSN_SIZES (two sizes, "2000 10000"), OPLOG_BENCH_OP_IDS (uuid |
# content), OPLOG_BENCH_INSN_TOP (0; N > 0 prints the N functions with the most instructions of
# their own in each measurement at the larger size, demangled), OPLOG_BENCH_INSN_TIMEOUT (900 s
# for each wait). Needs valgrind and python3. Nothing is
# asserted; everything goes under one temporary folder, removed however the run ends; the nodes
# are stopped by pid.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
read -r small large <<<"${OPLOG_BENCH_INSN_SIZES:-2000 10000}"
op_ids="${OPLOG_BENCH_OP_IDS:-uuid}"
timeout_seconds="${OPLOG_BENCH_INSN_TIMEOUT:-900}"
top="${OPLOG_BENCH_INSN_TOP:-0}"

bench=instructions
node_log_level=info
# shellcheck source=Benchmarks/nodes.sh
source "$here/nodes.sh"
for setting in small large timeout_seconds; do
    [[ "${!setting:-}" =~ ^[1-9][0-9]*$ ]] || fail "$setting must be a positive integer, not '${!setting:-}'"
done
((small < large)) || fail "OPLOG_BENCH_INSN_SIZES must be two sizes, the smaller first"
[[ "$top" =~ ^[0-9]+$ ]] || fail "OPLOG_BENCH_INSN_TOP must be a whole number, not '$top'"
[[ "$op_ids" == uuid || "$op_ids" == content ]] || fail "OPLOG_BENCH_OP_IDS must be uuid or content, not '$op_ids'"
command -v valgrind >/dev/null 2>&1 || fail "valgrind is required (apt-get install valgrind); it is not on PATH"
command -v python3 >/dev/null 2>&1 || fail "python3 is required (it writes the logs); it is not on PATH"

make_work
# shellcheck source=Benchmarks/release-binary.sh
source "$here/release-binary.sh"
node_start_seconds=$timeout_seconds
# Valgrind gives up on the DWARF that Swift's toolchain writes ("possibly corrupted debuginfo"):
# the runs use a copy without it (its symbol table kept, for callgrind_annotate).
command -v objcopy >/dev/null 2>&1 || fail "objcopy is required (binutils); it is not on PATH"
objcopy --strip-debug "$binary" "$work/oplog-sync" || fail "cannot copy $binary without its debug info"
binary="$work/oplog-sync"
# Valgrind 3.19 (Debian 12) faults when sigsuspend's mask is read-only, as libdispatch's signal
# thread passes it (the daemon then dies under valgrind at start): a preloaded sigsuspend that
# passes a copy on the stack avoids it.
command -v cc >/dev/null 2>&1 || fail "a C compiler (cc) is required for the sigsuspend shim; it is not on PATH"
cat >"$work/sigsuspend.c" <<'C'
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, 8);
}
C
cc -shared -fPIC -O2 -o "$work/sigsuspend.so" "$work/sigsuspend.c" || fail "cannot build the sigsuspend shim"

# The total instructions (Ir) of a callgrind output file.
instructions() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }
callgrind() { # OUT COMMAND...
    local out="$1"
    shift
    env LD_PRELOAD="$work/sigsuspend.so" valgrind --tool=callgrind --callgrind-out-file="$out" "$@"
}

# domain ops, one per line, for `append --op -`.
ops() { python3 -c "
import sys
for n in range($1):
    sys.stdout.write('{\"op\":\"insert\",\"seq\":%d,\"pitch\":%d,\"text\":\"caf\u00e9 \u266b\"}\n' % (n, 60 + n % 12))
"; }

# A session log of COUNT entries as Muse's writer leaves it, each the child of the one before.
write_log() { # ROOT COUNT
    mkdir -p "$1/.muse/op_log/bench"
    write_muse_lines "$1/.muse/op_log/bench/ops.jsonl" "$2" "$op_ids"
}

declare -A counted=()
measure_cli() { # COUNT
    local count="$1" root="$work/cli-$1"
    mkdir -p "$root"
    ops "$count" >"$work/ops-$count"
    callgrind "$work/append-$count.cg" "$binary" append --root "$root" --session bench --actor writer-a \
        --domain music --op - <"$work/ops-$count" >/dev/null 2>"$work/append-$count.log" ||
        fail "append failed: $(tail -3 "$work/append-$count.log")"
    callgrind "$work/log-$count.cg" "$binary" log --root "$root" --session bench >/dev/null 2>"$work/log-$count.log" ||
        fail "log failed: $(tail -3 "$work/log-$count.log")"
    callgrind "$work/verify-$count.cg" "$binary" verify --root "$root" --session bench >/dev/null \
        2>"$work/verify-$count.log" || fail "verify failed: $(tail -3 "$work/verify-$count.log")"
    for what in append log verify; do counted[$what-$count]=$(instructions "$work/$what-$count.cg"); done
}

# A node started on a log of COUNT lines that it has never indexed, until it logged `indexed`.
measure_index() { # COUNT
    local count="$1" dir="$work/index-$1"
    mkdir -p "$dir/A"
    write_log "$dir/A" "$count"
    node_wrapper=(env LD_PRELOAD="$work/sigsuspend.so" valgrind --tool=callgrind --callgrind-out-file="$work/index-$count.cg")
    start_node "$dir/A"
    node_wrapper=()
    local deadline=$(($(date +%s) + timeout_seconds))
    until grep -q " indexed" "$dir/A.log"; do
        (($(date +%s) < deadline)) || fail "the node did not log that it indexed its log"
        sleep 0.2
    done
    stop_nodes
    counted[index-$count]=$(instructions "$work/index-$count.cg")
}

# Two linked nodes, both under callgrind; once they linked, COUNT lines are appended to A's log in
# one write, as a large Muse append, and replicated to B. (Zeroing the counts at the link with
# callgrind_control gives the same totals but charges the event loops' frames with what ran under
# them; the difference of the two sizes cancels the start-up anyway.)
measure_link() { # COUNT
    local count="$1" dir="$work/link-$1"
    local a="$dir/A" b="$dir/B"
    mkdir -p "$a" "$b"
    local a_id b_id
    a_id=$("$binary" id --root "$a") && b_id=$("$binary" id --root "$b") || fail "oplog-sync id failed"
    node_wrapper=(env LD_PRELOAD="$work/sigsuspend.so" valgrind --tool=callgrind --callgrind-out-file="$work/send-$count.cg")
    start_node "$a" --accept "$b_id"
    local port
    port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$a.out" | head -1)
    node_wrapper=(env LD_PRELOAD="$work/sigsuspend.so" valgrind --tool=callgrind --callgrind-out-file="$work/receive-$count.cg")
    start_node "$b" --peer "$a_id@127.0.0.1:$port"
    node_wrapper=()
    local deadline=$(($(date +%s) + timeout_seconds))
    until grep -q "peer connected" "$a.log" && grep -q "peer connected" "$b.log"; do
        (($(date +%s) < deadline)) || fail "A and B did not link"
        sleep 0.2
    done
    sleep 1
    write_log "$dir/lines" "$count"
    cat "$dir/lines/.muse/op_log/bench/ops.jsonl" >"$work/lines-$count"
    mkdir -p "$a/.muse/op_log/bench"
    cat "$work/lines-$count" >>"$a/.muse/op_log/bench/ops.jsonl"
    local file="$b/.muse/op_log/bench/ops.jsonl"
    until [[ -f "$file" ]] && (($(wc -l <"$file") >= count)); do
        (($(date +%s) < deadline)) || fail "B holds $(wc -l <"$file" 2>/dev/null || echo 0) of $count lines"
        sleep 0.2
    done
    # The acknowledgements and progress records settle, then both stop (callgrind writes its
    # counts at exit).
    sleep 3
    stop_nodes
    cmp -s "$a/.muse/op_log/bench/ops.jsonl" "$file" || fail "B's log is not A's, byte for byte"
    for what in send receive; do counted[$what-$count]=$(instructions "$work/$what-$count.cg"); done
}

for count in "$small" "$large"; do
    echo "== $count lines: append, log, verify"
    measure_cli "$count"
    echo "== $count lines: a first start without an index ($op_ids op ids)"
    measure_index "$count"
    echo "== $count lines: send and receive ($op_ids op ids)"
    measure_link "$count"
done

echo
echo "== instructions per line (callgrind, user space; ($large-line count - $small-line count) / $((large - small)))"
printf '%-8s %16s %16s %12s\n' what "$small lines" "$large lines" "per line"
for what in append log verify index send receive; do
    low=${counted[$what-$small]} high=${counted[$what-$large]}
    printf '%-8s %16d %16d %12d\n' "$what" "$low" "$high" $(((high - low) / (large - small)))
done

if ((top > 0)); then
    for what in append log verify index send receive; do
        echo
        echo "== $what: the $top functions with the most instructions of their own per line (all threads;" \
            "each function's count at $large lines less its count at $small, over $((large - small)))"
        for count in "$small" "$large"; do
            callgrind_annotate --inclusive=no --threshold=100 "$work/$what-$count.cg" >"$work/$what-$count.txt" 2>/dev/null ||
                fail "callgrind_annotate failed on $what-$count"
        done
        python3 - "$work/$what-$small.txt" "$work/$what-$large.txt" "$((large - small))" "$top" <<'PY' |
import re, sys
def functions(path):
    counts, listing = {}, False
    for line in open(path, errors="replace"):
        if "file:function" in line:
            listing = True
            continue
        match = re.match(r"\s*([0-9,]+) \([ 0-9.]+%\)\s+(.*?)(?: \[.*\])?$", line.rstrip("\n"))
        if listing and match:
            name = match.group(2).replace("???:", "")
            counts[name] = counts.get(name, 0) + int(match.group(1).replace(",", ""))
    return counts
small, large = functions(sys.argv[1]), functions(sys.argv[2])
lines, top = int(sys.argv[3]), int(sys.argv[4])
total = (sum(large.values()) - sum(small.values())) / lines
rows = sorted(((large[name] - small.get(name, 0)) / lines, name) for name in large)
for per_line, name in reversed(rows[-top:]):
    print(f"{per_line:10.0f} {100 * per_line / total:5.1f}%  {name}")
PY
            if command -v swift >/dev/null 2>&1; then swift demangle --simplified; else cat; fi | cut -c1-150
    done
fi
