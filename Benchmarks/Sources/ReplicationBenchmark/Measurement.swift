/// What one measurement leaves besides its own numbers: what the reader saw, whether both files
/// hold exactly the lines written, and how the replicator stopped.
struct MeasurementOutcome<Result> {
    var result: Result
    var record: ArrivalReader.Record
    /// The writer's file (a node that echoed lines back would show here).
    var source: ReplicaCheck
    /// The other side's file.
    var destination: ReplicaCheck
    var notes: [String]
}

/// Runs one measurement from a clean slate: a new folder with roots `a` and `b`, the replicator
/// started, warmed up (``BenchmarkSettings/warmUpLines`` lines appended 10 ms apart and awaited
/// on the other side), an ``ArrivalReader`` on the destination, then `body` appends the rest.
/// Afterwards both files are checked, the replicator is stopped and the folder removed, whatever
/// happened.
enum Measurement {
    static func run<Result>(
        _ transport: Transport,
        lines: LineSet,
        settings: BenchmarkSettings,
        stallSeconds: Int,
        synchronizesAtEnd: Bool,
        _ body: (FileBytes.Appender) throws(BenchmarkError) -> Result
    ) throws(BenchmarkError) -> MeasurementOutcome<Result> {
        let folder = try TemporaryFolder(base: settings.temporaryBase, prefix: "oplog-replication")
        defer { folder.remove() }
        let layout = ReplicaLayout(folder: folder)
        try layout.prepare()
        let replicator = try transport.start(in: folder, layout: layout, settings: settings)
        var notes: [String]?
        defer { if notes == nil { _ = replicator.stop() } }
        let writer = try FileBytes.Appender(layout.sourcePath)
        defer { writer.close() }

        try Self.append(lines.lines[0], with: writer)
        try Self.waitForFile(layout.destinationPath, seconds: 60)
        let reader = try ArrivalReader(
            path: layout.destinationPath,
            lines: lines,
            stallLimit: UInt64(stallSeconds) * 1_000_000_000,
            synchronizesAtEnd: synchronizesAtEnd
        )
        let result: Result
        do throws(BenchmarkError) {
            for line in lines.lines[1..<settings.warmUpLines] {
                MonotonicClock.sleep(milliseconds: 10)
                try Self.append(line, with: writer)
            }
            try reader.waitForArrivals(settings.warmUpLines, seconds: 60, what: "warm-up")
            result = try body(writer)
        } catch {
            reader.abandon()
            _ = reader.finish()
            throw error
        }
        reader.writerFinished()
        let record = reader.finish()
        ReplicaCheck.waitUntilQuiet([layout.sourcePath, layout.destinationPath])
        let written = lines.lines.count
        let source = ReplicaCheck(path: layout.sourcePath, lines: lines, written: written)
        let destination = ReplicaCheck(path: layout.destinationPath, lines: lines, written: written)
        let stopNotes = replicator.stop()
        notes = stopNotes
        return MeasurementOutcome(
            result: result,
            record: record,
            source: source,
            destination: destination,
            notes: stopNotes
        )
    }

    /// Appends one line with one `write(2)`.
    static func append(_ line: [UInt8], with writer: FileBytes.Appender) throws(BenchmarkError) {
        try writer.append(line)
    }

    private static func waitForFile(_ path: String, seconds: Int) throws(BenchmarkError) {
        let deadline = MonotonicClock.now() + UInt64(seconds) * 1_000_000_000
        while FileBytes.size(path) == nil {
            guard MonotonicClock.now() < deadline else {
                throw BenchmarkError("\(path) did not appear within \(seconds) s of the first append")
            }
            MonotonicClock.sleep(milliseconds: 1)
        }
    }
}
