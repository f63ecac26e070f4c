import Foundation
import OpLogIdentity
import OpLogReplication
import OpLogWire
import SystemPackage
import Testing

extension RunProcessTests {
    /// Issue #13, items 1–3 and 5 (DESIGN §7): only nodes told about each other link, over
    /// mutual TLS 1.3 with pinned IDs; everyone else reads nothing, writes nothing and costs
    /// little. A and B are a paired pair in each test, and keep replicating throughout.
    @Suite("Secure links")
    struct SecurityTests {
        /// A's and B's sessions, and what each test checks crosses (or does not).
        static let session = "song-private"

        /// Starts A, and B dialling A, and checks that they replicate.
        static func pairedNodes(_ cluster: AgentCluster) async throws -> (AgentProcess, AgentProcess) {
            let a = try await cluster.start("A")
            let b = try await cluster.start("B", peers: [a])
            let written = try await appendOps(a, session: Self.session, actor: "writer-a", count: 20)
            try await cluster.expectConverged(Self.session, on: [a, b], expectedOpIDs: Set(written))
            return (a, b)
        }

        /// Writes more on A and waits until B has it: the pair still replicates.
        static func expectStillReplicating(_ cluster: AgentCluster, _ a: AgentProcess, _ b: AgentProcess) async throws {
            let before = Set(ReplicaContents(a.replica(Self.session)).opIDs)
            let more = try await appendOps(a, session: Self.session, actor: "writer-a", count: 5)
            try await cluster.expectConverged(Self.session, on: [a, b], expectedOpIDs: before.union(more))
        }

        /// How many times `agent`'s log has `text`.
        static func count(_ text: String, in agent: AgentProcess) -> Int {
            agent.logText().components(separatedBy: text).count - 1
        }

        @Test(
            """
            a real third node with its own identity dials A at the right address: it reads nothing, \
            writes nothing, and A logs its ID with the --accept hint once, however often it redials
            """
        )
        func unknownNodeGetsNothing() async throws {
            try await withAgentCluster { cluster in
                let (a, b) = try await Self.pairedNodes(cluster)
                let stranger = try cluster.add("X", peers: [try a.peerArgument()], membership: .stranger)
                _ = try await appendOps(stranger, session: "x-injected", actor: "mallory", count: 5)
                let started = ContinuousClock.now
                try await stranger.start()
                let strangerID = try #require(stranger.nodeID)
                try await waitFor("X to be refused several times") {
                    Self.count("connection closed", in: stranger) >= 3 ? nil : "\(Self.count("connection closed", in: stranger)) so far"
                }
                let elapsed = ContinuousClock.now - started
                let refusals = Self.count("refused a node that is not accepted", in: a)
                #expect(refusals >= 1, "A logs the refusal\n\(a.logTail())")
                // At most once a minute per ID, however often X redialled meanwhile.
                #expect(refusals <= 1 + Int(elapsed / .seconds(60)), "\(refusals) refusal lines in \(elapsed)")
                #expect(a.logText().contains("--accept \(strangerID)"), "the line says how to let X in")
                #expect(a.logText().contains("127.0.0.1:"), "and from where it came")
                try await Self.expectStillReplicating(cluster, a, b)
                #expect(!FileManager.default.fileExists(atPath: stranger.files(Self.session).opsPath), "X read nothing")
                #expect(!FileManager.default.fileExists(atPath: a.files("x-injected").opsPath), "X wrote nothing on A")
                #expect(!FileManager.default.fileExists(atPath: b.files("x-injected").opsPath), "nor on B")
                #expect(!stranger.logText().contains("peer connected"), "X never linked")
            }
        }

        @Test("a plain TCP client speaking the old protocol gets no byte of application data, and A keeps replicating")
        func oldProtocolClientGetsNothing() async throws {
            try await withAgentCluster { cluster in
                let (a, b) = try await Self.pairedNodes(cluster)
                let outcome = try await LinkProbe.plain(port: a.port, sending: LinkProbe.oldProtocolHello(nodeID: "intruder"))
                // Whatever came back is TLS's own: at most an alert record (content type 21), never
                // a frame, a hello or a line.
                #expect(outcome.received.isEmpty || outcome.received.first == 21, "\(outcome.received.prefix(64))")
                #expect(outcome.received.count < 64, "\(outcome.received.count) bytes came back")
                #expect(!outcome.received.containsBytes("OPLS".utf8) && !outcome.received.containsBytes(Self.session.utf8))
                try await Self.expectStillReplicating(cluster, a, b)
            }
        }

        @Test("B pins a wrong ID for A's address: it connects to nothing, says so, and no entry crosses either way")
        func wrongPinConnectsToNothing() async throws {
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                // An ID A accepts, of a node that is not A: B's pin must fail on A's certificate.
                let other = try cluster.add("C")
                let wrong = try #require(other.nodeID)
                let b = try cluster.add("B", peers: ["\(wrong)@\(a.address)"])
                let fromA = try await appendOps(a, session: "from-a", actor: "writer-a", count: 5)
                let fromB = try await appendOps(b, session: "from-b", actor: "writer-b", count: 5)
                try await b.start()
                try await waitFor("B to try A several times") {
                    Self.count("connection closed", in: b) >= 3 ? nil : "\(Self.count("connection closed", in: b)) so far"
                }
                #expect(b.logText().contains("answered with another node ID"), "B says why\n\(b.logTail())")
                #expect(b.logText().contains(try #require(a.nodeID)), "naming the ID A presented")
                #expect(!b.logText().contains("peer connected") && !a.logText().contains("peer connected"))
                #expect(ReplicaContents(b.replica("from-a")).opIDs.isEmpty && !fromA.isEmpty, "nothing of A's on B")
                #expect(ReplicaContents(a.replica("from-b")).opIDs.isEmpty && !fromB.isEmpty, "nothing of B's on A")
            }
        }

        @Test("a TLS client with a self-signed certificate of its own gets no application data; A lists it as refused")
        func selfSignedClientGetsNothing() async throws {
            try await withAgentCluster { cluster in
                let (a, b) = try await Self.pairedNodes(cluster)
                let intruder = try Identity.generate()
                let outcome = try await LinkProbe.tls(
                    port: a.port,
                    identity: intruder,
                    expecting: try NodeFingerprint(parsing: try #require(a.nodeID)),
                    sending: LinkProbe.oldProtocolHello(nodeID: intruder.nodeID.description)
                )
                #expect(outcome.received.isEmpty, "\(outcome.received.count) bytes of application data")
                #expect(outcome.error != nil, "the handshake failed")
                try await waitFor("A to log the refusal") {
                    a.logText().contains("--accept \(intruder.nodeID)") ? nil : "not yet"
                }
                try await Self.expectStillReplicating(cluster, a, b)
            }
        }

        @Test("the bytes of a link, recorded between two nodes, hold no session name and no fragment of a line")
        func linkBytesAreEncrypted() async throws {
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                try await TCPProxy.run(forwardingTo: a.port, recordsBytes: true) { proxy in
                    let b = try cluster.add("B", peers: [try a.peerArgument(via: proxy.address)])
                    try await b.start()
                    let fromA = try await appendOps(a, session: "secret-session-name", actor: "writer-a", count: 50)
                    let fromB = try await appendOps(b, session: "secret-session-name", actor: "writer-b", count: 50)
                    try await cluster.expectConverged("secret-session-name", on: [a, b], expectedOpIDs: Set(fromA + fromB))
                    let (toward, back) = proxy.recorded
                    #expect(toward.count > 1000 && back.count > 1000, "the link carried the entries")
                    #expect(toward.first == 22 && back.first == 22, "both directions start with a TLS handshake record")
                    for bytes in [toward, back] {
                        #expect(!bytes.containsBytes("secret-session-name".utf8))
                        #expect(!bytes.containsBytes("writer-a".utf8) && !bytes.containsBytes("writer-b".utf8))
                        #expect(!bytes.containsBytes("OPLS".utf8), "not even the hello's magic")
                        for line in a.files("secret-session-name").completeLines() {
                            // Every 12-byte window of every line.
                            for start in stride(from: 0, to: max(0, line.count - 12), by: 12) {
                                let window = line[start..<start + 12]
                                if bytes.containsBytes(window) {
                                    Issue.record("\(String(decoding: window, as: UTF8.self)) crossed in clear")
                                    return
                                }
                            }
                        }
                    }
                }
            }
        }

        @Test(
            """
            ten plain connections and ten TLS clients with certificates of their own each send the \
            start of a 32 MiB frame and hold it: A's resident memory grows by less than 64 MiB
            """
        )
        func unfinishedFramesCostLittle() async throws {
            try await withAgentCluster { cluster in
                let (a, b) = try await Self.pairedNodes(cluster)
                let pid = try #require(a.pid)
                let before = try residentSetSize(of: pid)
                let aID = try NodeFingerprint(parsing: try #require(a.nodeID))
                let attack = LinkProbe.frameStart(length: 32 << 20, filler: 4 << 20)
                // The peak is sampled while the connections are open, not only after they end.
                let sampler = PeakSampler(pid: pid, initial: before)
                let outcomes = try await withThrowingTaskGroup(of: [LinkProbe.Outcome].self) { group in
                    group.addTask {
                        try await sampler.run()
                        return []
                    }
                    let attacks = try await withThrowingTaskGroup(of: LinkProbe.Outcome.self) { attacks in
                        for index in 0..<20 {
                            attacks.addTask {
                                if index < 10 {
                                    return try await LinkProbe.plain(port: a.port, sending: attack, timeout: .seconds(20))
                                }
                                return try await LinkProbe.tls(
                                    port: a.port,
                                    identity: try Identity.generate(),
                                    expecting: aID,
                                    sending: attack,
                                    timeout: .seconds(20)
                                )
                            }
                        }
                        var outcomes: [LinkProbe.Outcome] = []
                        for try await outcome in attacks { outcomes.append(outcome) }
                        return outcomes
                    }
                    sampler.stop()
                    _ = try await group.next()
                    return attacks
                }
                let after = max(sampler.peak, try residentSetSize(of: pid))
                #expect(outcomes.allSatisfy { $0.received.count < 64 }, "no application data came back")
                #expect(
                    after - before < 64 << 20,
                    "RSS grew from \(before >> 20) MiB to \(after >> 20) MiB under 20 unfinished 32 MiB frames"
                )
                print("unfinishedFramesCostLittle: A's RSS \(before >> 10) KiB before, peak \(after >> 10) KiB during")
                try await Self.expectStillReplicating(cluster, a, b)
            }
        }
        /// The Lamport and checkpoint attacks of issue #13, sent by a peer A admits (a pinned
        /// identity, the real protocol): entries with `lamport_ts` 2^63 − 1 and 2^53 and a
        /// checkpoint with `lamport_ts` 9·10^18 are refused and counted, the valid entry sent with
        /// them is written, `append` on that session carries on above it, and A and B keep
        /// replicating with their checkpoint unpoisoned.
        @Test("an admitted peer's out-of-range lamport_ts and poisoned checkpoint are refused; A keeps replicating")
        func hostilePeerValuesAreRefused() async throws {
            try await withAgentCluster { cluster in
                let (a, b) = try await Self.pairedNodes(cluster)
                _ = try await a.commands(Self.session).oplogSync("checkpoint", ["--snapshot", "honest"])
                try await waitFor("the honest checkpoint on B") {
                    let text = (try? String(contentsOfFile: b.files(Self.session).checkpointPath, encoding: .utf8)) ?? ""
                    return text.contains("honest") ? nil : "not yet"
                }
                let rejectedBefore = try await a.metrics().value("oplog_sync_entries_rejected_total", ["reason": "invalid_entry"]) ?? 0
                let huge = museLine(actor: "alice", lamportTimestamp: 0).replacingOccurrences(
                    of: #""lamport_ts":0"#,
                    with: #""lamport_ts":9223372036854775807"#
                )
                let tooBig = museLine(actor: "alice", lamportTimestamp: 9_007_199_254_740_992)
                let valid = museLine(actor: "mallory", lamportTimestamp: 100)
                let validID = try #require(opID(of: Array(valid.utf8)))
                let poison = RunProcessTests.CheckpointTests.museCheckpoint(
                    session: Self.session,
                    snapshotID: "poison",
                    lamportTimestamp: 9_000_000_000_000_000_000,
                    opCount: 1
                )
                let outcome = try await HostilePeer.send(
                    [
                        .replication(
                            .entries(
                                EntryBatch(
                                    session: Self.session,
                                    after: 0,
                                    through: 3,
                                    lines: [huge, tooBig, valid].map { Array($0.utf8) }
                                )
                            )
                        ),
                        .replication(.checkpoint(session: Self.session, bytes: Array(poison.utf8))),
                    ],
                    port: a.port,
                    identity: try cluster.identities.take(),
                    expecting: try NodeFingerprint(parsing: try #require(a.nodeID))
                )
                #expect(!outcome.received.isEmpty, "A linked the admitted peer and answered it")

                try await waitFor("the valid entry on A and B") {
                    holdsGap(a.replica(Self.session), [validID]) ?? holdsGap(b.replica(Self.session), [validID])
                }
                for agent in [a, b] {
                    let lines = agent.files(Self.session).completeLines().map(\.text)
                    #expect(!lines.contains(huge) && !lines.contains(tooBig), "\(agent.name) wrote an out-of-range entry")
                    let checkpoint = (try? String(contentsOfFile: agent.files(Self.session).checkpointPath, encoding: .utf8)) ?? ""
                    #expect(checkpoint.contains("honest") && !checkpoint.contains("poison"), "\(agent.name): \(checkpoint)")
                }
                let rejected = try await a.metrics().value("oplog_sync_entries_rejected_total", ["reason": "invalid_entry"]) ?? 0
                #expect(rejected - rejectedBefore == 2, "both out-of-range entries counted: \(rejected - rejectedBefore)")
                let refusals = a.logText().split(separator: "\n").filter {
                    $0.contains("message rejected") && $0.contains("reason=invalid_checkpoint")
                }
                #expect(refusals.count == 1, "the poisoned checkpoint is refused and logged once: \(refusals)")

                // The clock carries on above the valid entry, on the node that took it.
                let next = try await a.commands(Self.session).append(actor: "writer-a", op: #"{"op":"insert"}"#)
                let entries = try readEntries(a.files(Self.session))
                #expect(entries.first { $0.opID == next }?.lamportTimestamp == 101)
                try await Self.expectStillReplicating(cluster, a, b)
                _ = try await b.commands(Self.session).oplogSync("checkpoint", ["--snapshot", "after"])
                try await waitFor("B's new checkpoint on A") {
                    let text = (try? String(contentsOfFile: a.files(Self.session).checkpointPath, encoding: .utf8)) ?? ""
                    return text.contains("after") ? nil : "A has \(text)"
                }
            }
        }
    }
}
