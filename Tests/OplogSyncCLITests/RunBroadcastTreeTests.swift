import Foundation
import Testing

extension RunProcessTests {
    /// Issue #15 and DESIGN §9: broadcast trees over real links, each link through a proxy that
    /// counts its bytes (TLS records and all).
    @Suite("Broadcast trees")
    struct BroadcastTreeTests {
        static let session = "tree"

        @Test("a full mesh of 8 through byte-counting proxies: each node takes in each entry's line about once")
        func fullMeshOfEight() async throws {
            let nodeCount = 8
            let entryCount = 400
            try await withAgentCluster(identityCount: nodeCount) { cluster in
                try await Self.withNetwork(cluster, nodes: nodeCount, links: Self.mesh(nodeCount)) { agents, proxies in
                    // A few entries one at a time, as a live session writes: the first floods and
                    // prunes every link the tree does not need.
                    let writer = agents[0]
                    var expected = Set<String>()
                    for _ in 0..<3 {
                        expected.formUnion(try await appendOps(writer, session: Self.session, actor: "warm-up", count: 1))
                        try await cluster.expectConverged(Self.session, on: agents, expectedOpIDs: expected)
                    }
                    let measured = try await Self.measure(agents: agents, proxies: proxies) {
                        expected.formUnion(try await appendOps(writer, session: Self.session, actor: "writer", count: entryCount))
                        try await cluster.expectConverged(Self.session, on: agents, expectedOpIDs: expected)
                    }
                    let entryBytes = Double(measured.entryBytes)
                    for (index, payload) in measured.payloadBytes.enumerated() where index != 0 {
                        #expect(
                            Double(payload) <= 1.2 * entryBytes,
                            "node \(index) took in \(payload) bytes of lines for \(measured.entryBytes) bytes of entries"
                        )
                    }
                    let links = Double(proxies.count)
                    let linkBound = 1.5 * Double(nodeCount - 1) * entryBytes + 64 * 1024 * links
                    #expect(
                        Double(measured.linkBytes) <= linkBound,
                        "\(measured.linkBytes) bytes crossed the \(proxies.count) links for \(measured.entryBytes) bytes of entries (bound \(Int(linkBound)))"
                    )
                    print(
                        "fullMeshOfEight: \(measured.entryBytes) bytes of entries; lines taken in per node \(measured.payloadBytes.dropFirst()); "
                            + "\(measured.linkBytes) bytes over all links (\(String(format: "%.2f", Double(measured.linkBytes) / entryBytes)) x the entries, "
                            + "flooding would be about \((nodeCount - 1) * (nodeCount - 1)) x)"
                    )
                }
            }
        }

        @Test("a line of 8 through byte-counting proxies: every entry crosses each link once")
        func lineOfEight() async throws {
            let nodeCount = 8
            let entryCount = 300
            try await withAgentCluster(identityCount: nodeCount) { cluster in
                let links = (1..<nodeCount).map { ($0 - 1, $0) }
                try await Self.withNetwork(cluster, nodes: nodeCount, links: links) { agents, proxies in
                    var expected = Set<String>()
                    let measured = try await Self.measure(agents: agents, proxies: proxies) {
                        // Writers at both ends at once.
                        async let fromFirst = appendOps(agents[0], session: Self.session, actor: "first", count: entryCount)
                        async let fromLast = appendOps(agents[nodeCount - 1], session: Self.session, actor: "last", count: entryCount)
                        expected = Set(try await fromFirst + fromLast)
                        try await cluster.expectConverged(Self.session, on: agents, expectedOpIDs: expected)
                    }
                    let bytesOf = Self.lineBytes(on: agents[0])
                    let fromFirstBytes = expected.reduce(0) { total, id in
                        guard let line = bytesOf[id], line.actor == "first" else { return total }
                        return total + line.bytes
                    }
                    let fromLastBytes = measured.entryBytes - fromFirstBytes
                    for index in agents.indices {
                        // Each node takes in, once, every line written at the other ends.
                        let owed = (index == 0 ? 0 : fromFirstBytes) + (index == nodeCount - 1 ? 0 : fromLastBytes)
                        #expect(measured.payloadBytes[index] == owed, "node \(index) took in \(measured.payloadBytes[index]) bytes of lines, not \(owed)")
                        let copies = measured.copies[index]
                        let owedCopies = (index == 0 ? 0 : entryCount) + (index == nodeCount - 1 ? 0 : entryCount)
                        #expect(copies == owedCopies, "node \(index) received \(copies) entries, not \(owedCopies)")
                    }
                    #expect(proxies.count == links.count)
                    for (index, link) in links.enumerated() {
                        let crossed = measured.linkBytesEach[index]
                        let bound = 1.2 * Double(measured.entryBytes) + 64 * 1024
                        #expect(Double(crossed) <= bound, "link \(link) carried \(crossed) bytes for \(measured.entryBytes) bytes of entries")
                    }
                }
            }
        }

        /// What a measured stretch cost: the entries' line bytes, what each node took in (line
        /// bytes, entries), and the bytes that crossed the links.
        struct Measurement {
            var entryBytes: Int
            var payloadBytes: [Int]
            var copies: [Int]
            var linkBytesEach: [Int]
            var linkBytes: Int { self.linkBytesEach.reduce(0, +) }
        }

        /// Runs `body` and measures it: each agent's received lines and entries (its metrics)
        /// and each proxy's bytes, before and once every link is quiet after.
        static func measure(
            agents: [AgentProcess],
            proxies: [TCPProxy],
            _ body: () async throws -> Void
        ) async throws -> Measurement {
            let linesBefore = Self.lineBytes(on: agents[0]).values.reduce(0) { $0 + $1.bytes }
            var received: [(bytes: Int, entries: Int)] = []
            for agent in agents { received.append(try await Self.received(by: agent)) }
            let before = proxies.map(\.bytes.total)
            try await body()
            var after: [Int] = []
            for proxy in proxies { after.append(try await proxy.waitUntilQuiet().total) }
            var payload: [Int] = []
            var copies: [Int] = []
            for (index, agent) in agents.enumerated() {
                let now = try await Self.received(by: agent)
                payload.append(now.bytes - received[index].bytes)
                copies.append(now.entries - received[index].entries)
            }
            let linesAfter = Self.lineBytes(on: agents[0]).values.reduce(0) { $0 + $1.bytes }
            return Measurement(
                entryBytes: linesAfter - linesBefore,
                payloadBytes: payload,
                copies: copies,
                linkBytesEach: zip(after, before).map { $0 - $1 }
            )
        }

        /// The line bytes (without `\n`) and actor of each entry on `agent`, by op id.
        static func lineBytes(on agent: AgentProcess) -> [String: (actor: String, bytes: Int)] {
            var result: [String: (actor: String, bytes: Int)] = [:]
            for line in SessionFiles(root: agent.root, session: Self.session).completeLines() {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                    let id = object["op_id"] as? String
                else { continue }
                result[id] = (object["actor_id"] as? String ?? "", line.count)
            }
            return result
        }

        static func received(by agent: AgentProcess) async throws -> (bytes: Int, entries: Int) {
            let metrics = try await agent.metrics()
            return (
                Int(metrics.value("oplog_sync_entry_bytes_received_total") ?? -1),
                Int(metrics.value("oplog_sync_entries_received_total") ?? -1)
            )
        }

        /// Every pair of `count` nodes.
        static func mesh(_ count: Int) -> [(Int, Int)] {
            (0..<count).flatMap { low in (low + 1..<count).map { (low, $0) } }
        }

        /// Starts `nodes` agents linked as `links` (pairs of node numbers, lower first; the
        /// higher dials the lower), each link through its own proxy, and runs `body` once every
        /// node has all its links up. `proxies` is in `links`' order.
        static func withNetwork(
            _ cluster: AgentCluster,
            nodes: Int,
            links: [(Int, Int)],
            _ body: ([AgentProcess], [TCPProxy]) async throws -> Void
        ) async throws {
            var agents: [AgentProcess] = []
            var proxies: [Int: TCPProxy] = [:]
            try await Self.startNode(0, cluster: cluster, nodes: nodes, links: links, agents: &agents, proxies: &proxies) {
                agents,
                proxies in
                for (index, agent) in agents.enumerated() {
                    let degree = links.filter { $0.0 == index || $0.1 == index }.count
                    try await waitFor("node \(index)'s \(degree) links", timeout: .seconds(120)) {
                        let connected = try await agent.metrics().series("oplog_sync_peer_connected").reduce(0) { $0 + $1.value }
                        return Int(connected) == degree ? nil : "\(Int(connected)) of \(degree) links up"
                    }
                }
                try await body(agents, links.indices.map { proxies[$0]! })
            }
        }

        /// Starts node `index` (dialling, through their proxies, the earlier nodes it links to),
        /// then opens the proxies to it for the later ones, and goes on with the next node.
        private static func startNode(
            _ index: Int,
            cluster: AgentCluster,
            nodes: Int,
            links: [(Int, Int)],
            agents: inout [AgentProcess],
            proxies: inout [Int: TCPProxy],
            _ body: ([AgentProcess], [Int: TCPProxy]) async throws -> Void
        ) async throws {
            guard index < nodes else {
                try await body(agents, proxies)
                return
            }
            let dialled = links.indices.filter { links[$0].1 == index }
            let peers = try dialled.map { try agents[links[$0].0].peerArgument(via: proxies[$0]!.address) }
            let agent = try cluster.add("N\(index)", peers: peers)
            try await agent.start()
            agents.append(agent)
            let toIt = links.indices.filter { links[$0].0 == index }
            try await Self.openProxies(toIt[...], port: agent.port, proxies: &proxies) { proxies in
                var opened = proxies
                try await Self.startNode(index + 1, cluster: cluster, nodes: nodes, links: links, agents: &agents, proxies: &opened, body)
            }
        }

        /// Opens one proxy to `port` for each of `links` (their indices), nested, and runs `body`
        /// with them all open.
        private static func openProxies(
            _ links: ArraySlice<Int>,
            port: Int,
            proxies: inout [Int: TCPProxy],
            _ body: ([Int: TCPProxy]) async throws -> Void
        ) async throws {
            guard let link = links.first else {
                try await body(proxies)
                return
            }
            var current = proxies
            try await TCPProxy.run(forwardingTo: port) { proxy in
                current[link] = proxy
                try await Self.openProxies(links.dropFirst(), port: port, proxies: &current, body)
            }
            proxies = current
        }
    }
}
