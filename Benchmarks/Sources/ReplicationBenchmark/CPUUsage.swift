#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time a process or a thread used, for the report: where a measurement's time went.
enum CPUUsage {
    /// "CPU 1.234 s user + 0.567 s system".
    static func describe(_ usage: rusage) -> String {
        "CPU \(Self.seconds(usage.ru_utime)) s user + \(Self.seconds(usage.ru_stime)) s system"
    }

    /// The calling thread's CPU time so far, user and system together (`CLOCK_THREAD_CPUTIME_ID`).
    static func ofThisThread() -> String {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return "CPU unknown" }
        return "CPU \(Self.seconds(timeval(tv_sec: time.tv_sec, tv_usec: time.tv_nsec / 1000))) s"
    }

    private static func seconds(_ time: timeval) -> String {
        let milliseconds = Int(time.tv_sec) * 1000 + Int(time.tv_usec) / 1000
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
