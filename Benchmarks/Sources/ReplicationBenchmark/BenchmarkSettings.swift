#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one run measures and with what: the `oplog-sync` binary from the command line, sizes
/// from the environment (defaults are the issue's).
struct BenchmarkSettings {
    /// The `oplog-sync` executable the nodes run (`--oplog-sync PATH`, required).
    var executablePath: String
    /// How long the live writer appends (`OPLOG_BENCH_LIVE_SECONDS`, default 20).
    var liveSeconds: Int
    /// Lines per second the live writer appends (`OPLOG_BENCH_LIVE_RATE`, default 200).
    var liveRate: Int
    /// Lines the bulk measurement appends at once (`OPLOG_BENCH_BULK_LINES`, default 200,000).
    var bulkLines: Int
    /// Bytes per `write(2)` of the bulk append, cut at line ends (`OPLOG_BENCH_BULK_WRITE_BYTES`,
    /// default 8 MiB: a few large writes).
    var bulkWriteBytes: Int
    /// How op ids are made (`OPLOG_BENCH_OP_IDS`: `uuid`, the default, as Muse writes them; or
    /// `content`, `sha256:` ids made by `OpEntry.make`, which every receiver verifies).
    var opIDStyle: OpIDStyle
    /// Whether the live measurement also runs the nodes with `--no-fsync`
    /// (`OPLOG_BENCH_LIVE_NO_FSYNC`, default 1; 0 skips it).
    var measuresLiveWithoutSync: Bool
    /// Where the temporary roots go (`OPLOG_BENCH_TMPDIR`, default `/tmp`).
    var temporaryBase: String
    /// Lines appended and awaited before anything is timed: nodes connected, caches warm.
    var warmUpLines = 20

    /// The live writer's lines, after the warm-up.
    var liveLines: Int { self.liveSeconds * self.liveRate }

    /// Reads the command line and the environment.
    /// - Throws: ``BenchmarkError`` when `--oplog-sync` is missing or a size is not a positive integer.
    init(arguments: [String]) throws(BenchmarkError) {
        guard arguments.count == 3, arguments[1] == "--oplog-sync" else {
            throw BenchmarkError(
                "usage: ReplicationBenchmark --oplog-sync PATH (sizes come from OPLOG_BENCH_* variables)"
            )
        }
        self.executablePath = arguments[2]
        guard access(self.executablePath, X_OK) == 0 else {
            throw BenchmarkError("\(self.executablePath) is not an executable file")
        }
        self.liveSeconds = try Self.integer("OPLOG_BENCH_LIVE_SECONDS", default: 20)
        self.liveRate = try Self.integer("OPLOG_BENCH_LIVE_RATE", default: 200)
        self.bulkLines = try Self.integer("OPLOG_BENCH_BULK_LINES", default: 200_000)
        self.bulkWriteBytes = try Self.integer("OPLOG_BENCH_BULK_WRITE_BYTES", default: 8 << 20)
        self.measuresLiveWithoutSync = Self.text("OPLOG_BENCH_LIVE_NO_FSYNC") != "0"
        self.temporaryBase = Self.text("OPLOG_BENCH_TMPDIR") ?? "/tmp"
        switch Self.text("OPLOG_BENCH_OP_IDS") ?? "uuid" {
        case "uuid": self.opIDStyle = .uuid
        case "content": self.opIDStyle = .contentAddressed
        case let other: throw BenchmarkError("OPLOG_BENCH_OP_IDS must be uuid or content, not \(other)")
        }
    }

    private static func text(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    private static func integer(_ name: String, default fallback: Int) throws(BenchmarkError) -> Int {
        guard let text = Self.text(name), !text.isEmpty else { return fallback }
        guard let value = Int(text), value > 0 else {
            throw BenchmarkError("\(name) must be a positive integer, not \(text)")
        }
        return value
    }
}
