import Foundation
import Testing

@testable import OpLog

@Suite("Session tail")
struct SessionTailTests {
    @Test func readsOnlyNewCompleteEntries() throws {
        let directory = try TemporaryDirectory()
        var tail = SessionTail(log: try directory.log("s"))
        #expect(try tail.readNew().entries.isEmpty)  // no file yet
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n" + museLine(id: "b", lamport: 2) + "\n", session: "s")
        #expect(try tail.readNew().entries.map(\.opID.rawValue) == ["a", "b"])
        #expect(try tail.readNew().entries.isEmpty)
        // Half a line is not an entry yet; the rest makes it one, read once.
        let line = museLine(id: "c", lamport: 3)
        try directory.appendRaw(String(line.prefix(30)), session: "s")
        #expect(try tail.readNew().entries.isEmpty)
        try directory.appendRaw(String(line.dropFirst(30)) + "\nnot json\n", session: "s")
        let batch = try tail.readNew()
        #expect(batch.entries.map(\.opID.rawValue) == ["c"])
        #expect(batch.summary.rejectedLines.map(\.position.lineNumber) == [4])
        #expect(!batch.wasReset)
    }

    @Test func aReplacedOrTruncatedFileIsReadFromTheTopAndSaysSo() throws {
        let directory = try TemporaryDirectory()
        var tail = SessionTail(log: try directory.log("s"))
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n" + museLine(id: "b", lamport: 2) + "\n", session: "s")
        _ = try tail.readNew()
        let path = directory.sessionFolder("s") + "/ops.jsonl"
        // Truncated to its first line.
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.truncate(atOffset: UInt64(museLine(id: "a", lamport: 1).utf8.count + 1))
        try handle.close()
        var batch = try tail.readNew()
        #expect(batch.wasReset)
        #expect(batch.entries.map(\.opID.rawValue) == ["a"])
        // Replaced by another file of the same length.
        try FileManager.default.removeItem(atPath: path)
        try directory.appendRaw(museLine(id: "z", lamport: 1) + "\n", session: "s")
        batch = try tail.readNew()
        #expect(batch.wasReset)
        #expect(batch.entries.map(\.opID.rawValue) == ["z"])
        // Removed: reset, and read from the top when it comes back.
        try FileManager.default.removeItem(atPath: path)
        #expect(try tail.readNew().wasReset)
        try directory.appendRaw(museLine(id: "y", lamport: 1) + "\n", session: "s")
        #expect(try tail.readNew().entries.map(\.opID.rawValue) == ["y"])
    }

    /// A large log taken in pieces: every entry once, in order, each piece about the limit (one
    /// read buffer at most past it), and an unfinished last line left for later.
    @Test func aByteLimitTakesALargeLogInPieces() throws {
        let directory = try TemporaryDirectory()
        var tail = SessionTail(log: try directory.log("s"))
        let lines = (1...12_000).map { museLine(id: "id-\($0)", lamport: $0) }
        try directory.appendRaw(lines.joined(separator: "\n") + "\n" + String(museLine(id: "torn", lamport: 1).prefix(40)), session: "s")
        var read: [String] = []
        var pieces = 0
        var hasMore = true
        while hasMore && pieces < 1_000 {
            let batch = try tail.readNew(maximumBytes: 256 << 10)
            let bytes = batch.entries.reduce(0) { $0 + $1.line.count + 1 }
            #expect(bytes <= (256 << 10) + LineReader.chunkSize, "piece \(pieces) holds \(bytes) bytes")
            read += batch.entries.map(\.opID.rawValue)
            hasMore = batch.hasMore
            if hasMore { #expect(!batch.summary.hasUnterminatedTail) }
            pieces += 1
        }
        #expect(pieces > 1, "the log was taken in one piece")
        #expect(read == (1...12_000).map { "id-\($0)" })
        #expect(try tail.readNew().entries.isEmpty)
        try directory.appendRaw(String(museLine(id: "torn", lamport: 1).dropFirst(40)) + "\n", session: "s")
        #expect(try tail.readNew(maximumBytes: 1).entries.map(\.opID.rawValue) == ["torn"])
    }

    /// Lines this process appended right after what the tail read are skipped, not read back;
    /// when another writer's lines came first, they are all read as usual.
    @Test func linesThisProcessAppendedInPlaceAreNotReadBack() throws {
        let directory = try TemporaryDirectory()
        let log = try directory.log("s")
        var tail = SessionTail(log: log)
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n", session: "s")
        #expect(try tail.readNew().entries.map(\.opID.rawValue) == ["a"])
        let ours = [museLine(id: "b", lamport: 2), museLine(id: "c", lamport: 3)].map { Array($0.utf8) }
        let end = try log.append(lines: ours)
        let skipped = tail.noteAppended(lines: ours, endOffset: end)
        #expect(skipped)
        #expect(tail.offset == end)
        #expect(try tail.readNew().entries.isEmpty)

        try directory.appendRaw(museLine(id: "d", lamport: 4) + "\n", session: "s")
        let more = [Array(museLine(id: "e", lamport: 5).utf8)]
        let laterEnd = try log.append(lines: more)
        let skippedAgain = tail.noteAppended(lines: more, endOffset: laterEnd)
        #expect(!skippedAgain, "another writer's line came first")
        #expect(try tail.readNew().entries.map(\.opID.rawValue) == ["d", "e"])
    }
}
