import Foundation
import Testing

extension RunProcessTests {
    /// DESIGN §3.10: "Read-only replicas receive everything and offer nothing of their own."
    @Suite("Read-only replica")
    struct ReadOnlyTests {
        @Test("R (--read-only) receives all of A's entries and checkpoints; nothing written on R reaches A")
        func readOnlyReplica() async throws {
            let session = "backup"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let r = try await cluster.start("R", peers: [a], isReadOnly: true)

                let first = try await appendOps(a, session: session, actor: "writer-a", count: 20)
                try await cluster.expectConverged(session, on: [a, r], expectedOpIDs: Set(first))
                _ = try await a.commands(session).oplogSync("checkpoint", ["--snapshot", "snap-a"])
                let checkpointA = try #require(FileManager.default.contents(atPath: a.files(session).checkpointPath))
                try await waitFor("A's checkpoint on R") {
                    FileManager.default.contents(atPath: r.files(session).checkpointPath) == checkpointA ? nil : "not yet"
                }

                // R's own writers: an entry in the shared session, one in a session only R has,
                // and a checkpoint greater than A's.
                let onR = try await r.commands(session).append(actor: "writer-r", op: #"{"op":"delete","seq":0}"#)
                let privateSession = try await appendOps(r, session: "only-on-r", actor: "writer-r", count: 2)
                _ = try await r.commands(session).oplogSync("checkpoint", ["--snapshot", "snap-r"])
                // A's next entry reaching R shows the link still works after R's writes.
                let second = try await appendOps(a, session: session, actor: "writer-a", count: 5)
                try await waitFor("A's later entries on R") { holdsGap(r.replica(session), second) }
                // R's acknowledgement of all 25 reaches A on the same stream as anything R would
                // have shipped of its own writes (made before): once A has recorded it, A has
                // handled those too.
                let rNode = try #require(r.nodeID)
                try await waitFor("A to record R's acknowledgement of all 25 entries") {
                    let progress = FileManager.default.contents(atPath: "\(a.stateDirectory)/progress.json")
                        .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
                    let mark = ((progress?["peers"] as? [String: Any])?[rNode] as? [String: Any])?[session] as? [String: Any]
                    return (mark?["acknowledged"] as? Int) == 25 ? nil : "recorded: \(String(describing: mark))"
                }

                #expect(occurrences(of: onR, in: a.replica(session)) == 0, "R's entry reached A")
                #expect(!FileManager.default.fileExists(atPath: a.files("only-on-r").sessionFolder), "R's session reached A")
                #expect(
                    FileManager.default.contents(atPath: a.files(session).checkpointPath) == checkpointA,
                    "A's checkpoint is still its own"
                )
                cluster.expectNoProblems(
                    replicaProblems([a.replica(session)], expectedOpIDs: Set(first + second)),
                    "A's file"
                )
                cluster.expectNoProblems(
                    replicaProblems([r.replica(session)], expectedOpIDs: Set(first + second + [onR])),
                    "R's file"
                )
                #expect(privateSession.count == 2)
                cluster.expectNoProblems(try await verifyProblems([a.replica(session), r.replica(session)]), "verify")
            }
        }

        @Test("a restarted read-only R still forwards what it received before the restart (A – R – C)")
        func readOnlyForwardsAfterRestart() async throws {
            let session = "relay"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let r = try await cluster.start("R", peers: [a], isReadOnly: true)
                let received = try await appendOps(a, session: session, actor: "writer-a", count: 5)
                let checkpoint = try await a.commands(session).oplogSync("checkpoint", ["--snapshot", "snap-a"]).standardOutput
                try await waitFor("A's entries and checkpoint on R") {
                    let onR = FileManager.default.contents(atPath: r.files(session).checkpointPath).map(Array.init)
                    return holdsGap(r.replica(session), received) ?? (onR == checkpoint ? nil : "R lacks A's checkpoint")
                }

                // R restarts; C, connected to R only, joins afterwards.
                try await r.restart(listen: .same)
                let c = try await cluster.start("C", peers: [r])
                let later = try await appendOps(a, session: session, actor: "writer-a", count: 1)
                try await waitFor("A's later entry on C, through R") { holdsGap(c.replica(session), later) }
                try await waitFor("A's earlier entries and checkpoint on C, through R", timeout: .seconds(20)) {
                    let entries = holdsGap(c.replica(session), received)
                    let onC = FileManager.default.contents(atPath: c.files(session).checkpointPath).map(Array.init)
                    let checkpointGap = onC == checkpoint ? nil : "C has no checkpoint.json, or another one"
                    let gaps = [entries, checkpointGap].compactMap { $0 }
                    return gaps.isEmpty ? nil : gaps.joined(separator: "; ")
                }
                try await cluster.expectConverged(session, on: [a, r, c], expectedOpIDs: Set(received + later))
            }
        }
    }
}
