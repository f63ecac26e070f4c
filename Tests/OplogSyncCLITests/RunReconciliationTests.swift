import Foundation
import Testing

extension RunProcessTests {
    /// Issue #5, item 2: replicas that do not know what the other holds reconcile by range
    /// fingerprints, and the bytes they exchange grow with the difference. A dials B through a
    /// byte-counting ``TCPProxy``; every byte of the link is counted, hellos and keepalives too.
    @Suite("Set reconciliation")
    struct ReconciliationTests {
        @Test(
            """
            A and B share 100,000 entries and wrote 1,000 more each apart, and never met: they exchange \
            at most 1.1 × the missing lines' bytes + 16 KiB; reconnecting in sync costs at most 4 KiB \
            more than an empty link (its TLS handshake), with its progress and after losing its state folder
            """
        )
        func replicasThatNeverMetExchangeOnlyTheDifference() async throws {
            let session = "apart"
            let shared = (1...100_000).map { lamport in
                museLine(opID: Self.id("shared", lamport), actor: "studio", lamportTimestamp: lamport)
            }
            func apart(_ actor: String) -> [String] {
                (100_001...101_000).map { lamport in
                    museLine(
                        opID: Self.id(actor, lamport),
                        actor: actor,
                        lamportTimestamp: lamport,
                        parents: [Self.id(lamport == 100_001 ? "shared" : actor, lamport - 1)]
                    )
                }
            }
            let (onlyA, onlyB) = (apart("laptop-a"), apart("laptop-b"))
            let missingBytes = (onlyA + onlyB).reduce(0) { $0 + $1.utf8.count + 1 }
            let everything = Set((shared + onlyA + onlyB).compactMap { opID(of: Array($0.utf8)) })

            try await withAgentCluster { cluster in
                // What a link costs before any session is compared: TLS 1.3 (certificates both
                // ways, key shares, tickets) and the hellos, measured between two empty nodes.
                let c = try await cluster.start("C")
                let emptyLink = try await TCPProxy.run(forwardingTo: c.port) { proxy in
                    let d = try cluster.add("D", peers: [try c.peerArgument(via: proxy.address)])
                    try await d.start()
                    try await waitFor("D to link to C") { d.logText().contains("peer connected") ? nil : "not yet" }
                    let cost = try await proxy.waitUntilQuiet()
                    try await d.stop()
                    return cost.total
                }
                try await c.stop()

                let b = try cluster.add("B")
                try Self.write(shared + onlyB, to: b.files(session))
                try await b.start()
                try await TCPProxy.run(forwardingTo: b.port) { proxy in
                    let a = try cluster.add("A", peers: [try b.peerArgument(via: proxy.address)])
                    try Self.write(shared + onlyA, to: a.files(session))
                    try await a.start()
                    try await cluster.expectConverged(
                        session,
                        on: [a, b],
                        expectedOpIDs: everything,
                        timeout: .seconds(180)
                    )
                    let meeting = try await proxy.waitUntilQuiet()
                    let bound = missingBytes + missingBytes / 10 + 16 * 1024
                    #expect(
                        meeting.total <= bound,
                        "\(meeting.total) bytes exchanged for \(missingBytes) bytes of missing lines (bound \(bound))"
                    )
                    #expect(a.logText().contains("reconciled with peer"), "A reconciled rather than shipped everything")

                    // A restarts with its state folder: its progress says B holds everything.
                    try await a.stop()
                    let beforeRestart = proxy.bytes
                    try await a.start()
                    try await waitFor("A to link to B again") { proxy.hasOpenConnections ? nil : "no connection yet" }
                    let restart = try await proxy.waitUntilQuiet() - beforeRestart
                    #expect(
                        restart.total <= emptyLink + 4096,
                        "\(restart.total) bytes to reconnect in sync, an empty link costing \(emptyLink)"
                    )

                    // A loses its state folder but for its identity (the backup DESIGN §7 asks
                    // for): the same node, no progress, so it reconciles.
                    try await a.stop()
                    for item in try FileManager.default.contentsOfDirectory(atPath: a.stateDirectory) where item != "identity" {
                        try FileManager.default.removeItem(atPath: "\(a.stateDirectory)/\(item)")
                    }
                    let beforeLoss = proxy.bytes
                    try await a.start()
                    try await waitFor("A to reconcile with B") {
                        a.logText().components(separatedBy: "==== test: start #").last?.contains("reconciled with peer") == true
                            ? nil : "not yet"
                    }
                    let lostState = try await proxy.waitUntilQuiet() - beforeLoss
                    #expect(
                        lostState.total <= emptyLink + 4096,
                        "\(lostState.total) bytes to reconcile in sync, an empty link costing \(emptyLink)"
                    )
                    cluster.expectNoProblems(
                        replicaProblems([a.replica(session), b.replica(session)], expectedOpIDs: everything),
                        "after both reconnects"
                    )
                    try await cluster.stopAll()
                    print(
                        """
                        replicasThatNeverMetExchangeOnlyTheDifference: first meeting \(meeting.towardTarget) bytes \
                        A→B + \(meeting.fromTarget) B→A = \(meeting.total) for \(missingBytes) bytes of missing \
                        lines (\(String(format: "%.3f", Double(meeting.total) / Double(missingBytes))) ×; bound \
                        \(bound)); an empty link \(emptyLink) bytes; reconnect with progress \(restart.total) bytes; \
                        reconnect after losing the state folder (identity kept) \(lostState.total) bytes
                        """
                    )
                }
            }
        }

        @Test(
            """
            B is restored from a backup of its root and state folder: A, whose progress says B holds \
            more, sends again what B lost (B's own entries too), and both converge with every entry once
            """
        )
        func aReplicaRestoredFromABackupGetsBackWhatItLost() async throws {
            let session = "restored"
            try await withAgentCluster { cluster in
                let b = try await cluster.start("B")
                let a = try await cluster.start("A", peers: [b])
                let before =
                    try await appendOps(a, session: session, actor: "writer-a", count: 200)
                    + appendOps(b, session: session, actor: "writer-b", count: 100)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(before))

                // The backup: B's root and state folder, taken while B is stopped.
                try await b.stop()
                let backup = NSTemporaryDirectory() + "oplog-backup-\(UUID().uuidString)"
                defer { try? FileManager.default.removeItem(atPath: backup) }
                try FileManager.default.createDirectory(atPath: backup, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: b.root, toPath: backup + "/root")
                try FileManager.default.copyItem(atPath: b.stateDirectory, toPath: backup + "/state")

                try await b.start(listen: .same)
                let after =
                    try await appendOps(a, session: session, actor: "writer-a", count: 300)
                    + appendOps(b, session: session, actor: "writer-b", count: 50)
                let everything = Set(before + after)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: everything)

                // B's disk is restored from the backup: it lost 350 entries, 50 of them its own.
                try await b.stop()
                for (path, copy) in [(b.root, backup + "/root"), (b.stateDirectory, backup + "/state")] {
                    try FileManager.default.removeItem(atPath: path)
                    try FileManager.default.copyItem(atPath: copy, toPath: path)
                }
                #expect(ReplicaContents(b.replica(session)).opIDs.count == before.count)
                try await b.start(listen: .same)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: everything, timeout: .seconds(120))
                #expect(
                    a.logText().contains("peer lacks entries it had acknowledged"),
                    "A noticed that B holds less than it had acknowledged"
                )
            }
        }

        @Test(
            """
            Two nodes in sync reconnect without hashing their logs again: 20 sessions of 500 entries; \
            a cut and healed link leaves oplog_sync_reconciliation_hashes_total where it was on both, 10 \
            entries written live add exactly 10 on each, and a restarted node hashes its log once while \
            its peer, which kept its sums, hashes nothing
            """
        )
        func nodesInSyncReconnectWithoutHashingTheirLogs() async throws {
            let sessions = (1...20).map { "kept-\($0)" }
            let lines = (1...500).map { museLine(opID: Self.id("shared", $0), actor: "studio", lamportTimestamp: $0) }
            let entries = sessions.count * lines.count
            try await withAgentCluster { cluster in
                let b = try cluster.add("B")
                for session in sessions { try Self.write(lines, to: b.files(session)) }
                try await b.start()
                try await TCPProxy.run(forwardingTo: b.port) { proxy in
                    let a = try cluster.add("A", peers: [try b.peerArgument(via: proxy.address)])
                    for session in sessions { try Self.write(lines, to: a.files(session)) }
                    try await a.start()
                    try await Self.waitUntilLinked([a, b], connected: true)
                    _ = try await proxy.waitUntilQuiet()
                    let first = try await Self.reconciliationHashes(a, b)
                    #expect(first.a >= entries && first.b >= entries, "the first connect hashes each log once: \(first)")
                    #expect(first.a < 2 * entries && first.b < 2 * entries, "and only once: \(first)")

                    for round in 1...3 {
                        try await Self.reconnect(a, b, through: proxy)
                        let now = try await Self.reconciliationHashes(a, b)
                        #expect(now == first, "reconnect \(round): \(first) before, \(now) after")
                    }

                    _ = try await appendOps(a, session: "kept-1", actor: "writer-a", count: 10)
                    try await cluster.expectConverged("kept-1", on: [a, b], minimumLines: lines.count + 10)
                    try await Self.reconnect(a, b, through: proxy)
                    let afterLive = try await Self.reconciliationHashes(a, b)
                    #expect(
                        afterLive.a - first.a == 10 && afterLive.b - first.b == 10,
                        "only the 10 new entries hashed: \(first) before, \(afterLive) after"
                    )

                    // A restarts: its sums are gone, and it hashes its log once; B kept its sums
                    // for A (the same pair key, as the identities are the same).
                    try await a.stop()
                    try await Self.waitUntilLinked([b], connected: false)
                    try await a.start()
                    try await Self.waitUntilLinked([a, b], connected: true)
                    _ = try await proxy.waitUntilQuiet()
                    let afterRestart = try await Self.reconciliationHashes(a, b)
                    #expect(afterRestart.a >= entries + 10, "A hashed its log again after its restart: \(afterRestart)")
                    #expect(afterRestart.b == afterLive.b, "B hashed nothing: \(afterLive) before, \(afterRestart) after")
                    for session in sessions {
                        cluster.expectNoProblems(
                            replicaProblems([a.replica(session), b.replica(session)]),
                            "\(session) after the reconnects"
                        )
                    }
                    try await cluster.stopAll()
                    print(
                        """
                        nodesInSyncReconnectWithoutHashingTheirLogs: \(entries) entries; hashes after the first \
                        connect \(first), after 3 reconnects in sync the same, after 10 live entries and a \
                        reconnect \(afterLive), after A's restart \(afterRestart)
                        """
                    )
                }
            }
        }

        /// `oplog_sync_reconciliation_hashes_total` on each node.
        static func reconciliationHashes(_ a: AgentProcess, _ b: AgentProcess) async throws -> (a: Int, b: Int) {
            let onA = try await a.metrics().value("oplog_sync_reconciliation_hashes_total")
            let onB = try await b.metrics().value("oplog_sync_reconciliation_hashes_total")
            return (Int(try #require(onA)), Int(try #require(onB)))
        }

        /// Waits until every one of `agents` shows one peer connected (`connected`), or none.
        static func waitUntilLinked(_ agents: [AgentProcess], connected: Bool) async throws {
            for agent in agents {
                try await waitFor("\(agent.name) to show its peer \(connected ? "connected" : "gone")") {
                    let linked = try await agent.metrics().series("oplog_sync_peer_connected").reduce(0) { $0 + $1.value }
                    return linked == (connected ? 1 : 0) ? nil : "\(linked) peers connected"
                }
            }
        }

        /// Cuts the proxied link, waits until both nodes see it gone, heals it, and waits until
        /// they linked again and the link fell quiet (the status, at most a second old, then
        /// counts the reconciliation).
        static func reconnect(_ a: AgentProcess, _ b: AgentProcess, through proxy: TCPProxy) async throws {
            proxy.cut()
            try await Self.waitUntilLinked([a, b], connected: false)
            proxy.heal()
            try await Self.waitUntilLinked([a, b], connected: true)
            _ = try await proxy.waitUntilQuiet()
        }

        /// A UUID-shaped op id, the same on every replica for the same arguments.
        static func id(_ actor: String, _ lamport: Int) -> String {
            let tag = actor == "shared" ? 0 : actor == "laptop-a" ? 0xA : 0xB
            return String(format: "%08x-0000-4000-8000-%012x", tag, lamport)
        }

        /// Writes `lines` as the session's log, as a Muse writer would have left it.
        static func write(_ lines: [String], to files: SessionFiles) throws {
            let folder = (files.opsPath as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: files.opsPath))
        }
    }
}
