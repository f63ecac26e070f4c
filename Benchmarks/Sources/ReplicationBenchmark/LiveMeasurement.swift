import Histogram

/// Live latency: one line appended at a time, at a fixed rate, each timed from just before its
/// `write(2)` on the source to the reader finding it in the destination.
struct LiveMeasurement {
    let transport: Transport
    /// Append→arrival latencies, in nanoseconds.
    let latencies: Histogram<UInt64>
    /// Lines appended after the warm-up.
    let appended: Int
    /// How late the writer ever was on its schedule, in nanoseconds (a loaded machine shows here).
    let maximumLateness: UInt64
    let outcome: MeasurementOutcome<[UInt64]>

    /// Lines appended that never arrived.
    var lost: Int { self.appended - Int(self.latencies.totalCount) }

    /// Runs it: `settings.liveRate` lines a second for `settings.liveSeconds` seconds.
    /// - Throws: ``BenchmarkError`` when the replicator does not start or warm up.
    init(_ transport: Transport, lines: LineSet, settings: BenchmarkSettings) throws(BenchmarkError) {
        let warmUp = settings.warmUpLines
        let interval = UInt64(1_000_000_000 / settings.liveRate)
        var maximumLateness: UInt64 = 0
        let outcome = try Measurement.run(
            transport,
            lines: lines,
            settings: settings,
            stallSeconds: 10,
            synchronizesAtEnd: false
        ) { writer throws(BenchmarkError) in
            var appendedAt = [UInt64](repeating: 0, count: lines.lines.count - warmUp)
            let start = MonotonicClock.now() + 10_000_000
            for index in appendedAt.indices {
                let target = start + UInt64(index) * interval
                MonotonicClock.sleep(until: target)
                let now = MonotonicClock.now()
                try Measurement.append(lines.lines[warmUp + index], with: writer)
                appendedAt[index] = now
                maximumLateness = max(maximumLateness, now - min(now, target))
            }
            return appendedAt
        }
        var latencies = Histogram<UInt64>(
            highestTrackableValue: 600_000_000_000,
            numberOfSignificantValueDigits: .three
        )
        for (index, appendedAt) in outcome.result.enumerated() {
            let arrivedAt = outcome.record.arrivals[warmUp + index]
            if arrivedAt > 0 { latencies.record(arrivedAt - min(arrivedAt, appendedAt)) }
        }
        self.transport = transport
        self.latencies = latencies
        self.appended = outcome.result.count
        self.maximumLateness = maximumLateness
        self.outcome = outcome
    }
}
