import Foundation
import Testing

@testable import OpLog

@Suite("Lamport clock")
struct LamportClockTests {
    @Test func nextIsAboveEverythingInTheFileIncludingForeignAppends() throws {
        let directory = try TemporaryDirectory()
        var log = try directory.opLog("s")
        #expect(try log.nextLamportTimestamp() == 1)
        try directory.appendRaw(museLine(id: "p1", lamport: 7) + "\n" + museLine(id: "p2", lamport: 3) + "\n", session: "s")
        let first = try log.append(actorID: "me", domain: "music", domainOp: .null)
        #expect(first.lamportTimestamp == 8)
        // Another process appends far ahead while we keep our clock object.
        try directory.appendRaw(museLine(id: "p3", lamport: 100) + "\n", session: "s")
        let second = try log.append(actorID: "me", domain: "music", domainOp: .null)
        #expect(second.lamportTimestamp == 101)
        // Without new foreign lines, timestamps still increase.
        #expect(try log.nextLamportTimestamp() == 102)
        #expect(try log.nextLamportTimestamp() == 103)
    }

    @Test func readsOnlyTheNewTailEachTime() throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 5) + "\n", session: "s")
        var clock = LamportClock()
        let log = try directory.log("s")
        #expect(try clock.next(for: log) == 6)
        // Corrupt the already-read prefix in place (same size): an incremental reader does not
        // see it, which proves it did not re-read the whole file.
        let path = directory.sessionFolder("s") + "/ops.jsonl"
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: 0)
        handle.write(Data("X".utf8))
        try handle.close()
        try directory.appendRaw(museLine(id: "b", lamport: 9) + "\n", session: "s")
        #expect(try clock.next(for: log) == 10)
    }

    @Test func replacedOrTruncatedFileIsReadAgain() throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 50) + "\n", session: "s")
        var clock = LamportClock()
        let log = try directory.log("s")
        #expect(try clock.next(for: log) == 51)
        let path = directory.sessionFolder("s") + "/ops.jsonl"
        try FileManager.default.removeItem(atPath: path)
        try directory.appendRaw(museLine(id: "b", lamport: 70) + "\n", session: "s")
        #expect(try clock.next(for: log) == 71)
        #expect(clock.highestSeen == 70)
    }

    /// A long-lived writer keeps its file open; when the path is replaced it must write to the
    /// new file, with a timestamp above the new file's.
    @Test func aLongLivedWriterFollowsAReplacedFile() throws {
        let directory = try TemporaryDirectory()
        var log = try directory.opLog("s")
        _ = try log.append(actorID: "me", domain: "d", domainOp: .null)
        let path = directory.sessionFolder("s") + "/ops.jsonl"
        try FileManager.default.moveItem(atPath: path, toPath: path + ".old")
        try directory.appendRaw(museLine(id: "n", lamport: 30) + "\n", session: "s")
        let entry = try log.append(actorID: "me", domain: "d", domainOp: .null)
        #expect(entry.lamportTimestamp == 31)
        #expect(try directory.opsBytes("s").text.hasSuffix(entry.line.text + "\n"))
        #expect(try directory.contents(".muse/op_log/s/ops.jsonl.old").text.split(separator: "\n").count == 1)
    }

    @Test func aFailedAppendDoesNotConsumeATimestamp() throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 4) + "\n{\"half", session: "s")
        var log = try directory.opLog("s")
        for _ in 0..<5 {
            #expect(throws: OpLogError.self) { try log.append(actorID: "me", domain: "d", domainOp: .null) }
        }
        try directory.appendRaw("\":1}\n", session: "s")
        #expect(try log.append(actorID: "me", domain: "d", domainOp: .null).lamportTimestamp == 5)
    }

    /// DESIGN §7: timestamps stay in [0, 2^53 − 1]. A line above it is not an entry, so it does
    /// not move the clock; a file that holds the limit itself makes `append` a clear error
    /// rather than a trap (it trapped on `Int.max + 1` before).
    @Test func theClockStopsWithAnErrorAtTheLimitAndIgnoresLinesAboveIt() throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 5) + "\n", session: "s")
        try directory.appendRaw(museLine(id: "big", lamport: Int.max) + "\n", session: "s")
        try directory.appendRaw(museLine(id: "over", lamport: LamportClock.maximumTimestamp + 1) + "\n", session: "s")
        var log = try directory.opLog("s")
        #expect(try log.nextLamportTimestamp() == 6)

        try directory.appendRaw(museLine(id: "top", lamport: LamportClock.maximumTimestamp) + "\n", session: "s")
        let error = #expect(throws: OpLogError.self) {
            try log.append(actorID: "me", domain: "music", domainOp: .null)
        }
        #expect(error?.code == .clockExhausted)
        #expect(error?.message.contains("2^53 − 1") == true, "\(String(describing: error))")
        #expect(throws: OpLogError.self) { try log.nextLamportTimestamp() }
        var clock = LamportClock()
        #expect(throws: OpLogError.self) { try clock.next(for: try directory.log("s")) }
    }
}
