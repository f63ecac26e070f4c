import Foundation
import Testing

extension RunProcessTests {
    /// DESIGN §3.1–3.2 and §3.9 across a partition and a lost state folder (issue #5, item 4):
    /// A dials B through a ``TCPProxy`` that cuts and heals the link and counts the bytes each
    /// way, so the cost of each catch-up is printed with the test's output.
    ///
    /// The byte counts are reported, not asserted here (RunReconciliationTests holds the byte
    /// bounds): they include keepalives and framing. What a rejoining replica ships is asserted.
    @Suite("Partitions and lost state")
    struct PartitionTests {
        @Test("Cut A from B, A appends 2,000 lines and B 2,400, heal: both converge, and the catch-up bytes are reported")
        func partitionHeals() async throws {
            let session = "partition"
            // Unequal, so the two directions' byte counts cannot be mistaken for each other.
            let (countOnA, countOnB) = (2_000, 2_400)
            try await withAgentCluster { cluster in
                let b = try await cluster.start("B")
                try await TCPProxy.run(forwardingTo: b.port) { proxy in
                    let a = try cluster.add("A", peers: [try b.peerArgument(via: proxy.address)])
                    try await a.start()
                    let before = try await appendOps(a, session: session, actor: "writer-a", count: 100)
                    try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(before))

                    proxy.cut()
                    try await waitFor("A and B to see the link cut") {
                        proxy.hasOpenConnections ? "the proxy still forwards a connection" : nil
                    }
                    async let onA = appendOps(a, session: session, actor: "writer-a", count: countOnA)
                    async let onB = appendOps(b, session: session, actor: "writer-b", count: countOnB)
                    let (writtenOnA, writtenOnB) = try await (onA, onB)
                    let crossed = Set(ReplicaContents(b.replica(session)).opIDs).intersection(writtenOnA)
                    #expect(crossed.isEmpty, "nothing crossed the cut, but B has \(crossed.count) of A's new entries")
                    let atHeal = proxy.bytes

                    proxy.heal()
                    try await cluster.expectConverged(
                        session,
                        on: [a, b],
                        expectedOpIDs: Set(before + writtenOnA + writtenOnB),
                        timeout: .seconds(120)
                    )
                    let catchUp = try await proxy.waitUntilQuiet() - atHeal
                    let payload = newLineBytes(in: a.replica(session), opIDs: Set(writtenOnA))
                    let payloadBack = newLineBytes(in: b.replica(session), opIDs: Set(writtenOnB))
                    try await cluster.stopAll()
                    print(
                        """
                        partitionHeals: catch-up after healing: \(catchUp.towardTarget) bytes A→B carrying \(countOnA) new \
                        lines of \(payload) bytes, \(catchUp.fromTarget) bytes B→A carrying \(countOnB) lines of \
                        \(payloadBack) bytes (ratio \(ratio(catchUp.total, payload + payloadBack))); entries shipped \
                        over the whole run by A: \(a.shippedInLastRun().map(String.init) ?? "?"), by B: \
                        \(b.shippedInLastRun().map(String.init) ?? "?")
                        """
                    )
                }
            }
        }

        /// DESIGN §7: the identity is the one part of the state folder to back up. With it
        /// restored (`identity/` kept) B is the same node to A, which redials it as before; without
        /// it B is a new node, and A is paired with it again (`--peer NEWID@…`, restarted), as a
        /// user would after `oplog-sync id` on the rebuilt machine.
        @Test(
            "B loses its state folder while down and rejoins: no entry written twice, and the bytes it costs are reported",
            arguments: [true, false]
        )
        func lostStateFolderRejoins(keepsIdentity: Bool) async throws {
            let session = "lost-state"
            let label =
                keepsIdentity
                ? "lostStateFolderRejoins (identity restored)" : "lostStateFolderRejoins (new identity, paired again)"
            try await withAgentCluster { cluster in
                let b = try await cluster.start("B")
                try await TCPProxy.run(forwardingTo: b.port) { proxy in
                    let a = try cluster.add("A", peers: [try b.peerArgument(via: proxy.address)])
                    try await a.start()
                    let fromA = try await appendOps(a, session: session, actor: "writer-a", count: 1_000)
                    let fromB = try await appendOps(b, session: session, actor: "writer-b", count: 1_000)
                    try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(fromA + fromB))
                    let oldNodeID = try #require(b.nodeID)

                    // The disk holding B's state is lost while B is down; its op logs survive
                    // and Muse keeps writing on both sides. With a backup, only identity/ comes
                    // back.
                    try await b.kill()
                    for item in try FileManager.default.contentsOfDirectory(atPath: b.stateDirectory)
                    where !(keepsIdentity && item == "identity") {
                        try FileManager.default.removeItem(atPath: "\(b.stateDirectory)/\(item)")
                    }
                    let whileDownOnA = try await appendOps(a, session: session, actor: "writer-a", count: 100)
                    let whileDownOnB = try await appendOps(b, session: session, actor: "writer-b", count: 100)
                    let bytesOfLog = b.files(session).opsBytes().count
                    _ = try await proxy.waitUntilQuiet(quietPeriod: .milliseconds(500))
                    let atRestart = proxy.bytes

                    try await b.start(listen: .same)
                    if keepsIdentity {
                        #expect(b.nodeID == oldNodeID, "the restored identity names B before and after")
                    } else {
                        let newNodeID = try #require(b.nodeID)
                        #expect(newNodeID != oldNodeID, "without its identity B is a new node")
                        // A pins B's old ID: it links to nothing until paired with the new one.
                        a.setPeers([try b.peerArgument(via: proxy.address)])
                        try await a.restart()
                    }
                    let all = Set(fromA + fromB + whileDownOnA + whileDownOnB)
                    try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: all, timeout: .seconds(120))
                    let catchUp = try await proxy.waitUntilQuiet() - atRestart
                    // The files are checked again after the link fell quiet: entries offered
                    // late must not have been appended a second time.
                    cluster.expectNoProblems(
                        replicaProblems([a.replica(session), b.replica(session)], expectedOpIDs: all),
                        "after the catch-up ended"
                    )
                    let difference =
                        newLineBytes(in: a.replica(session), opIDs: Set(whileDownOnA))
                        + newLineBytes(in: b.replica(session), opIDs: Set(whileDownOnB))
                    try await cluster.stopAll()
                    print(
                        """
                        \(label): catch-up after B rejoined without state: \(catchUp.towardTarget) bytes \
                        A→B, \(catchUp.fromTarget) bytes B→A, \(catchUp.total) in all (ratio \
                        \(ratio(catchUp.total, bytesOfLog)) of B's \(bytesOfLog)-byte log, \
                        \(ratio(catchUp.total, difference)) of the \(difference) bytes of the 200 lines that were new); \
                        entries shipped by A: \(a.shippedInLastRun().map(String.init) ?? "?") (whole run), by B after \
                        its restart: \(b.shippedInLastRun().map(String.init) ?? "?")
                        """
                    )
                    // It reconciled rather than offering its whole log again: only the 100 entries
                    // written while it was down left it.
                    #expect(b.shippedInLastRun() == whileDownOnB.count, "B shipped only what A lacked")
                }
            }
        }
    }
}

/// The bytes (with their `\n`) of the lines of `replica` whose op_id is in `opIDs`.
private func newLineBytes(in replica: Replica, opIDs: Set<String>) -> Int {
    ReplicaContents(replica).lines.reduce(0) { total, line in
        total + (opID(of: line).map { opIDs.contains($0) } == true ? line.count + 1 : 0)
    }
}

/// `part / whole` with two decimals.
private func ratio(_ part: Int, _ whole: Int) -> String {
    whole == 0 ? "-" : String(format: "%.2f", Double(part) / Double(whole))
}

extension AgentProcess {
    /// The `shipped=` total of the `stopped` line the last graceful stop logged, if the last
    /// run ended with one.
    func shippedInLastRun() -> Int? {
        let lastRun = self.logText().components(separatedBy: "==== test: start #").last ?? ""
        guard let stopped = lastRun.split(separator: "\n").last(where: { $0.contains("stopped") && $0.contains("shipped=") }),
            let start = stopped.range(of: "shipped=")
        else { return nil }
        return Int(stopped[start.upperBound...].prefix(while: \.isNumber))
    }
}
