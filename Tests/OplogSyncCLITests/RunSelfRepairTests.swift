import Foundation
import Subprocess
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension RunProcessTests {
    /// What a running node does about files it did not write going wrong beside it: a damaged
    /// `checkpoint.json` is put back, one naming another session is reported once and kept to
    /// itself, a checkpoint a writer just made is not overwritten unseen (DESIGN §3.7), and a
    /// watcher that cannot go on stops the node instead of leaving it running blind.
    @Suite("Self-repair beside writers")
    struct SelfRepairTests {
        typealias Key = CheckpointTests.Key

        // MARK: Damaged checkpoint.json

        @Test("a checkpoint.json damaged while the node runs is put back, byte for byte, to the greatest known")
        func damagedCheckpointPutBack() async throws {
            let session = "damaged"
            try await withAgentCluster { cluster in
                let (a, b, checkpoint) = try await Self.twoNodesWithCheckpoint(cluster, session: session)

                // A Muse process that crashed while rewriting checkpoint.json in place, under a
                // running B: the file stays unparsable.
                try rewriteInPlace(b.files(session).checkpointPath, Self.damagedBytes)
                // The daemon lets the file settle (~2 s) before calling it damaged; the deadline
                // allows for that and for ticks on a loaded machine.
                try await waitFor("B to put its checkpoint.json back", timeout: .seconds(60)) {
                    let bytes = Self.bytes(b.files(session).checkpointPath)
                    return bytes == checkpoint ? nil : "B has \(String(reflecting: bytes.text))"
                }
                try await waitFor("B's warning about the damaged file", timeout: .seconds(10)) {
                    Self.logLines(b, containing: "checkpoint.json is not a checkpoint; putting back the greatest known", session: session)
                        .isEmpty ? "not logged" : nil
                }
                #expect(Self.bytes(a.files(session).checkpointPath) == checkpoint, "A's checkpoint is untouched")
                let verify = try await Programs.oplogSync(["verify", "--root", b.root, "--session", session])
                #expect(verify.exitCode == 0, "verify on B after the repair: \(verify)")
                // The damage is not a checkpoint, so it is not history either.
                #expect(try CheckpointTests.history(b, session).contains(Key(lamportTimestamp: 3, snapshotID: "snap-1")))
            }
        }

        @Test("verify names a damaged checkpoint.json (exit 1) while no node repairs it; a node started on it puts it back")
        func damagedCheckpointVerifiedThenRepairedAtStart() async throws {
            let session = "damaged-offline"
            try await withAgentCluster { cluster in
                let (a, b, checkpoint) = try await Self.twoNodesWithCheckpoint(cluster, session: session)

                try await b.stop()
                try rewriteInPlace(b.files(session).checkpointPath, Self.damagedBytes)
                let damaged = try await Programs.oplogSync(["verify", "--root", b.root, "--session", session])
                #expect(damaged.exitCode == 1, "verify on a damaged checkpoint exits 1: \(damaged)")
                let findings = damaged.stdoutLines + damaged.stderrLines
                #expect(
                    findings.contains { $0.hasPrefix("\(session):checkpoint.json: invalid checkpoint") },
                    "verify names the checkpoint: \(damaged)"
                )
                #expect(Self.bytes(b.files(session).checkpointPath) == Self.damagedBytes, "nothing repaired it meanwhile")

                // B starts on the damaged file: it ends on the greatest known again (from A, or
                // from what B itself knew), and verify is clean.
                try await b.start()
                try await waitFor("B to put its checkpoint.json back after starting", timeout: .seconds(60)) {
                    let bytes = Self.bytes(b.files(session).checkpointPath)
                    return bytes == checkpoint ? nil : "B has \(String(reflecting: bytes.text))"
                }
                let repaired = try await Programs.oplogSync(["verify", "--root", b.root, "--session", session])
                #expect(repaired.exitCode == 0, "verify on B after the repair: \(repaired)")
                #expect(Self.bytes(a.files(session).checkpointPath) == checkpoint)
            }
        }

        @Test("a checkpoint write that fails (checkpoint.json is a folder for a while) is retried until it lands")
        func failedCheckpointWriteRetried() async throws {
            let session = "retried"
            try await withAgentCluster { cluster in
                let (a, b, _) = try await Self.twoNodesWithCheckpoint(cluster, session: session)
                // Something in the way of B's checkpoint.json: no write can replace a folder.
                let path = b.files(session).checkpointPath
                try FileManager.default.removeItem(atPath: path)
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
                let greater = try await a.commands(session).oplogSync("checkpoint", ["--snapshot", "snap-2"]).standardOutput
                try await waitFor("B to fail to write A's checkpoint", timeout: .seconds(60)) {
                    Self.logLines(b, containing: "cannot write checkpoint.json; retrying", session: session)
                        .isEmpty ? "not logged" : nil
                }
                // The folder goes; nothing else happens to B (no new checkpoint, no restart): only
                // B's retry can put the file there.
                try FileManager.default.removeItem(atPath: path)
                try await waitFor("B to write A's checkpoint once it can", timeout: .seconds(60)) {
                    let bytes = Self.bytes(path)
                    return bytes == greater ? nil : "B has \(String(reflecting: bytes.text))"
                }
                let verify = try await Programs.oplogSync(["verify", "--root", b.root, "--session", session])
                #expect(verify.exitCode == 0, "verify on B: \(verify)")
            }
        }

        // MARK: A checkpoint naming another session

        @Test("a checkpoint.json naming another session is reported once, however often it is read, and never shared")
        func foreignCheckpointReportedOnce() async throws {
            let session = "foreign"
            // Sorts after `session`: within one batch of changes the node reads sessions in
            // order, so once this one's report is logged, every read of `session` before it is done.
            let markerSession = "foreign-zz-marker"
            let warning = "checkpoint.json names another session"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                let seeded = try await appendOps(a, session: session, actor: "writer-a", count: 3)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(seeded))

                // Muse's layout, but the session_id of another session (a file copied over).
                let foreign = CheckpointTests.museCheckpoint(session: "other", snapshotID: "snap-other", lamportTimestamp: 3, opCount: 3)
                try rewriteInPlace(a.files(session).checkpointPath, Array(foreign.utf8))
                try await waitFor("A to report the checkpoint naming another session", timeout: .seconds(30)) {
                    Self.logLines(a, containing: warning, session: session).isEmpty ? "not logged" : nil
                }

                // The same file read again and again: rewritten in place with the same bytes (each
                // rewrite a change the watcher reports), and ops appended beside it.
                for _ in 0..<3 {
                    try rewriteInPlace(a.files(session).checkpointPath, Array(foreign.utf8))
                }
                let later = try await appendOps(a, session: session, actor: "writer-a", count: 2)
                try await waitFor("A's later entries on B") { holdsGap(b.replica(session), later) }
                let marker = CheckpointTests.museCheckpoint(session: "other", snapshotID: "snap-marker", lamportTimestamp: 1, opCount: 1)
                try FileManager.default.createDirectory(atPath: a.files(markerSession).sessionFolder, withIntermediateDirectories: true)
                try rewriteInPlace(a.files(markerSession).checkpointPath, Array(marker.utf8))
                try await waitFor("A to report the marker session's checkpoint", timeout: .seconds(30)) {
                    Self.logLines(a, containing: warning, session: markerSession).isEmpty ? "not logged" : nil
                }

                let reports = Self.logLines(a, containing: warning, session: session)
                #expect(reports.count == 1, "reported once for one file state, not at every read:\n\(reports.joined(separator: "\n"))")
                // Not offered: B neither has it nor refused it.
                let onB = Self.bytes(b.files(session).checkpointPath)
                #expect(onB.isEmpty || (try? CheckpointTests.key(onB))?.snapshotID != "snap-other", "B has \(onB.text)")
                #expect(try !CheckpointTests.history(b, session).contains { $0.snapshotID == "snap-other" })
                let refusals = b.logText().split(separator: "\n").filter { $0.contains("sent as session") }
                #expect(refusals.isEmpty, "B was offered (and refused) the foreign checkpoint:\n\(refusals.joined(separator: "\n"))")
                #expect(Self.bytes(a.files(session).checkpointPath) == Array(foreign.utf8), "A leaves the file to its writer")
            }
        }

        // MARK: A checkpoint a writer just made

        /// How a writer on B checkpoints while B's node is stopped.
        enum LocalWriter: String, CaseIterable, Sendable, CustomTestStringConvertible {
            /// `oplog-sync checkpoint`, which records its checkpoint in the history itself.
            case oplogSyncCheckpoint = "oplog-sync checkpoint"
            /// Muse's `checkpoint()`: checkpoint.json rewritten in place, no history. Only the
            /// node, replacing the file later, can keep it.
            case museRewrite = "Muse's in-place rewrite"
            var testDescription: String { self.rawValue }
        }

        @Test(
            "a checkpoint made on a stopped node gives way to a peer's greater one when it starts, and stays in history",
            arguments: LocalWriter.allCases
        )
        func localCheckpointWhileStoppedKeptInHistory(writer: LocalWriter) async throws {
            let session = "stopped-writer"
            try await withAgentCluster { cluster in
                let (a, b, first) = try await Self.twoNodesWithCheckpoint(cluster, session: session)
                #expect(try CheckpointTests.key(first) == Key(lamportTimestamp: 3, snapshotID: "snap-1"))

                try await b.stop()
                // A goes on: more entries, then a checkpoint at a greater lamport_ts.
                _ = try await appendOps(a, session: session, actor: "writer-a", count: 3)
                let checkpointA = try await a.commands(session).oplogSync("checkpoint", ["--snapshot", "snap-a"]).standardOutput
                #expect(try CheckpointTests.key(checkpointA) == Key(lamportTimestamp: 6, snapshotID: "snap-a"))
                // Meanwhile a writer on B checkpoints what B has: a lesser lamport_ts.
                switch writer {
                case .oplogSyncCheckpoint:
                    _ = try await b.commands(session).oplogSync("checkpoint", ["--snapshot", "snap-b"])
                case .museRewrite:
                    let muse = CheckpointTests.museCheckpoint(session: session, snapshotID: "snap-b", lamportTimestamp: 3, opCount: 3)
                    try rewriteInPlace(b.files(session).checkpointPath, Array(muse.utf8))
                    #expect(try !CheckpointTests.history(b, session).contains { $0.snapshotID == "snap-b" })
                }
                let checkpointB = Self.bytes(b.files(session).checkpointPath)
                #expect(try CheckpointTests.key(checkpointB) == Key(lamportTimestamp: 3, snapshotID: "snap-b"))

                try await b.start()
                try await cluster.expectConverged(session, on: [a, b], minimumLines: 6)
                try await CheckpointTests.waitForCheckpoint(checkpointA, on: [a, b], session: session)
                let history = try CheckpointTests.history(b, session)
                #expect(history.contains(Key(lamportTimestamp: 3, snapshotID: "snap-b")), "B keeps its writer's checkpoint: \(history)")
                #expect(history.contains(Key(lamportTimestamp: 6, snapshotID: "snap-a")), "\(history)")
            }
        }

        @Test("a peer's checkpoint does not replace one a writer put in checkpoint.json since the node last read it")
        func unseenLocalCheckpointNotReplaced() async throws {
            let session = "unseen-writer"
            try await withAgentCluster { cluster in
                let (a, b, first) = try await Self.twoNodesWithCheckpoint(cluster, session: session)
                let seededKey = try CheckpointTests.key(first)

                // A writer on B checkpoints at B's greatest lamport_ts, rewriting checkpoint.json in
                // place through another name of the same file (a hard link outside the session
                // folder), so that B's watcher, which watches the session folder, is not told:
                // B's node still believes the file holds snap-1.
                let entriesOnB = try readEntries(b.files(session))
                let lamport = try #require(entriesOnB.map(\.lamportTimestamp).max())
                #expect(lamport == seededKey.lamportTimestamp)
                let local = CheckpointTests.museCheckpoint(
                    session: session,
                    snapshotID: "snap-b",
                    lamportTimestamp: lamport,
                    opCount: entriesOnB.count
                )
                let otherName = cluster.folder.path("checkpoint-link.json")
                try FileManager.default.linkItem(atPath: b.files(session).checkpointPath, toPath: otherName)
                try rewriteInPlace(otherName, Array(local.utf8))
                #expect(Self.bytes(b.files(session).checkpointPath) == Array(local.utf8))

                // A checkpoints the same entries as snap-a: greater than snap-1, lesser than snap-b
                // (same lamport_ts, lesser snapshot_id). B's node is asked to write snap-a over
                // what it believes is snap-1; it must find snap-b there instead, and keep it.
                let checkpointA = try await a.commands(session).oplogSync("checkpoint", ["--snapshot", "snap-a"]).standardOutput
                #expect(try CheckpointTests.key(checkpointA) == Key(lamportTimestamp: lamport, snapshotID: "snap-a"))
                try await CheckpointTests.waitForCheckpoint(Array(local.utf8), on: [a, b], session: session)
                try await waitFor("snap-a in A's history") {
                    try CheckpointTests.history(a, session).contains(Key(lamportTimestamp: lamport, snapshotID: "snap-a"))
                        ? nil : "\(try CheckpointTests.history(a, session))"
                }
            }
        }

        // MARK: The watcher

        @Test("the op log folder replaced by a file stops the watcher, and the node exits non-zero saying so")
        func watcherFailureStopsTheNode() async throws {
            let session = "watched"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                let seeded = try await appendOps(a, session: session, actor: "writer-a", count: 2)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(seeded))

                // `op_log` becomes a regular file in one step (the folder is swapped out with
                // renameat2(RENAME_EXCHANGE)), so the watcher cannot make it a folder again first.
                let opLog = "\(a.root)/.muse/op_log"
                let replacement = "\(a.root)/.muse/op_log-replacement"
                try rewriteInPlace(replacement, Array("not a folder\n".utf8))
                try exchangePaths(opLog, replacement)
                var info = stat()
                #expect(lstat(opLog, &info) == 0 && info.st_mode & S_IFMT == S_IFREG, "op_log is now a regular file")

                let status = try await a.waitForExit(timeout: .seconds(60))
                switch status {
                case .exited(let code):
                    #expect(code != 0, "the node exits non-zero when its watcher stops")
                default:
                    Issue.record("the node ends by a signal, not an exit: \(status)\n\(a.crashReport())")
                }
                #expect(a.logText().contains("watcher stopped; stopping the node"), "\(a.logTail())")
                #expect(!a.logText().contains("Fatal error"), "\(a.crashReport())")
                #expect(b.isRunning, "B is not affected")
            }
        }

        // MARK: Helpers

        /// What a writer that crashed mid-rewrite leaves: not JSON.
        static let damagedBytes = Array(#"{"not a checkpoint"#.utf8)

        /// Starts A and B (B dials A), replicates 3 entries of `session` and a checkpoint `snap-1`
        /// made on A (lamport_ts 3) to B; returns the checkpoint's bytes.
        static func twoNodesWithCheckpoint(
            _ cluster: AgentCluster,
            session: String
        ) async throws -> (AgentProcess, AgentProcess, [UInt8]) {
            let a = try await cluster.start("A")
            let b = try await cluster.start("B", peers: [a])
            let seeded = try await appendOps(a, session: session, actor: "writer-a", count: 3)
            try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(seeded))
            let checkpoint = try await a.commands(session).oplogSync("checkpoint", ["--snapshot", "snap-1"]).standardOutput
            try await CheckpointTests.waitForCheckpoint(checkpoint, on: [a, b], session: session)
            return (a, b, checkpoint)
        }

        static func bytes(_ path: String) -> [UInt8] {
            FileManager.default.contents(atPath: path).map { Array($0) } ?? []
        }

        /// The agent's log lines that contain `text` and are about `session`.
        static func logLines(_ agent: AgentProcess, containing text: String, session: String) -> [String] {
            // Metadata comes before the message as `key=value ` pairs.
            agent.logText().split(separator: "\n").map(String.init).filter { line in
                line.contains(text) && line.contains(" session=\(session) ")
            }
        }
    }
}

/// Rewrites the file at `path` in place, as Muse rewrites checkpoint.json: open with truncation
/// (creating it if missing), one write, close.
func rewriteInPlace(_ path: String, _ bytes: [UInt8]) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(descriptor) }
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    guard written == bytes.count else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
}

/// Swaps two paths atomically (`renameat2` with `RENAME_EXCHANGE`, looked up in the C library,
/// whose Swift module does not declare it); they may be of different kinds, a folder and a file.
func exchangePaths(_ first: String, _ second: String) throws {
    typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    guard let symbol = dlsym(nil, "renameat2") else {
        throw AgentFailure("renameat2 is not in this C library")
    }
    let renameAt2 = unsafeBitCast(symbol, to: RenameAt2.self)
    let renameExchange: UInt32 = 1 << 1  // RENAME_EXCHANGE, <linux/fs.h>
    guard renameAt2(AT_FDCWD, first, AT_FDCWD, second, renameExchange) == 0 else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
}
