import Foundation
import Testing

extension RunProcessTests {
    /// Three nodes, each connected to the other two, with a writer on each appending to the same
    /// session at the same time (DESIGN §3 1–5).
    @Suite("Three-node mesh", RunProcessTests.python)
    struct MeshTests {
        @Test("Muse's writer and two `append --op -` writers, 1,000 lines each on three nodes, converge")
        func threeWritersThreeNodes() async throws {
            let session = "mesh"
            let linesPerWriter = 1_000
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                let c = try await cluster.start("C", peers: [a, b])

                // A chaser on C builds on A's entries as they arrive there, so that B, which
                // gets C's child from C and its parent from A, must order what it writes.
                let chaserRounds = 15
                async let muse = a.commands(session).museWrite(actor: "muse-a", count: linesPerWriter)
                async let onB = appendOps(b, session: session, actor: "cli-b", count: linesPerWriter)
                async let onC = appendOps(c, session: session, actor: "cli-c", count: linesPerWriter)
                async let chased = Self.chase(on: c, session: session, parentActor: "muse-a", rounds: chaserRounds)
                try await muse
                let chasedIDs = try await chased
                let cliIDs = try await onB + onC

                let total = 3 * linesPerWriter + chasedIDs.count
                try await cluster.expectConverged(session, on: [a, b, c], minimumLines: total, timeout: .seconds(120))

                let entries = try readEntries(a.files(session))
                #expect(entries.count == total)
                let byActor = Dictionary(grouping: entries, by: \.actorID)
                for actor in ["muse-a", "cli-b", "cli-c"] {
                    let sequence = Set((byActor[actor] ?? []).compactMap(\.sequenceNumber))
                    #expect(sequence == Set(0..<linesPerWriter), "\(actor): \(byActor[actor]?.count ?? 0) entries")
                }
                #expect(Set(cliIDs + chasedIDs).isSubset(of: Set(entries.map(\.opID))), "every printed op_id is there")
                #expect(chasedIDs.count == chaserRounds, "the chaser found parents to build on")

                // One canonical order, one delta, everywhere (DESIGN §3.5).
                var canonical: [String: [UInt8]] = [:]
                var deltas: [String: [UInt8]] = [:]
                for agent in [a, b, c] {
                    let commands = agent.commands(session)
                    canonical[agent.name] = try await commands.oplogSync("log", ["--canonical"]).standardOutput
                    deltas[agent.name] = try await commands.oplogSync("delta", ["--domain", "music"]).standardOutput
                }
                #expect(splitCompleteLines(canonical["A"] ?? []).count == total)
                #expect(canonical["B"] == canonical["A"], "log --canonical on B is A's")
                #expect(canonical["C"] == canonical["A"], "log --canonical on C is A's")
                #expect(deltas["B"] == deltas["A"], "delta on B is A's")
                #expect(deltas["C"] == deltas["A"], "delta on C is A's")
                try await expectDeltasAgree(a.commands(session), knownEntries: entries)
            }
        }

        /// Appends `rounds` entries on `agent`, one after another, each with the newest entry of
        /// `parentActor` there as its parent (waiting, at most 60 s, for the first to arrive);
        /// returns their op_ids.
        static func chase(on agent: AgentProcess, session: String, parentActor: String, rounds: Int) async throws -> [String] {
            func newestParent() -> ParsedEntry? {
                let lines = agent.files(session).completeLines()
                return lines.reversed().lazy.compactMap { try? ParsedEntry(line: $0) }.first { $0.actorID == parentActor }
            }
            try await waitFor("an entry of \(parentActor) on \(agent.name)", pollInterval: .milliseconds(10)) {
                newestParent() == nil ? "none yet" : nil
            }
            // Each round builds on the newest one there: the append itself (a process) spaces
            // the rounds while the parent's writer goes on.
            var appended: [String] = []
            while appended.count < rounds, let parent = newestParent() {
                let id = try await agent.commands(session).append(
                    actor: "chaser-\(agent.name)",
                    op: #"{"op":"velocity","round":\#(appended.count)}"#,
                    extraArguments: ["--parent", parent.opID]
                )
                appended.append(id)
            }
            return appended
        }
    }
}
