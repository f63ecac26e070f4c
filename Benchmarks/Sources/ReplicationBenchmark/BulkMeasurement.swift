/// Bulk rate: every line appended at once, in a few large `write(2)`s cut at line ends, timed
/// until all are in the destination (visible) and until an `fdatasync` of the destination
/// called right after returned (durable).
struct BulkMeasurement {
    let transport: Transport
    /// Lines appended after the warm-up.
    let appended: Int
    /// Their bytes.
    let bytes: Int
    /// `write(2)` calls the append took.
    let writes: Int
    /// Nanoseconds from the first write to the last line's arrival, if all arrived.
    let visibleAfter: UInt64?
    /// Nanoseconds from the first write to the end of the `fdatasync` after the last arrival.
    let durableAfter: UInt64?
    let outcome: MeasurementOutcome<UInt64>

    /// Lines a second until all were durable in the destination.
    var durableRate: Double? { self.durableAfter.map { Double(self.appended) / MonotonicClock.seconds($0) } }
    /// Lines a second until all were visible in the destination.
    var visibleRate: Double? { self.visibleAfter.map { Double(self.appended) / MonotonicClock.seconds($0) } }

    /// Runs it with every line of `lines` after the warm-up.
    /// - Throws: ``BenchmarkError`` when the replicator does not start or warm up, or a write fails.
    init(_ transport: Transport, lines: LineSet, settings: BenchmarkSettings) throws(BenchmarkError) {
        let bulk = lines.lines[settings.warmUpLines...]
        // The writes are laid out before the clock starts: only write(2) is timed.
        var chunks: [[UInt8]] = [[]]
        for line in bulk {
            if let last = chunks.last, !last.isEmpty, last.count + line.count > settings.bulkWriteBytes {
                chunks.append([])
            }
            chunks[chunks.count - 1].append(contentsOf: line)
        }
        let outcome = try Measurement.run(
            transport,
            lines: lines,
            settings: settings,
            stallSeconds: 30,
            synchronizesAtEnd: true
        ) { writer throws(BenchmarkError) in
            let start = MonotonicClock.now()
            for chunk in chunks { try Measurement.append(chunk, with: writer) }
            return start
        }
        let start = outcome.result
        self.transport = transport
        self.appended = bulk.count
        self.bytes = chunks.reduce(0) { $0 + $1.count }
        self.writes = chunks.count
        self.visibleAfter = outcome.record.completedAt.map { $0 - start }
        self.durableAfter = outcome.record.synchronizedAt.map { $0 - start }
        self.outcome = outcome
    }
}
