import Foundation
import Testing

@testable import OpLog

@Suite("Checkpoints")
struct CheckpointTests {
    @Test func madeCheckpointHasMuseLayoutPlusFrontier() throws {
        let checkpoint = Checkpoint.make(
            sessionID: try SessionID(validating: "s"),
            snapshotID: "snap-\u{E9}",
            lamportTimestamp: 9,
            opCount: 3,
            createdAt: "2026-01-01T00:00:00+00:00",
            frontier: Frontier(["bob": 9, "alice": 4])
        )
        let expected = """
            {
              "session_id": "s",
              "snapshot_id": "snap-\\u00e9",
              "lamport_ts": 9,
              "op_count": 3,
              "created_at": "2026-01-01T00:00:00+00:00",
              "frontier": {
                "alice": 4,
                "bob": 9
              }
            }

            """
        #expect(checkpoint.bytes.text == expected)
        #expect(checkpoint.snapshotID == "snap-é")
    }

    @Test func museCheckpointWithoutFrontierUsesTheTimestampCutoff() throws {
        let muse = "{\n  \"session_id\": \"s\",\n  \"snapshot_id\": \"x\",\n  \"lamport_ts\": 5,\n  \"op_count\": 5,\n  \"created_at\": \"t\"\n}\n"
        let checkpoint = try Checkpoint(bytes: Array(muse.utf8))
        #expect(checkpoint.frontier == nil)
        #expect(checkpoint.covers(actorID: "anyone", lamportTimestamp: 5))
        #expect(!checkpoint.covers(actorID: "anyone", lamportTimestamp: 6))
    }

    @Test(arguments: [
        "", "{", "[]", #"{"session_id":"s"}"#, #"{"session_id":"s","snapshot_id":"x","lamport_ts":-1,"op_count":0}"#,
        #"{"session_id":"s","snapshot_id":"x","lamport_ts":1,"op_count":0,"frontier":[]}"#,
        // Values outside the JSON-safe range (DESIGN §7): a poisoned checkpoint that every
        // replica would keep for good.
        #"{"session_id":"s","snapshot_id":"x","lamport_ts":9000000000000000000,"op_count":0}"#,
        #"{"session_id":"s","snapshot_id":"x","lamport_ts":9007199254740992,"op_count":0}"#,
        #"{"session_id":"s","snapshot_id":"x","lamport_ts":1,"op_count":9007199254740992}"#,
        #"{"session_id":"s","snapshot_id":"x","lamport_ts":1,"op_count":0,"frontier":{"a":9007199254740992}}"#,
        #"{"session_id":"s","snapshot_id":"x","lamport_ts":1.5,"op_count":0}"#,
    ])
    func invalidCheckpointsAreRejected(text: String) {
        #expect(throws: OpLogError.self) { try Checkpoint(bytes: Array(text.utf8)) }
    }

    /// An offline actor's entries that arrive after a checkpoint with timestamps below it are
    /// still replayed; Muse's timestamp cutoff alone would drop them.
    @Test func frontierReplayKeepsLateEntriesFromOfflineActors() throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw([museLine(id: "a1", actor: "alice", lamport: 1), museLine(id: "a2", actor: "alice", lamport: 10)].joined(separator: "\n") + "\n", session: "s")
        let log = try directory.opLog("s")
        let checkpoint = try log.checkpoint(snapshotID: "snap1")
        #expect(checkpoint.lamportTimestamp == 10)
        #expect(checkpoint.opCount == 2)
        // Bob worked offline at timestamps 2 and 3; his entries arrive now.
        try directory.appendRaw([museLine(id: "b2", actor: "bob", lamport: 2), museLine(id: "b3", actor: "bob", lamport: 3), museLine(id: "a11", actor: "alice", lamport: 11)].joined(separator: "\n") + "\n", session: "s")
        #expect(try log.replaySinceCheckpoint().map(\.opID.rawValue) == ["b2", "b3", "a11"])
        #expect(try log.structuredDelta(domain: "music").ops.count == 3)
        // Muse's own rule on the same files.
        let museRule = try log.readAll().filter { $0.lamportTimestamp > checkpoint.lamportTimestamp }
        #expect(museRule.map(\.opID.rawValue) == ["a11"])
    }

    /// Muse rewrites checkpoint.json in place: a reader that catches it half-written waits for
    /// the writer, and a file that stays broken is an error, not "no checkpoint".
    @Test func halfWrittenCheckpointIsWaitedForThenRefused() throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n", session: "s")
        let path = directory.sessionFolder("s") + "/checkpoint.json"
        let full = "{\n  \"session_id\": \"s\",\n  \"snapshot_id\": \"x\",\n  \"lamport_ts\": 1,\n  \"op_count\": 1,\n  \"created_at\": \"t\"\n}\n"
        try Data(full.prefix(20).utf8).write(to: URL(fileURLWithPath: path))
        let log = try directory.log("s")
        #expect(throws: OpLogError.self) { try log.readCheckpoint(patience: .milliseconds(50)) }
        // The "writer" finishing its write once the read below has read the half-written file
        // (inotify reports it closing the file), on a thread of its own: the read blocks its
        // thread, and on a loaded 2-core machine an async task could wait for a free one.
        let events = inotify_init1(Int32(IN_CLOEXEC))
        try #require(events >= 0)
        try #require(inotify_add_watch(events, path, UInt32(IN_CLOSE_NOWRITE)) >= 0)
        let writer = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while read(events, &buffer, buffer.count) < 0 && errno == EINTR {}
            close(events)
            try? Data(full.utf8).write(to: URL(fileURLWithPath: path))
        }
        writer.start()
        let checkpoint = try log.readCheckpoint(patience: .seconds(30))
        #expect(checkpoint?.snapshotID == "x")
    }

    @Test func checkpointReplacesAtomicallyAndKeepsHistory() throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n", session: "s")
        // A Muse-written checkpoint first.
        let museCheckpoint = "{\n  \"session_id\": \"s\",\n  \"snapshot_id\": \"muse\",\n  \"lamport_ts\": 1,\n  \"op_count\": 1,\n  \"created_at\": \"t\"\n}\n"
        try Data(museCheckpoint.utf8).write(to: URL(fileURLWithPath: directory.sessionFolder("s") + "/checkpoint.json"))
        let path = directory.sessionFolder("s") + "/checkpoint.json"
        let inodeBefore = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int

        let log = try directory.opLog("s")
        let first = try log.checkpoint(snapshotID: "one")
        let inodeAfter = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int
        #expect(inodeBefore != inodeAfter, "replaced by rename, not rewritten in place")
        let second = try log.checkpoint(snapshotID: "two")
        #expect(try directory.contents(".muse/op_log/s/checkpoint.json") == second.bytes)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.sessionFolder("s")).filter { $0.contains("tmp") }
        #expect(leftovers.isEmpty)
        let history = try log.log.checkpointHistory().map(\.snapshotID)
        #expect(history == ["muse", "one", "two"])
        #expect(try log.log.checkpointHistory().first?.bytes.text == museCheckpoint)
        _ = first
    }

    /// Readers racing the writer see the old or the new checkpoint, never a partial file.
    @Test func concurrentReadersNeverSeeAPartialCheckpoint() async throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n", session: "s")
        let log = try directory.opLog("s")
        _ = try log.checkpoint(snapshotID: "start")
        let path = directory.sessionFolder("s") + "/checkpoint.json"
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                for round in 0..<300 { _ = try log.checkpoint(snapshotID: "snapshot-\(round)-" + String(repeating: "z", count: round % 50)) }
                return 0
            }
            group.addTask {
                var reads = 0
                for _ in 0..<3000 {
                    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
                    _ = try Checkpoint(bytes: bytes)  // throws on a partial file
                    reads += 1
                }
                return reads
            }
            var total = 0
            for try await count in group { total += count }
            #expect(total == 3000)
        }
    }

    @Test func theGreatestJSONSafeTimestampIsAccepted() throws {
        let text = #"{"session_id":"s","snapshot_id":"x","lamport_ts":9007199254740991,"op_count":9007199254740991,"frontier":{"a":9007199254740991}}"#
        let checkpoint = try Checkpoint(bytes: Array(text.utf8))
        #expect(checkpoint.lamportTimestamp == LamportClock.maximumTimestamp)
    }
}
