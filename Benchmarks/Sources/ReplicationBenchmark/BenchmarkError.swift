#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the benchmark could not run or finish: one line for stderr.
struct BenchmarkError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }

    /// The error of a failed system call: `what`, then `strerror(errno)`.
    static func systemCall(_ what: String, errno code: Int32 = errno) -> BenchmarkError {
        BenchmarkError("\(what): \(String(cString: strerror(code)))")
    }
}
