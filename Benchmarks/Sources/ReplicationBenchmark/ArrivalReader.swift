import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Watches the destination file on a thread of its own and stamps each line of a ``LineSet`` the
/// moment it finds it there: woken by `IN_MODIFY` (the same way for ours and the floor), it reads
/// the new bytes and takes ``MonotonicClock/now()`` once per `read(2)`, after it returned.
///
/// It ends when every line of the set has arrived (then, if asked, it calls `fdatasync` on the
/// file and stamps that too), when ``abandon()`` is called, or once the writer has finished and
/// no new line has arrived for the stall limit (lines lost).
struct ArrivalReader {
    /// What the reader saw.
    struct Record: Sendable {
        /// When each line of the set arrived; 0 for never.
        var arrivals: [UInt64]
        /// Distinct lines of the set that arrived.
        var arrivedCount = 0
        /// Lines of the set that arrived again.
        var duplicates = 0
        /// Lines that are not in the set.
        var unknownLines = 0
        /// When the last line of the set arrived, if all did.
        var completedAt: UInt64?
        /// When the `fdatasync` after the last line returned, if asked for.
        var synchronizedAt: UInt64?
        /// Why reading stopped early, if it did.
        var failure: String?
    }

    /// What the reading thread and its owner share.
    private final class Shared: Sendable {
        let arrived = Atomic<Int>(0)
        let writerFinishedAt = Atomic<UInt64>(0)
        let abandoned = StopFlag()
    }

    private let shared = Shared()
    private let thread: JoinableThread<Record>

    /// Starts watching a file for the lines of a set.
    /// - Parameters:
    ///   - path: the file, which must exist; read from its start.
    ///   - lines: the lines to look for.
    ///   - stallLimit: nanoseconds without a new line, after the writer finished, that end the
    ///     reading with lines missing.
    ///   - synchronizesAtEnd: whether to `fdatasync` the file once every line has arrived.
    /// - Throws: ``BenchmarkError`` when the watch or the file cannot be set up.
    init(path: String, lines: LineSet, stallLimit: UInt64, synchronizesAtEnd: Bool) throws(BenchmarkError) {
        let watch = try FileWatch(path)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            watch.close()
            throw BenchmarkError.systemCall("cannot open \(path)")
        }
        let shared = self.shared
        self.thread = JoinableThread {
            defer { watch.close() }
            return Self.read(
                LineTail(descriptor: descriptor),
                watch: watch,
                lines: lines,
                shared: shared,
                stallLimit: stallLimit,
                synchronizesAtEnd: synchronizesAtEnd
            )
        }
    }

    /// Distinct lines of the set seen so far.
    var arrivedCount: Int {
        self.shared.arrived.load(ordering: .acquiring)
    }

    /// Waits (polling every millisecond) until `count` distinct lines have arrived.
    /// - Throws: ``BenchmarkError`` if they have not within `seconds`.
    func waitForArrivals(_ count: Int, seconds: Int, what: String) throws(BenchmarkError) {
        let deadline = MonotonicClock.now() + UInt64(seconds) * 1_000_000_000
        while self.arrivedCount < count {
            guard MonotonicClock.now() < deadline else {
                throw BenchmarkError("\(what): \(self.arrivedCount) of \(count) lines arrived within \(seconds) s")
            }
            MonotonicClock.sleep(milliseconds: 1)
        }
    }

    /// Tells the reader the writer is done: from now on, a stall ends the reading.
    func writerFinished() {
        self.shared.writerFinishedAt.store(MonotonicClock.now(), ordering: .releasing)
    }

    /// Ends the reading now, whatever has arrived.
    func abandon() {
        self.shared.abandoned.set()
    }

    /// Waits for the reading to end and returns what it saw.
    func finish() -> Record {
        self.thread.join()
    }

    private static func read(
        _ tail: LineTail,
        watch: FileWatch,
        lines: LineSet,
        shared: Shared,
        stallLimit: UInt64,
        synchronizesAtEnd: Bool
    ) -> Record {
        var record = Record(arrivals: [UInt64](repeating: 0, count: lines.lines.count))
        var lastArrival = MonotonicClock.now()
        do throws(BenchmarkError) {
            while !shared.abandoned.isSet {
                try tail.readCompleteLines { chunk throws(BenchmarkError) in
                    let now = MonotonicClock.now()
                    if Self.stamp(chunk, at: now, lines: lines, into: &record) { lastArrival = now }
                }
                shared.arrived.store(record.arrivedCount, ordering: .releasing)
                if record.arrivedCount == lines.lines.count {
                    record.completedAt = lastArrival
                    if synchronizesAtEnd {
                        tail.synchronize()
                        record.synchronizedAt = MonotonicClock.now()
                    }
                    return record
                }
                let writerFinishedAt = shared.writerFinishedAt.load(ordering: .acquiring)
                if writerFinishedAt > 0, MonotonicClock.now() - max(lastArrival, writerFinishedAt) > stallLimit {
                    record.failure = "no new line for \(stallLimit / 1_000_000_000) s after the writer finished"
                    return record
                }
                _ = watch.wait(timeoutMilliseconds: 20)
            }
            record.failure = "abandoned"
        } catch {
            record.failure = error.description
        }
        return record
    }

    /// Stamps every line of `chunk` (complete lines) with `now`; returns whether one was new.
    private static func stamp(
        _ chunk: UnsafeRawBufferPointer,
        at now: UInt64,
        lines: LineSet,
        into record: inout Record
    ) -> Bool {
        var hasNewLine = false
        var start = chunk.startIndex
        while let end = chunk[start...].firstIndex(of: 0x0A) {
            let line = ArraySlice(chunk[start..<end])
            start = end + 1
            guard let opID = LineSet.opID(of: line), let index = lines.indexByOpID[opID] else {
                record.unknownLines += 1
                continue
            }
            if record.arrivals[index] == 0 {
                record.arrivals[index] = now
                record.arrivedCount += 1
                hasNewLine = true
            } else {
                record.duplicates += 1
            }
        }
        return hasNewLine
    }
}
