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

        /// DESIGN §9 and issue #15: a network of 32 nodes, each linked to three others at random
        /// (the seed is printed), with writers on four of them at once.
        @Test("a random graph of 32 nodes of degree 3: entries written on four nodes at once reach all 32, with every invariant")
        func thirtyTwoNodeRandomGraph() async throws {
            let seed = TestSeed()
            print("thirtyTwoNodeRandomGraph: \(seed)")
            var random = seed.makeGenerator()
            let nodeCount = 32
            let links = Self.randomRegularGraph(nodes: nodeCount, degree: 3, random: &random)
            var writers = Array(0..<nodeCount).shuffled(using: &random).prefix(4)
            writers.sort()
            let session = "graph"
            try await withSeed(seed) {
                try await withAgentCluster(identityCount: nodeCount) { cluster in
                    var agents: [AgentProcess] = []
                    for index in 0..<nodeCount {
                        // Each node dials its neighbours started before it.
                        let earlier = links.filter { $0.1 == index }.map { agents[$0.0] }
                        agents.append(try await cluster.start("N\(index)", peers: earlier))
                    }
                    let writing = writers.map { (agents[$0], "writer-\($0)") }
                    let ids = try await withThrowingTaskGroup(of: [String].self) { group in
                        for (agent, actor) in writing {
                            group.addTask { try await appendOps(agent, session: session, actor: actor, count: 25) }
                        }
                        return try await group.reduce(into: Set<String>()) { $0.formUnion($1) }
                    }
                    #expect(ids.count == 100)
                    try await cluster.expectConverged(
                        session,
                        on: agents,
                        minimumLines: ids.count,
                        expectedOpIDs: ids,
                        timeout: .seconds(180)
                    )
                }
            }
        }

        /// A connected graph where every node has `degree` neighbours, drawn uniformly by pairing
        /// `degree` stubs per node at random and drawing again on a loop, a double link or a graph
        /// in pieces. Links are (lower, higher) node numbers.
        static func randomRegularGraph(nodes: Int, degree: Int, random: inout SplitMix64) -> [(Int, Int)] {
            precondition(nodes * degree % 2 == 0 && degree < nodes, "no \(degree)-regular graph on \(nodes) nodes")
            while true {
                let stubs = (0..<nodes).flatMap { Array(repeating: $0, count: degree) }.shuffled(using: &random)
                var links = Set<[Int]>()
                var isSimple = true
                for index in stride(from: 0, to: stubs.count, by: 2) {
                    let (one, other) = (stubs[index], stubs[index + 1])
                    guard one != other, links.insert([min(one, other), max(one, other)]).inserted else {
                        isSimple = false
                        break
                    }
                }
                guard isSimple else { continue }
                // Connected: everything reachable from node 0.
                var reached: Set<Int> = [0]
                var frontier = [0]
                while let node = frontier.popLast() {
                    for link in links where link.contains(node) {
                        let next = link[0] == node ? link[1] : link[0]
                        if reached.insert(next).inserted { frontier.append(next) }
                    }
                }
                guard reached.count == nodes else { continue }
                return links.map { ($0[0], $0[1]) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
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
