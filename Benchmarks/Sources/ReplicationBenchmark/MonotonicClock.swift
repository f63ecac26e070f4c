#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `CLOCK_MONOTONIC` in nanoseconds: one time base for every thread of the process, so an append
/// stamped by the writer and an arrival stamped by the reader can be subtracted.
enum MonotonicClock {
    /// Now, in nanoseconds since an arbitrary fixed point (the boot).
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Sleeps until ``now()`` reaches `deadline` (returns at once if it has passed); absolute, so
    /// a writer at a fixed rate does not drift by its own work.
    static func sleep(until deadline: UInt64) {
        var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil) == EINTR {}
    }

    /// Sleeps for `milliseconds`.
    static func sleep(milliseconds: Int) {
        Self.sleep(until: Self.now() + UInt64(milliseconds) * 1_000_000)
    }

    /// Seconds in `nanoseconds`.
    static func seconds(_ nanoseconds: UInt64) -> Double {
        Double(nanoseconds) / 1e9
    }
}
