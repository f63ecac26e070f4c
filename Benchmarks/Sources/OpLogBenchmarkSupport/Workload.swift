#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fixed amount of work one benchmark iteration does.
///
/// The defaults are the sizes the foundation issue names; the environment can shrink them for a
/// quick look or a profiler run (`OPLOG_BENCH_APPEND_COUNT=2000 .build/release/Append`).
public enum Workload {
    /// Entries appended per iteration by the append suite (`OPLOG_BENCH_APPEND_COUNT`, default 20,000).
    public static let appendCount = Self.integer("OPLOG_BENCH_APPEND_COUNT", default: 20_000)

    /// Entries in the log the scan suite reads (`OPLOG_BENCH_SCAN_COUNT`, default 200,000).
    public static let scanCount = Self.integer("OPLOG_BENCH_SCAN_COUNT", default: 200_000)

    /// The positive integer in the environment variable `name`, or `fallback` when it is unset
    /// or not a positive integer.
    private static func integer(_ name: String, default fallback: Int) -> Int {
        guard let raw = getenv(name), let value = Int(String(cString: raw)), value > 0 else { return fallback }
        return value
    }
}
