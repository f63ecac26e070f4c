import Foundation
import OpLog
import Testing

extension RunProcessTests {
    /// DESIGN §7's per-peer rules, with real nodes: a `peers:` entry's `sessions` globs and
    /// `receive: false` hold both ways, for entries and checkpoints, and a peer never learns the
    /// name of a session it may not see.
    @Suite("Per-peer rules")
    struct PeerRulesTests {
        /// Starts B, then A with a config file whose one `peers:` entry is B with `rules` (YAML
        /// lines under the entry, such as `sessions: ["song-*"]`); A dials B.
        private static func nodes(
            _ cluster: AgentCluster,
            rules: String,
            before: (AgentProcess, AgentProcess) async throws -> Void
        ) async throws -> (AgentProcess, AgentProcess) {
            let b = try cluster.add("B")
            let a = try cluster.add("A")
            try await before(a, b)
            try await b.start()
            let config = cluster.folder.path("a-config.yaml")
            let yaml = """
                peers:
                  - id: \(try #require(b.nodeID))
                    address: \(b.address)
                \(rules.split(separator: "\n").map { "    \($0)" }.joined(separator: "\n"))

                """
            try Data(yaml.utf8).write(to: URL(fileURLWithPath: config))
            a.setExtraArguments(["--config", config])
            try await a.start()
            return (a, b)
        }

        /// Lines of `count` entries by `actor` written straight into `agent`'s session.
        private static func write(_ agent: AgentProcess, _ session: String, actor: String, count: Int) throws -> [String] {
            var ids: [String] = []
            for index in 1...count {
                let line = museLine(actor: actor, lamportTimestamp: index)
                try agent.files(session).appendRaw(line + "\n")
                ids.append(try #require(opID(of: Array(line.utf8))))
            }
            return ids
        }

        private static func sessions(on agent: AgentProcess) -> Set<String> {
            Set((try? FileManager.default.contentsOfDirectory(atPath: "\(agent.root)/.muse/op_log")) ?? [])
        }

        /// A's rule for B is `sessions: ["song-*"]`: A ships B only those sessions and takes only
        /// those from B, entries and checkpoints alike, before and after the link is up; B never
        /// sees the name of A's other session, and A's status shows B current.
        @Test("sessions: [\"song-*\"] holds both ways, for entries and checkpoints; the other names never reach B")
        func sessionGlobsHoldBothWays() async throws {
            try await withAgentCluster { cluster in
                var written: [String: [String]] = [:]
                let (a, b) = try await Self.nodes(cluster, rules: #"sessions: ["song-*"]"#) { a, b in
                    written["song-a"] = try Self.write(a, "song-a", actor: "alice", count: 3)
                    written["hidden-a"] = try Self.write(a, "hidden-a", actor: "alice", count: 3)
                    written["song-b"] = try Self.write(b, "song-b", actor: "bob", count: 2)
                    written["private-b"] = try Self.write(b, "private-b", actor: "bob", count: 2)
                }
                try await waitFor("song-a on B and song-b on A") {
                    holdsGap(b.replica("song-a"), written["song-a"] ?? []) ?? holdsGap(a.replica("song-b"), written["song-b"] ?? [])
                }
                // While linked: more in every session, and a checkpoint on each side's two.
                written["hidden-a", default: []] += try await appendOps(a, session: "hidden-a", actor: "alice", count: 2)
                written["private-b", default: []] += try await appendOps(b, session: "private-b", actor: "bob", count: 2)
                for (agent, session) in [(a, "hidden-a"), (b, "private-b"), (a, "song-a"), (b, "song-b")] {
                    _ = try await agent.commands(session).oplogSync("checkpoint", ["--snapshot", "snap-\(session)"])
                }
                written["song-a", default: []] += try await appendOps(a, session: "song-a", actor: "alice", count: 2)
                written["song-b", default: []] += try await appendOps(b, session: "song-b", actor: "bob", count: 2)
                try await cluster.expectConverged("song-a", on: [a, b], expectedOpIDs: Set(written["song-a"] ?? []))
                try await cluster.expectConverged("song-b", on: [a, b], expectedOpIDs: Set(written["song-b"] ?? []))
                try await waitFor("both song checkpoints on both sides") {
                    for agent in [a, b] {
                        for session in ["song-a", "song-b"] {
                            let text = (try? String(contentsOfFile: agent.files(session).checkpointPath, encoding: .utf8)) ?? ""
                            if !text.contains("snap-\(session)") { return "\(agent.name) lacks \(session)'s checkpoint" }
                        }
                    }
                    return nil
                }
                // A shows B holding everything B may have: its lag counts only song-* sessions.
                try await waitFor("A's status to show B current") {
                    let peer = try await a.status().json["peers"]?.elements.first
                    return peer?["lag_entries"]?.integer == 0 ? nil : "\(peer ?? .null)"
                }

                #expect(Self.sessions(on: b) == ["song-a", "song-b", "private-b"], "B: \(Self.sessions(on: b))")
                #expect(Self.sessions(on: a) == ["song-a", "song-b", "hidden-a"], "A: \(Self.sessions(on: a))")
                #expect(!b.logText().contains("hidden-a"), "B's log names a session it may not see")
                let bStatus = String(decoding: try await b.status().bytes, as: UTF8.self)
                #expect(!bStatus.contains("hidden-a"), "B's /status names a session it may not see")
                #expect(a.files("hidden-a").completeLines().count == 5)
                #expect(b.files("private-b").completeLines().count == 4)
                for (agent, session) in [(a, "hidden-a"), (b, "private-b")] {
                    cluster.expectNoProblems(try await verifyProblems([agent.replica(session)]), "verify \(session)")
                }
            }
        }

        /// A's rule for B is `receive: false`: A ships B everything (entries and checkpoints),
        /// and writes nothing of B's: not its sessions, not its entries in a shared session, not
        /// its checkpoints. A's hello says so, so B does not even send them.
        @Test("receive: false: A ships to B and writes nothing B sends, entries or checkpoints")
        func receiveFalseTakesNothing() async throws {
            try await withAgentCluster { cluster in
                var written: [String: [String]] = [:]
                let (a, b) = try await Self.nodes(cluster, rules: "receive: false") { a, b in
                    written["from-a"] = try Self.write(a, "from-a", actor: "alice", count: 3)
                    written["shared"] = try Self.write(a, "shared", actor: "alice", count: 2)
                    written["from-b"] = try Self.write(b, "from-b", actor: "bob", count: 3)
                }
                let fromBShared = try await appendOps(b, session: "shared", actor: "bob", count: 2)
                _ = try await b.commands("from-b").oplogSync("checkpoint", ["--snapshot", "b-snap"])
                _ = try await a.commands("from-a").oplogSync("checkpoint", ["--snapshot", "a-snap"])
                written["from-a", default: []] += try await appendOps(a, session: "from-a", actor: "alice", count: 2)
                try await waitFor("A's entries and checkpoint on B") {
                    if let gap = holdsGap(b.replica("from-a"), written["from-a"] ?? []) { return gap }
                    if let gap = holdsGap(b.replica("shared"), written["shared"] ?? []) { return gap }
                    let text = (try? String(contentsOfFile: b.files("from-a").checkpointPath, encoding: .utf8)) ?? ""
                    return text.contains("a-snap") ? nil : "no checkpoint from A on B yet"
                }
                try await waitFor("A's status to show B current") {
                    let peer = try await a.status().json["peers"]?.elements.first
                    return peer?["lag_entries"]?.integer == 0 ? nil : "\(peer ?? .null)"
                }
                // A's own writes since travel the same link as anything of B's would.
                let marker = try await appendOps(a, session: "shared", actor: "alice", count: 1)
                try await waitFor("A's marker on B") { holdsGap(b.replica("shared"), marker) }

                // A's hello told B it takes nothing, so B sends it nothing and counts it current.
                let shipped = try await b.metrics().value("oplog_sync_entries_shipped_total") ?? -1
                #expect(shipped == 0, "B shipped \(shipped) entries to A, which takes none")
                try await waitFor("B's status to show A current") {
                    let peer = try await b.status().json["peers"]?.elements.first
                    return peer?["lag_entries"]?.integer == 0 ? nil : "\(peer ?? .null)"
                }
                #expect(!Self.sessions(on: a).contains("from-b"), "A: \(Self.sessions(on: a))")
                let sharedOnA = Set(ReplicaContents(a.replica("shared")).opIDs)
                #expect(sharedOnA.isDisjoint(with: fromBShared), "A wrote B's entries in the shared session")
                #expect(sharedOnA == Set((written["shared"] ?? []) + marker))
                #expect(!FileManager.default.fileExists(atPath: a.files("from-b").checkpointPath))
                #expect(b.files("shared").completeLines().count == 5, "B holds its own and A's")
            }
        }
    }
}
