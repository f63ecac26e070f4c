import Foundation
import SystemPackage
import Testing

@testable import OpLog

@Suite("Session log files")
struct SessionLogTests {
    @Test func halfWrittenLineIsNotAnEntryUntilFinished() throws {
        let directory = try TemporaryDirectory()
        let line = museLine(id: "a", lamport: 1)
        let split = line.index(line.startIndex, offsetBy: 40)
        try directory.appendRaw(String(line[..<split]), session: "s")
        let log = try directory.log("s")
        var summary = try log.scan { _ in Issue.record("a half-written line was read as an entry") }
        #expect(summary.entryCount == 0)
        #expect(summary.rejectedLineCount == 0)
        #expect(summary.hasUnterminatedTail)
        #expect(summary.endOffset == 0)

        try directory.appendRaw(String(line[split...]), session: "s")
        #expect(try log.readAll().entries.map(\.opID.rawValue) == [])  // still no newline
        try directory.appendRaw("\n", session: "s")
        summary = try log.scan { #expect($0.opID.rawValue == "a") }
        #expect(summary.entryCount == 1)
        #expect(!summary.hasUnterminatedTail)
        #expect(summary.endOffset == Int64(line.utf8.count + 1))
    }

    @Test func appendRefusesToGlueOntoAFreshTailAndClosesAStaleOne() throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n" + #"{"op_id":"tor"#, session: "s")
        let before = try directory.opsBytes("s")
        let log = try directory.log("s")
        let newLine = Array(museLine(id: "b", lamport: 2).utf8)

        // A writer may still be finishing that line: nothing is written.
        #expect {
            try log.append(lines: [newLine], staleTailAge: .seconds(10))
        } throws: { ($0 as? OpLogError)?.code == .tailInProgress }
        #expect(try directory.opsBytes("s") == before)

        // Unchanged for longer than the stale age: closed with "\n", then the line on its own.
        try directory.age(".muse/op_log/s/ops.jsonl", bySeconds: 30)
        try log.append(lines: [newLine], staleTailAge: .seconds(10))
        #expect(try directory.opsBytes("s") == before + [UInt8(ascii: "\n")] + newLine + [UInt8(ascii: "\n")])
        let summary = try log.scan { _ in }
        #expect(summary.entryCount == 2)
        #expect(summary.rejectedLines.map(\.position.lineNumber) == [2])
    }

    @Test func batchAppendIsOneWriteOfCompleteLines() throws {
        let directory = try TemporaryDirectory()
        let log = try directory.log("new-session")
        let lines = (1...3).map { Array(museLine(id: "id\($0)", lamport: $0).utf8) }
        let end = try log.append(lines: lines, synchronize: true)
        let bytes = try directory.opsBytes("new-session")
        #expect(end == Int64(bytes.count))
        #expect(bytes == lines.flatMap { $0 + [UInt8(ascii: "\n")] })
    }

    @Test func appenderWritesAtOnceSyncsFromAnotherThreadAndNoticesAReplacedLog() async throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n", session: "s")
        let before = try directory.opsBytes("s")
        let appender = try SessionAppender(opening: try directory.log("s"))
        let lines = [Array(museLine(id: "b", lamport: 2).utf8), Array(museLine(id: "c", lamport: 3).utf8)]
        let end = try appender.append(lines: lines)
        // In the file before any sync: readers see the lines at once.
        let bytes = try directory.opsBytes("s")
        #expect(bytes == before + lines.flatMap { $0 + [UInt8(ascii: "\n")] })
        #expect(end == Int64(bytes.count))
        try await Task.detached { try appender.synchronize() }.value
        #expect(appender.isCurrent)

        // A tail a writer is still finishing is refused without writing, as by SessionLog.append.
        try directory.appendRaw(#"{"op_id":"d"#, session: "s")
        #expect {
            try appender.append(lines: [Array(museLine(id: "e", lamport: 4).utf8)], staleTailAge: .seconds(10))
        } throws: { ($0 as? OpLogError)?.code == .tailInProgress }

        // The path now names another file: the appender says so, and still writes to its own.
        let path = "\(directory.sessionFolder("s"))/ops.jsonl"
        try FileManager.default.moveItem(atPath: path, toPath: path + ".old")
        try directory.appendRaw(museLine(id: "x", lamport: 1) + "\n", session: "s")
        #expect(!appender.isCurrent)
    }

    @Test func aLineWithANewlineIsRefusedAndNothingIsWritten() throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n", session: "s")
        let before = try directory.opsBytes("s")
        let lines = [Array(museLine(id: "b", lamport: 2).utf8), Array("{\"x\":\n1}".utf8)]
        #expect { try directory.log("s").append(lines: lines) } throws: { ($0 as? OpLogError)?.code == .invalidEntry }
        #expect(try directory.opsBytes("s") == before)
    }

    @Test func unknownFieldsAndEscapesSurviveByteForByte() throws {
        let directory = try TemporaryDirectory()
        let source =
            #"{"op_id":"u1","actor_id":"\u00e9mile","lamport_ts":1,"parent_op_ids":[],"domain":"music","domain_op":{"op":"insert","t":"\ud83c\udfb5\u266b","x":1.50,"y":1E3},"created_at":"","intent_id":"","reservation_id":"","v2_field":{"nested":[true,null]}}"#
        try directory.appendRaw(source + "\n", session: "s")
        let entries = try directory.log("s").readAll().entries
        #expect(entries.count == 1)
        #expect(entries.first?.actorID == "émile")
        let copy = try TemporaryDirectory()
        try copy.log("s").append(lines: entries.map(\.line))
        #expect(try copy.opsBytes("s") == Array((source + "\n").utf8))
    }

    @Test func linesAreReportedWithLineNumbersAndBlankLinesSkipped() throws {
        let directory = try TemporaryDirectory()
        let text =
            [museLine(id: "a", lamport: 1), "", "not json", "  \r", museLine(id: "b", lamport: 2), "{\"op_id\":\"c\"}"]
            .joined(separator: "\n") + "\n"
        try directory.appendRaw(text, session: "s")
        let summary = try directory.log("s").scan { _ in }
        #expect(summary.lineCount == 6)
        #expect(summary.entryCount == 2)
        #expect(summary.blankLineCount == 2)
        #expect(summary.rejectedLines.map(\.position.lineNumber) == [3, 6])
        #expect(summary.rejectedLines.first?.reason.code == .invalidJSON)
        #expect(summary.rejectedLines.last?.reason.code == .invalidEntry)
    }

    @Test func missingSessionOrFileReadsAsEmpty() throws {
        let directory = try TemporaryDirectory()
        let summary = try directory.log("nothing-here").scan { _ in }
        #expect(summary.lineCount == 0)
        try FileManager.default.createDirectory(atPath: directory.sessionFolder("empty"), withIntermediateDirectories: true)
        #expect(try directory.log("empty").readAll().entries.isEmpty)
        #expect(try directory.log("empty").readCheckpoint() == nil)
    }

    /// Lines crossing read-buffer boundaries, of many lengths, must come out exactly as a
    /// naive split would give them; offsets and line numbers must match.
    @Test func readerMatchesANaiveSplitAcrossChunkBoundaries() throws {
        let directory = try TemporaryDirectory()
        var generator = SplitMix64(seed: 7)
        var text = ""
        var count = 0
        while text.utf8.count < 3 * LineReader.chunkSize + 12345 {
            count += 1
            let padding = String(repeating: "x", count: Int(generator.next() % 5000))
            text += museLine(id: "id\(count)", lamport: count, op: #"{"p":"\#(padding)"}"#) + "\n"
        }
        try directory.appendRaw(text, session: "s")
        var records: [OpIndexRecord] = []
        let summary = try directory.log("s").scan { records.append($0) }
        let lines = text.split(separator: "\n")
        #expect(records.count == count)
        #expect(summary.rejectedLineCount == 0)
        var offset: Int64 = 0
        for (index, record) in records.enumerated() {
            #expect(record.opID.rawValue == "id\(index + 1)")
            #expect(record.position.lineNumber == index + 1)
            #expect(record.position.offset == offset)
            #expect(record.length == lines[index].utf8.count)
            offset += Int64(lines[index].utf8.count + 1)
        }
        #expect(summary.endOffset == Int64(text.utf8.count))
    }

    @Test func oversizedLinesAreSkippedNotHeld() throws {
        let directory = try TemporaryDirectory()
        let huge = museLine(id: "big", lamport: 1, op: "\"" + String(repeating: "y", count: 3 * LineReader.chunkSize) + "\"")
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n" + huge + "\n" + museLine(id: "b", lamport: 2) + "\n", session: "s")
        let log = try directory.log("s")
        guard let directory2 = try log.layout.openSessionDirectory(log.sessionID, create: false),
            let descriptor = try directory2.openFile(SessionLog.opsFileName, flags: O_RDONLY)
        else {
            Issue.record("cannot open the log")
            return
        }
        defer { try? descriptor.close() }
        var reader = LineReader(descriptor: descriptor)
        reader.maximumLineLength = 2 * LineReader.chunkSize
        var events: [String] = []
        let end = try reader.read(from: 0, firstLineNumber: 1) { (event: LineEvent) throws(OpLogError) in
            switch event {
            case .line(let bytes, let position): events.append("line \(position.lineNumber) \(bytes.count)")
            case .oversized(let position, let length): events.append("oversized \(position.lineNumber) \(length)")
            }
        }
        #expect(events == ["line 1 \(museLine(id: "a", lamport: 1).utf8.count)", "oversized 2 \(huge.utf8.count)", "line 3 \(museLine(id: "b", lamport: 2).utf8.count)"])
        #expect(end.unterminatedTailLength == 0)
    }
}

/// A small seeded generator (as in swift-argument-parser's examples), for replayable tests.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
