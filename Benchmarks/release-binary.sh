# Sourced by the benchmark scripts (needs `repo`, `work` and `fail`): sets `binary` to
# $OPLOG_BENCH_BINARY, or to a release build of oplog-sync in .build-bench, and prints what and where
# it runs.

if [[ -n "${OPLOG_BENCH_BINARY:-}" ]]; then
    binary="$OPLOG_BENCH_BINARY"
    [[ -x "$binary" ]] || fail "OPLOG_BENCH_BINARY=$binary is not an executable"
else
    echo "== building oplog-sync (release)"
    swift build -c release --package-path "$repo" --scratch-path "$repo/.build-bench" --product oplog-sync \
        >"$work/build.log" 2>&1 || {
        tail -40 "$work/build.log" >&2
        fail "the build failed"
    }
    binary="$(swift build -c release --package-path "$repo" --scratch-path "$repo/.build-bench" --show-bin-path)/oplog-sync"
fi
echo "== oplog-sync: $binary ($(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown))"
echo "== machine: $(nproc) cores, $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg)"
