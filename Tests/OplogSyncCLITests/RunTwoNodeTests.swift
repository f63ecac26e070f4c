import Testing

extension RunProcessTests {
    /// DESIGN §5: "Two nodes that both dial each other end up with one link", and §3 1–4.
    @Suite("Two nodes dialling each other")
    struct TwoNodeTests {
        @Test("entries appended on both sides, in several sessions, converge verbatim over one link")
        func bothWays() async throws {
            try await withAgentCluster { cluster in
                // Each must know the other's port: A starts alone, B dials it, A restarts on its
                // port dialling B.
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                a.setPeers([try b.peerArgument()])
                try await a.restart(listen: .same)
                let ports: Set<Int> = [a.port, b.port]
                try await waitFor("A and B to keep a single connection") {
                    let count = establishedConnections(toPorts: ports)
                    return count == 1 ? nil : "\(count) established connections between A and B"
                }

                async let onA1 = appendOps(a, session: "s1", actor: "writer-a", count: 40)
                async let onB1 = appendOps(b, session: "s1", actor: "writer-b", count: 40)
                async let onA2 = appendOps(a, session: "s2", actor: "writer-a", count: 15)
                async let onB3 = appendOps(b, session: "s3", actor: "writer-b", count: 15)
                var expected: [String: Set<String>] = [
                    "s1": Set(try await onA1 + onB1), "s2": Set(try await onA2), "s3": Set(try await onB3),
                ]
                try await cluster.expectConverged("s1", on: [a, b], minimumLines: 80, expectedOpIDs: expected["s1"])

                // Causal chains across the link: each side builds on what arrived from the other.
                let fromA = try await a.commands("s1").append(actor: "writer-a", op: #"{"op":"move","chain":0}"#)
                try await waitFor("A's chain entry on B") { holdsGap(b.replica("s1"), [fromA]) }
                let fromB = try await b.commands("s1").append(
                    actor: "writer-b",
                    op: #"{"op":"move","chain":1}"#,
                    extraArguments: ["--parent", fromA]
                )
                try await waitFor("B's chain entry on A") { holdsGap(a.replica("s1"), [fromB]) }
                let fromA2 = try await a.commands("s1").append(
                    actor: "writer-a",
                    op: #"{"op":"move","chain":2}"#,
                    extraArguments: ["--parent", fromB, "--parent", fromA]
                )
                expected["s1", default: []].formUnion([fromA, fromB, fromA2])

                for session in ["s1", "s2", "s3"] {
                    try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: expected[session])
                }
                for agent in [a, b] {
                    let sessions = try await Programs.oplogSync(["sessions", "--root", agent.root])
                    #expect(sessions.stdoutLines.sorted() == ["s1", "s2", "s3"], "\(agent.name): \(sessions)")
                }
                // Still one link after the traffic (sampled over a second).
                for _ in 0..<10 {
                    let count = establishedConnections(toPorts: ports)
                    #expect(count == 1, "\(count) established connections between A and B")
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }
}
