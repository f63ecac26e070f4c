import Foundation
import Testing

extension RunProcessTests {
    /// Forwarding through a node in the middle, and sessions that appear while the daemons run.
    @Suite("Topologies and new sessions")
    struct TopologyTests {
        @Test("a line A–B–C: entries from A reach C and entries from C reach A, through B")
        func forwardingThroughTheMiddle() async throws {
            let session = "line"
            try await withAgentCluster { cluster in
                let b = try await cluster.start("B")
                let a = try await cluster.start("A", peers: [b])
                let c = try await cluster.start("C", peers: [b])

                async let onA = appendOps(a, session: session, actor: "writer-a", count: 30)
                async let onC = appendOps(c, session: session, actor: "writer-c", count: 30)
                var expected = Set(try await onA + onC)
                try await cluster.expectConverged(session, on: [a, b, c], minimumLines: 60, expectedOpIDs: expected)

                // A builds on C's entry and C on A's: the children travel two hops after their parents.
                let fromC = try await c.commands(session).append(actor: "writer-c", op: #"{"op":"tempo","bpm":90}"#)
                try await waitFor("C's entry on A") { holdsGap(a.replica(session), [fromC]) }
                let fromA = try await a.commands(session).append(
                    actor: "writer-a",
                    op: #"{"op":"tempo","bpm":91}"#,
                    extraArguments: ["--parent", fromC]
                )
                try await waitFor("A's entry on C") { holdsGap(c.replica(session), [fromA]) }
                let fromC2 = try await c.commands(session).append(
                    actor: "writer-c",
                    op: #"{"op":"tempo","bpm":92}"#,
                    extraArguments: ["--parent", fromA]
                )
                expected.formUnion([fromC, fromA, fromC2])
                try await cluster.expectConverged(session, on: [a, b, c], expectedOpIDs: expected)

                // The ends were never connected: nobody dialled A or C.
                #expect(establishedConnections(toPorts: [a.port]) == 0, "connections to A")
                #expect(establishedConnections(toPorts: [c.port]) == 0, "connections to C")
                #expect(establishedConnections(toPorts: [b.port]) == 2, "A's and C's connections to B")
            }
        }

        @Test("sessions created after the daemons started (on empty roots) replicate")
        func sessionsCreatedWhileRunning() async throws {
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                for agent in [a, b] {
                    #expect(FileManager.default.fileExists(atPath: "\(agent.root)/.muse/op_log"), "\(agent.name) made op_log/")
                }

                // A session folder made by the CLI on A, one by a raw writer on B, then one more
                // on A once the first has replicated.
                let onA = try await appendOps(a, session: "late-a", actor: "writer-a", count: 5)
                let line = museLine(actor: "raw-b", lamportTimestamp: 1)
                try b.files("late-b").appendRaw(line + "\n")
                try await cluster.expectConverged("late-a", on: [a, b], expectedOpIDs: Set(onA))
                try await cluster.expectConverged("late-b", on: [a, b], expectedOpIDs: [try #require(opID(of: Array(line.utf8)))])
                let later = try await appendOps(a, session: "later-a", actor: "writer-a", count: 3)
                try await cluster.expectConverged("later-a", on: [a, b], expectedOpIDs: Set(later))
                for agent in [a, b] {
                    let sessions = try await Programs.oplogSync(["sessions", "--root", agent.root])
                    #expect(sessions.stdoutLines.sorted() == ["late-a", "late-b", "later-a"], "\(agent.name): \(sessions)")
                }
            }
        }
    }
}
