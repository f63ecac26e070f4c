import Foundation
import Testing

extension RunProcessTests {
    /// DESIGN §3.7: "Every replica's checkpoint.json ends byte-identical to the checkpoint with
    /// the greatest (`lamport_ts`, `snapshot_id`); no checkpoint ever seen is lost."
    @Suite("Checkpoints", RunProcessTests.python)
    struct CheckpointTests {
        @Test("checkpoints from the CLI and from Muse's in-place rewrite converge on the greatest; the lesser stay in history")
        func checkpointsConverge() async throws {
            let session = "ckpt"
            try await withAgentCluster { cluster in
                // A works offline first: 4 entries and a checkpoint at lamport_ts 4.
                let a = try cluster.add("A")
                let offline = try await appendOps(a, session: session, actor: "writer-a", count: 4)
                let checkpointA = try await a.commands(session).oplogSync("checkpoint", ["--snapshot", "snap-a"]).standardOutput
                #expect(try Self.key(checkpointA) == Key(lamportTimestamp: 4, snapshotID: "snap-a"))

                // B runs meanwhile; Muse writes 2 entries there and rewrites checkpoint.json in
                // place at lamport_ts 2.
                let b = try await cluster.start("B")
                try await b.commands(session).museWrite(actor: "muse-b", count: 2)
                _ = try await b.commands(session).museLike("checkpoint", ["snap-b"])
                let checkpointB = Array(try #require(FileManager.default.contents(atPath: b.files(session).checkpointPath)))
                #expect(try Self.key(checkpointB) == Key(lamportTimestamp: 2, snapshotID: "snap-b"))

                // A comes online: (4, snap-a) wins on both.
                a.setPeers([try b.peerArgument()])
                try await a.start()
                try await cluster.expectConverged(session, on: [a, b], minimumLines: 6)
                try await Self.waitForCheckpoint(checkpointA, on: [a, b], session: session)
                #expect(try Self.history(b, session).contains(Key(lamportTimestamp: 2, snapshotID: "snap-b")), "B keeps its own in history")
                #expect(try Self.history(b, session).contains(Key(lamportTimestamp: 4, snapshotID: "snap-a")))

                // Same lamport_ts, greater snapshot_id: Muse's rewrite on B now wins.
                _ = try await b.commands(session).museLike("checkpoint", ["snap-b2"])
                let checkpointB2 = Array(try #require(FileManager.default.contents(atPath: b.files(session).checkpointPath)))
                #expect(try Self.key(checkpointB2) == Key(lamportTimestamp: 4, snapshotID: "snap-b2"))
                try await Self.waitForCheckpoint(checkpointB2, on: [a, b], session: session)
                #expect(try Self.history(a, session).contains(Key(lamportTimestamp: 4, snapshotID: "snap-a")), "A keeps snap-a in history")

                // A Muse process on A rewrites an older checkpoint in place (lower lamport_ts):
                // the greatest is put back, and the older one is kept in history.
                let stale = Self.museCheckpoint(session: session, snapshotID: "snap-stale", lamportTimestamp: 1, opCount: 1)
                try Data(stale.utf8).write(to: URL(fileURLWithPath: a.files(session).checkpointPath))
                try await Self.waitForCheckpoint(checkpointB2, on: [a, b], session: session)
                try await waitFor("the stale checkpoint in A's history") {
                    try Self.history(a, session).contains(Key(lamportTimestamp: 1, snapshotID: "snap-stale")) ? nil : "not there"
                }
                #expect(offline.count == 4)
            }
        }

        struct Key: Hashable, CustomStringConvertible {
            var lamportTimestamp: Int
            var snapshotID: String
            var description: String { "(\(self.lamportTimestamp), \(self.snapshotID))" }
        }

        static func key(_ bytes: [UInt8]) throws -> Key {
            let object = try JSON.object(JSON.parse(bytes))
            guard let lamport = object["lamport_ts"] as? Int, let snapshot = object["snapshot_id"] as? String else {
                throw UnexpectedJSON(description: "not a checkpoint: \(bytes.text)")
            }
            return Key(lamportTimestamp: lamport, snapshotID: snapshot)
        }

        /// The checkpoints in `checkpoint_history.jsonl` of the agent's session.
        static func history(_ agent: AgentProcess, _ session: String) throws -> [Key] {
            let path = "\(agent.files(session).sessionFolder)/checkpoint_history.jsonl"
            guard let data = FileManager.default.contents(atPath: path) else { return [] }
            return try splitCompleteLines(Array(data)).map(Self.key)
        }

        static func waitForCheckpoint(_ bytes: [UInt8], on agents: [AgentProcess], session: String) async throws {
            try await waitFor("checkpoint \(try Self.key(bytes)) byte for byte on \(agents.map(\.name))") {
                let differing = agents.filter { agent in
                    Array(FileManager.default.contents(atPath: agent.files(session).checkpointPath) ?? Data()) != bytes
                }
                .map { agent in
                    let current = Array(FileManager.default.contents(atPath: agent.files(session).checkpointPath) ?? Data())
                    return "\(agent.name) has \((try? Self.key(current))?.description ?? current.text)"
                }
                return differing.isEmpty ? nil : differing.joined(separator: ", ")
            }
        }

        /// A checkpoint as Muse's `checkpoint()` writes it (`json.dumps(ckpt, indent=2) + "\n"`).
        static func museCheckpoint(session: String, snapshotID: String, lamportTimestamp: Int, opCount: Int) -> String {
            """
            {
              "session_id": "\(session)",
              "snapshot_id": "\(snapshotID)",
              "lamport_ts": \(lamportTimestamp),
              "op_count": \(opCount),
              "created_at": "2026-11-25T21:40:58.123456+00:00"
            }

            """
        }
    }
}
