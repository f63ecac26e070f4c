import Foundation
import Logging
import OpLog
import OpLogReplication
import SystemPackage
import Testing

@testable import OpLogAgent

/// A start after a SIGKILL in the middle of the node's own `write(2)`: the torn end of that
/// append is cut off; an unfinished line a writer began before it is not.
@Suite struct TornAppendTests {
    private let session = try! SessionID(validating: "live-1")

    private func line(_ id: String, lamport: Int) -> String {
        #"{"op_id":"\#(id)","actor_id":"muse","lamport_ts":\#(lamport),"parent_op_ids":[],"domain":"music","domain_op":{"op":"insert"},"created_at":"2026-12-01T00:00:00Z","intent_id":"","reservation_id":""}"#
    }

    /// A root whose log holds two complete lines and then `tail`, with the node's record that
    /// its last append started at `intentOffset` (`nil`: where the tail starts) and was
    /// `intentLength` bytes long (as the node records it: its lines, and one for a closing `\n`).
    private func start(
        tail: String,
        intentOffset: Int64? = nil,
        intentLength: Int
    ) async throws -> (contents: String, root: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oplog-torn-\(UUID().uuidString)").path
        let root = FilePath(path)
        let folder = root.appending(".muse/op_log/live-1")
        try FileManager.default.createDirectory(atPath: folder.string, withIntermediateDirectories: true)
        let complete = self.line("uuid-a", lamport: 1) + "\n" + self.line("uuid-b", lamport: 2) + "\n"
        try Data((complete + tail).utf8).write(to: URL(fileURLWithPath: folder.appending("ops.jsonl").string))
        let configuration = AgentConfiguration(root: root)
        let state = try StateFolder(opening: configuration.stateDirectory, opLogFolder: configuration.layout.opLogPath)
        let offset = intentOffset ?? Int64(complete.utf8.count)
        try AppendIntents(folder: state).record(
            AppendIntents.Intent(offset: offset, length: Int64(intentLength)),
            session: self.session
        )
        return (try await self.restart(root: path), path)
    }

    /// Starts a node's core on `root` again; returns the log's contents once it started.
    private func restart(root path: String) async throws -> String {
        let root = FilePath(path)
        let folder = root.appending(".muse/op_log/live-1")
        let configuration = AgentConfiguration(root: root)
        let state = try StateFolder(opening: configuration.stateDirectory, opLogFolder: configuration.layout.opLogPath)
        let core = AgentCore(
            configuration: configuration,
            nodeID: NodeID("studio"),
            listen: PeerAddress(host: "127.0.0.1", port: 7420),
            stateFolder: state,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            statusBoard: StatusBoard()
        )
        try await core.start()
        return try String(contentsOfFile: folder.appending("ops.jsonl").string, encoding: .utf8)
    }

    @Test func theTornEndOfTheNodesOwnAppendIsCutOff() async throws {
        // The append wrote one whole line and half of the next before the kill.
        let batch = self.line("uuid-c", lamport: 3) + "\n" + self.line("uuid-d", lamport: 4) + "\n"
        let torn = self.line("uuid-c", lamport: 3) + "\n" + String(self.line("uuid-d", lamport: 4).prefix(70))
        let (contents, root) = try await self.start(tail: torn, intentLength: batch.utf8.count + 1)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(contents.hasSuffix(self.line("uuid-c", lamport: 3) + "\n"), "the whole line stays, the half goes")
        #expect(!contents.contains("uuid-d"))
    }

    @Test func anUnfinishedLineBegunBeforeTheAppendStays() async throws {
        // A Muse writer's half line was there before the node's append was recorded (which then
        // found the tail in progress and wrote nothing).
        let partial = String(self.line("uuid-m", lamport: 3).prefix(70))
        let before = (self.line("uuid-a", lamport: 1) + "\n" + self.line("uuid-b", lamport: 2) + "\n").utf8.count
        let (contents, root) = try await self.start(
            tail: partial,
            intentOffset: Int64(before + partial.utf8.count),
            intentLength: 1_000
        )
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(contents.hasSuffix(partial), "a writer's unfinished line is not the node's to cut")
    }

    @Test func anAppendThatFinishedIsNotTouched() async throws {
        // The record is of an append that completed; a writer's unfinished line came after it.
        let after = self.line("uuid-c", lamport: 3) + "\n"
        let partial = String(self.line("uuid-m", lamport: 4).prefix(70))
        let (contents, root) = try await self.start(tail: after + partial, intentLength: after.utf8.count + 1)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(contents.hasSuffix(partial))
    }

    /// Muse appended while the node was down, after the torn end: its first line is glued to
    /// it. The start writes spaces over the torn part, so the line is Muse's entry again, with
    /// the file's size and every other byte unchanged; a second start changes nothing.
    @Test func aWritersLineGluedToTheTornEndIsItsEntryAgain() async throws {
        let batch = self.line("uuid-c", lamport: 3) + "\n" + self.line("uuid-d", lamport: 4) + "\n"
        let torn = String(self.line("uuid-d", lamport: 4).prefix(70))
        let muse = self.line("uuid-m", lamport: 5)
        let next = self.line("uuid-n", lamport: 6)
        let tail = self.line("uuid-c", lamport: 3) + "\n" + torn + muse + "\n" + next + "\n"
        let (contents, root) = try await self.start(tail: tail, intentLength: batch.utf8.count + 1)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let lines = contents.split(separator: "\n").map(String.init)
        let blanked = String(repeating: " ", count: torn.utf8.count) + muse
        #expect(lines.suffix(3) == [self.line("uuid-c", lamport: 3), blanked, next])
        #expect(contents.utf8.count == (self.line("uuid-a", lamport: 1) + "\n" + self.line("uuid-b", lamport: 2) + "\n" + tail).utf8.count)
        let entry = try OpEntry(line: Array(blanked.utf8))
        #expect(entry.opID.rawValue == "uuid-m")
        let again = try await self.restart(root: root)
        #expect(again == contents, "a second start changes nothing")
    }

    /// The usual shape: the append was long, the tear early, and Muse's line is shorter than
    /// what the tear lost, so the file now ends before where the append would have.
    @Test func aGluedLineInAFileShorterThanTheAppendIsFoundToo() async throws {
        let batch = (3...12).map { self.line("uuid-\($0)", lamport: $0) + "\n" }.joined()
        let torn = String(self.line("uuid-3", lamport: 3).prefix(19))
        let muse = self.line("uuid-m", lamport: 13)
        let (contents, root) = try await self.start(tail: torn + muse + "\n", intentLength: batch.utf8.count + 1)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let last = contents.split(separator: "\n").last.map(String.init)
        #expect(last == String(repeating: " ", count: 19) + muse)
    }

    /// The node's append completed and Muse's lines follow it: nothing is appended.
    @Test func completeLinesAfterAFinishedAppendAreLeftAlone() async throws {
        let after = self.line("uuid-c", lamport: 3) + "\n"
        let muse = self.line("uuid-m", lamport: 4) + "\n" + self.line("uuid-n", lamport: 5) + "\n"
        let (contents, root) = try await self.start(tail: after + muse, intentLength: after.utf8.count + 1)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(contents.hasSuffix(after + muse))
        #expect(contents.components(separatedBy: "uuid-m").count == 2)
    }
}
