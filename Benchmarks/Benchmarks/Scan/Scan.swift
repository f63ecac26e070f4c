// Full-scan throughput: `SessionLog.scan` (index records: op ids, parents, timestamps) over a
// Muse-style log, against reading the same file and splitting it on `\n`.
//
// Each benchmark's setup writes one log of `Workload.scanCount` entries under /tmp, the same
// bytes on every run (seeded ids); every iteration reads all of it, and the teardown removes it.
// The file is only read, so it is the same input for every iteration; both sides read it from
// the page cache.

import Benchmark
import OpLog
import OpLogBenchmarkSupport
import Synchronization
import SystemPackage

/// The log made by a benchmark's setup: its root folder and size.
struct ScanFixture: Sendable {
    let folder: TemporaryFolder
    let bytes: Int

    init() throws {
        self.folder = try TemporaryFolder(prefix: "oplog-bench-scan")
        let path = try MuseStyleLog.makeSessionFolder(root: self.folder.path)
        self.bytes = try MuseStyleLog.writeLog(to: path, count: Workload.scanCount)
        liveFixtures.withLock { $0.append(self.folder) }
    }

    var log: SessionLog {
        SessionLog(layout: OpLogLayout(root: self.folder.path), sessionID: MuseStyleLog.sessionID)
    }
}

/// Folders made by setups, removed by ``removeFixtures()`` (teardown hooks get no setup state).
let liveFixtures = Mutex<[TemporaryFolder]>([])

@Sendable func removeFixtures() {
    let folders = liveFixtures.withLock { folders in
        defer { folders.removeAll() }
        return folders
    }
    for folder in folders {
        folder.remove()
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = Rates.configuration(maxIterations: 10, maxDuration: .seconds(6))
    let count = Workload.scanCount

    // Index records of every entry: op id, actor, Lamport timestamp, parents, position.
    Benchmark("SessionLog.scan") { benchmark, fixture in
        var parents = 0
        var summary = ScanSummary()
        let elapsed = try Rates.measure(benchmark) {
            summary = try fixture.log.scan { record in
                parents += record.parentOpIDs.count
            }
        }
        precondition(summary.entryCount == count, "expected \(count) entries, scanned \(summary.entryCount)")
        precondition(parents == count - 1, "expected \(count - 1) parents, found \(parents)")
        Rates.record(benchmark, lines: summary.lineCount, bytes: fixture.bytes, elapsed: elapsed)
    } setup: {
        try ScanFixture()
    } teardown: {
        removeFixtures()
    }

    // The floor: read(2) the whole file in 1 MiB chunks and memchr every '\n'.
    Benchmark(
        "floor.readSplit",
        configuration: Rates.configuration(maxIterations: 40, maxDuration: .seconds(3))
    ) { benchmark, fixture in
        var result = (lines: 0, bytes: 0)
        let elapsed = try Rates.measure(benchmark) {
            result = try Floor.countLines(at: fixture.log.opsPath)
        }
        precondition(result.lines == count && result.bytes == fixture.bytes, "the floor read \(result)")
        Rates.record(benchmark, lines: result.lines, bytes: result.bytes, elapsed: elapsed)
    } setup: {
        try ScanFixture()
    } teardown: {
        removeFixtures()
    }
}
