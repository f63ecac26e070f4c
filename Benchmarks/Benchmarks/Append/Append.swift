// Append throughput: our full `OpLog.append` against the cheapest way to append the same lines,
// plus its parts, to see where the time goes.
//
// Every iteration appends `Workload.appendCount` entries, one per call, to a new log in a new
// folder under /tmp (removed after the iteration), so each iteration does the same work from
// the same starting point.

import Benchmark
import OpLog
import OpLogBenchmarkSupport
import SystemPackage

let actorID = "bench-actor"

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = Rates.configuration(maxIterations: 10, maxDuration: .seconds(6))
    let count = Workload.appendCount

    // The full operation: next Lamport timestamp, content id, one write(2).
    Benchmark("OpLog.append") { benchmark, domainOps in
        try measureAppending(benchmark, expectedLines: count) { root in
            var log = OpLog(root: root, sessionID: MuseStyleLog.sessionID)
            for domainOp in domainOps {
                try log.append(actorID: actorID, domain: MuseStyleLog.domain, domainOp: domainOp)
            }
        }
    } setup: {
        (0..<count).map(MuseStyleLog.domainOp(sequence:))
    }

    // The floor: the same lines, one write(2) each on an O_APPEND descriptor opened once.
    Benchmark(
        "floor.write",
        configuration: Rates.configuration(maxIterations: 40, maxDuration: .seconds(3))
    ) { benchmark, lines in
        try measureAppending(benchmark, expectedLines: count) { root in
            try Floor.appendLines(lines, to: try MuseStyleLog.makeSessionFolder(root: root))
        }
    } setup: {
        try MuseStyleLog.contentAddressedLines(count: count, actorID: actorID).map { $0 + [UInt8(ascii: "\n")] }
    }

    // Making the entries alone, no I/O: content id (JCS + SHA-256) and the Python-style line,
    // with `created_at` formatted per entry as OpLog.append does.
    Benchmark("part.OpEntry.make") { benchmark, domainOps in
        var bytes = 0
        let elapsed = try Rates.measure(benchmark) {
            for (index, domainOp) in domainOps.enumerated() {
                let entry = try OpEntry.make(
                    actorID: actorID,
                    lamportTimestamp: index + 1,
                    domain: MuseStyleLog.domain,
                    domainOp: domainOp,
                    createdAt: WallClockTime.now().iso8601
                )
                bytes += entry.line.count + 1
            }
        }
        Rates.record(benchmark, lines: count, bytes: bytes, elapsed: elapsed)
    } setup: {
        (0..<count).map(MuseStyleLog.domainOp(sequence:))
    }

    // Ready-made lines through the stateless SessionLog.append, one line per call: opening the
    // folders and the file, the tail check, one write(2) (the path `oplog-sync append` takes).
    Benchmark("part.SessionLog.append") { benchmark, lines in
        try measureAppending(benchmark, expectedLines: count) { root in
            let log = SessionLog(layout: OpLogLayout(root: root), sessionID: MuseStyleLog.sessionID)
            for line in lines {
                try log.append(lines: [line])
            }
        }
    } setup: {
        try MuseStyleLog.contentAddressedLines(count: count, actorID: actorID)
    }

    // The floor's write(2) per line, each followed by the stateless LamportClock.next, which
    // opens the log and reads the line back: the clock's cost when every line comes from
    // another writer (Muse's, or the replication agent's). Minus floor.write: the clock's cost.
    Benchmark("part.LamportClock.foreignAppend") { benchmark, lines in
        try measureAppending(benchmark, expectedLines: count) { root in
            let file = try Floor.AppendFile(try MuseStyleLog.makeSessionFolder(root: root))
            defer { file.close() }
            let log = SessionLog(layout: OpLogLayout(root: root), sessionID: MuseStyleLog.sessionID)
            var clock = LamportClock()
            for line in lines {
                try file.write(line)
                Benchmark.blackHole(try clock.next(for: log))
            }
        }
    } setup: {
        try MuseStyleLog.contentAddressedLines(count: count, actorID: actorID).map { $0 + [UInt8(ascii: "\n")] }
    }
}

/// Runs `work` on a fresh repository root under /tmp, measuring only `work`; then checks that
/// the session log holds exactly `expectedLines` lines, records the rates, and removes the root.
func measureAppending(
    _ benchmark: Benchmark,
    expectedLines: Int,
    _ work: (FilePath) throws -> Void
) throws {
    let folder = try TemporaryFolder(prefix: "oplog-bench-append")
    defer { folder.remove() }
    let elapsed = try Rates.measure(benchmark) { try work(folder.path) }
    let written = try Floor.countLines(at: MuseStyleLog.opsPath(root: folder.path))
    precondition(written.lines == expectedLines, "expected \(expectedLines) lines, found \(written.lines)")
    Rates.record(benchmark, lines: written.lines, bytes: written.bytes, elapsed: elapsed)
}
