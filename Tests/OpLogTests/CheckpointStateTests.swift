import Foundation
import SystemPackage
import Testing

@testable import OpLog

/// ``SessionLog/checkpointState(now:settleAge:)``: one look, no waiting; a torn file is "being
/// written" while young and "invalid" once it has settled.
@Suite("Checkpoint state")
struct CheckpointStateTests {
    static let full = "{\n  \"session_id\": \"s\",\n  \"snapshot_id\": \"x\",\n  \"lamport_ts\": 1,\n  \"op_count\": 1,\n  \"created_at\": \"t\"\n}\n"

    @Test func missingSessionOrFileIsMissing() throws {
        let directory = try TemporaryDirectory()
        guard case .missing = try directory.log("s").checkpointState() else {
            Issue.record("no session folder: missing")
            return
        }
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n", session: "s")
        guard case .missing = try directory.log("s").checkpointState() else {
            Issue.record("no checkpoint.json: missing")
            return
        }
    }

    @Test func aCheckpointIsValid() throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n", session: "s")
        try Data(Self.full.utf8).write(to: URL(fileURLWithPath: directory.sessionFolder("s") + "/checkpoint.json"))
        guard case .valid(let checkpoint) = try directory.log("s").checkpointState() else {
            Issue.record("a whole checkpoint is valid")
            return
        }
        #expect(checkpoint.snapshotID == "x")
    }

    @Test("a torn file is being written while young, invalid once settled", arguments: ["", "{\n  \"session_id\": \"s\",\n  \"snap"])
    func tornFileDependsOnItsAge(text: String) throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n", session: "s")
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory.sessionFolder("s") + "/checkpoint.json"))
        let log = try directory.log("s")
        guard case .beingWritten(let young) = try log.checkpointState() else {
            Issue.record("a file written just now is being written")
            return
        }
        #expect(young.code == .invalidCheckpoint)
        #expect(young.message.contains(log.checkpointPath.string))
        // The same file seen from later, and the same file aged.
        let later = WallClockTime.now().seconds + 60
        guard case .invalid(let settled) = try log.checkpointState(now: WallClockTime(seconds: later, nanoseconds: 0)) else {
            Issue.record("a file unchanged for a minute is invalid")
            return
        }
        #expect(settled.code == .invalidCheckpoint)
        try directory.age(".muse/op_log/s/checkpoint.json", bySeconds: 30)
        guard case .invalid = try log.checkpointState() else {
            Issue.record("an aged torn file is invalid")
            return
        }
        // The retrying read still refuses it after its patience, with the same error.
        #expect { try log.readCheckpoint(patience: .milliseconds(20)) } throws: {
            ($0 as? OpLogError)?.code == .invalidCheckpoint
        }
    }

    @Test func aLinkedCheckpointIsRefused() throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n", session: "s")
        let outside = try TemporaryDirectory()
        try Data(Self.full.utf8).write(to: URL(fileURLWithPath: outside.path + "/checkpoint.json"))
        try FileManager.default.createSymbolicLink(
            atPath: directory.sessionFolder("s") + "/checkpoint.json",
            withDestinationPath: outside.path + "/checkpoint.json"
        )
        #expect { try directory.log("s").checkpointState() } throws: { ($0 as? OpLogError)?.code == .unsafePath }
    }
}
