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
}
