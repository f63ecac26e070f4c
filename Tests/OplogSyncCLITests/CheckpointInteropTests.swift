import Foundation
import Testing

/// Checkpoints shared with Muse (DESIGN §2 and §3 "Checkpoints and late entries").
@Suite(
    "Checkpoints with Muse",
    .enabled(if: TestEnvironment.hasPython, "python3 is not on PATH: skipping the Muse interop tests")
)
struct CheckpointInteropTests {
    @Test("`checkpoint` writes and prints Muse's indent=2 layout, which Muse reads and replays")
    func checkpointIsMuseShaped() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "ckpt")
            try await commands.museWrite(actor: "muse-a", count: 4)
            try await commands.append(actor: "zoë", op: #"{"op":"insert","seq":0}"#)
            try await commands.museAppend(actor: "muse-b", lamportTimestamp: 2, op: #"{"op":"delete"}"#)
            try await commands.append(actor: "zoë", op: #"{"op":"insert","seq":1}"#)
            let entries = try readEntries(commands.files)

            let output = try await commands.oplogSync("checkpoint", ["--snapshot", "snap-1"])
            let fileBytes = try #require(FileManager.default.contents(atPath: commands.files.checkpointPath))
            #expect(output.standardOutput == Array(fileBytes), "prints the bytes it wrote")

            // Python reads it, and writing what it read back as Muse does gives the same bytes.
            let redump = try await Programs.museLike(["redump-checkpoint", commands.files.checkpointPath])
            #expect(redump.exitCode == 0, "\(redump)")
            #expect(redump.standardOutput.text == Array(fileBytes).text, "json.dumps(json.loads(file), indent=2) + \"\\n\"")

            let checkpoint = try JSON.object(JSON.parse(Array(fileBytes)))
            #expect(checkpoint["session_id"] as? String == "ckpt")
            #expect(checkpoint["snapshot_id"] as? String == "snap-1")
            #expect(checkpoint["lamport_ts"] as? Int == entries.map(\.lamportTimestamp).max())
            #expect(checkpoint["op_count"] as? Int == entries.count)
            #expect(checkpoint["created_at"] is String)
            let frontier = try JSON.object(try #require(checkpoint["frontier"]))
            let highest = Dictionary(grouping: entries, by: \.actorID).mapValues { $0.map(\.lamportTimestamp).max() ?? 0 }
            #expect(frontier.mapValues { $0 as? Int } == highest.mapValues { Optional($0) })
            #expect(Array(fileBytes).text.contains(#""zo\u00eb""#), "non-ASCII actor ids escaped as Python does")

            let museView = try await commands.museLike("read-checkpoint")
            #expect(try JSON.normalForm(JSON.parse(museView.standardOutput)) == JSON.normalForm(checkpoint))
            #expect(try await commands.museReplay().isEmpty, "Muse replays nothing: the checkpoint covers it all")
            #expect(try await commands.log(["--since-checkpoint"]).isEmpty)

            // New entries after the checkpoint: both replays return exactly them, in file order.
            try await commands.museWrite(actor: "muse-c", count: 2)
            let late = try await commands.append(actor: "zoë", op: #"{"op":"move","seq":2}"#)
            let newIDs = try readEntries(commands.files).suffix(3).map(\.opID)
            #expect(newIDs.last == late)
            #expect(try await commands.museReplay().map(\.opID) == newIDs)
            #expect(try await commands.log(["--since-checkpoint"]).map(\.opID) == newIDs)
            try await expectDeltasAgree(commands)
        }
    }

    @Test("a Muse checkpoint (no frontier) is honoured as Muse defines it: lamport_ts cutoff")
    func museCheckpointIsALamportCutoff() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "muse-ckpt")
            try await commands.museWrite(actor: "muse-a", count: 5)
            try await commands.append(actor: "cli", op: #"{"op":"insert","seq":0}"#)
            let written = try await commands.museLike("checkpoint", ["snap-m"])
            #expect(try JSON.object(JSON.parse(written.standardOutput))["lamport_ts"] as? Int == 6)
            #expect(try await commands.log(["--since-checkpoint"]).isEmpty)
            let emptyDelta = try await commands.delta()
            #expect(emptyDelta.ops.isEmpty)
            #expect(emptyDelta.summary == "no ops")

            // After it: an offline actor's entry below the cutoff, and entries above it.
            try await commands.museAppend(actor: "offline", lamportTimestamp: 3, op: #"{"op":"delete","seq":0}"#)
            try await commands.museWrite(actor: "muse-b", count: 2)
            try await commands.append(actor: "cli", op: #"{"op":"insert","seq":1}"#)
            let entries = try readEntries(commands.files)
            let expected = entries.filter { $0.lamportTimestamp > 6 }.map(\.opID)
            #expect(expected.count == 3)
            #expect(try await commands.museReplay().map(\.opID) == expected)
            #expect(try await commands.log(["--since-checkpoint"]).map(\.opID) == expected)
            #expect(try await commands.log(["--since-checkpoint", "--canonical"]).map(\.lamportTimestamp) == [7, 8, 9])
            try await expectDeltasAgree(commands)
        }
    }

    @Test("an offline actor's late, low-timestamp entry after our checkpoint is still replayed")
    func lateEntryFromOfflineActorIsReplayed() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "offline")
            try await commands.museWrite(actor: "muse-a", count: 5)
            try await commands.append(actor: "cli", op: #"{"op":"insert","seq":0}"#)
            try await commands.append(actor: "cli", op: #"{"op":"insert","seq":1}"#)
            _ = try await commands.oplogSync("checkpoint", ["--snapshot", "snap-1"])
            #expect(try await commands.log(["--since-checkpoint"]).isEmpty)

            // The laptop worked offline at lamport_ts 2 and 3; its entries arrive now, written
            // straight into the file (as replication would), then a regular append follows.
            let lateOp = #"{"op":"delete","seq":0}"#
            let late = try await commands.museAppend(actor: "laptop", lamportTimestamp: 2, op: lateOp)
            let laterOp = #"{"op":"velocity","seq":1}"#
            let later = try await commands.museAppend(actor: "laptop", lamportTimestamp: 3, op: laterOp)
            let fresh = try await commands.append(actor: "cli", op: #"{"op":"insert","seq":2}"#)

            #expect(try await commands.log(["--since-checkpoint"]).map(\.opID) == [late, later, fresh])
            #expect(try await commands.log(["--since-checkpoint", "--canonical"]).map(\.opID) == [late, later, fresh])
            let delta = try await commands.delta()
            let expectedOps = try [lateOp, laterOp, #"{"op":"insert","seq":2}"#].map { try JSON.normalForm(JSON.parse($0)) }
            #expect(delta.ops == expectedOps)
            #expect(delta.summary == "1 delete, 1 insert, 1 velocity")

            // Muse's own algorithm (lamport_ts cutoff) skips the late entries: the difference
            // DESIGN §3 describes, and the reason checkpoints carry a frontier.
            #expect(try await commands.museReplay().map(\.opID) == [fresh])
            let museDelta = try await commands.museDelta()
            #expect(museDelta.summary == "1 insert")
        }
    }
}
