import Foundation
import Testing

extension RunProcessTests {
    /// DESIGN §3.1–3.3 under repeated crashes (issue #5, item 4): a node killed with SIGKILL at
    /// random moments while a stream of entries flows through it, and restarted each time on its
    /// port with its state folder, loses nothing, writes nothing twice, and leaves no torn or
    /// glued line.
    ///
    /// The moments are drawn from a seed printed with the test's output and named in every
    /// failure; `OPLOG_CRASH_SEED=N` replays that schedule.
    @Suite("Crash safety")
    struct CrashSafetyTests {
        static let streamed = 20_000
        static let kills = 20

        @Test(
            "SIGKILL the receiving node 20 times while Muse's writer streams 20,000 lines to it; every entry on both, once",
            RunProcessTests.python
        )
        func receiverKilledRepeatedly() async throws {
            try await Self.killRepeatedly(.receiver, session: "crash-receiver", testName: "receiverKilledRepeatedly")
        }

        @Test(
            "SIGKILL the sending node 20 times while Muse's writer keeps streaming 20,000 lines into its file; every entry on both, once",
            RunProcessTests.python
        )
        func senderKilledRepeatedly() async throws {
            try await Self.killRepeatedly(.sender, session: "crash-sender", testName: "senderKilledRepeatedly")
        }

        /// Which node the loop kills: B, which receives A's stream, or A, which sends it.
        enum Victim {
            case receiver
            case sender
        }

        /// Muse streams into A's file while `victim` is killed and restarted ``kills`` times; B's
        /// writer appends 3 lines during each downtime. Afterwards both files hold every entry,
        /// once. The killed node dials the other, so each restart reconnects at once.
        static func killRepeatedly(_ victim: Victim, session: String, testName: String) async throws {
            let seed = TestSeed()
            print("\(testName): \(seed)")
            try await withAgentCluster { cluster in
                try await withSeed(seed) {
                    var random = seed.makeGenerator()
                    let a: AgentProcess
                    let b: AgentProcess
                    switch victim {
                    case .receiver:
                        a = try await cluster.start("A")
                        b = try await cluster.start("B", peers: [a])
                    case .sender:
                        b = try await cluster.start("B")
                        a = try await cluster.start("A", peers: [b])
                    }
                    // Muse writes into A's file whether A's daemon runs or not. With A killed,
                    // at a live pace (about 400 lines a second): a restarted A ships a backlog,
                    // then keeps up, so the kills find it doing both.
                    let writer = MuseStream.start(
                        root: a.root,
                        session: session,
                        actor: "muse-stream",
                        count: Self.streamed,
                        burst: 20,
                        pause: .milliseconds(victim == .receiver ? 10 : 40)
                    )
                    defer { writer.cancel() }
                    let gaps = try await Self.gaps(streamingFrom: a, session: session, using: &random)

                    // B's own writer carries on while a daemon is down, as Muse would.
                    var writtenOnB: [String] = []
                    let killed = victim == .receiver ? b : a
                    let crashes = try await killed.crashRepeatedly(
                        after: gaps,
                        using: &random,
                        delay: 0...200,
                        downTime: 0...200,
                        progress: { b.files(session).opsSize() },
                        whileDown: { number in
                            writtenOnB += try (1...3).map { _ in
                                try appendMuseLine(b.files(session), actor: "writer-b-\(number)")
                            }
                        }
                    )
                    let name = victim == .receiver ? "B" : "A (progress measured on B)"
                    print("\(testName): \(seed): \(describeCrashes(crashes, victim: name))")
                    let output = try await writer.value
                    #expect(output.exitCode == 0, "\(output)")

                    let streamedIDs = MuseStream.lines(by: "muse-stream", in: a.files(session)).compactMap(opID(of:))
                    #expect(streamedIDs.count == Self.streamed, "\(seed): A's file holds the whole stream")
                    // How often a kill tore the node's own write, and how often a writer's line
                    // was glued to the torn end before the restart: evidence for whoever reads
                    // a failure (or wonders whether the loop reaches those paths at all).
                    let log = killed.logText()
                    let cuts = log.components(separatedBy: "cut off the unfinished end of an append").count - 1
                    let blanks = log.components(separatedBy: "a writer's line was glued to the torn end").count - 1
                    print("\(testName): \(seed): torn appends cut at restart: \(cuts); glued lines blanked: \(blanks)")
                    try await cluster.expectConverged(
                        session,
                        on: [a, b],
                        expectedOpIDs: Set(streamedIDs + writtenOnB),
                        seed: seed
                    )
                }
            }
        }

        /// Seeded gaps between kills (bytes of the stream the receiver gets after each restart),
        /// averaging 2.5 % of the stream as it lands in the receiver's file, estimated from the
        /// first streamed line on `writer`: the 20 kills come while the stream still flows, even
        /// counting what flows while the victim is down or catching up, and the stream goes on
        /// after the last.
        static func gaps(
            streamingFrom writer: AgentProcess,
            session: String,
            using random: inout SplitMix64
        ) async throws -> [Int] {
            try await waitFor("Muse's writer to start") {
                MuseStream.lines(by: "muse-stream", in: writer.files(session)).isEmpty ? "no streamed line yet" : nil
            }
            let lineLength = (MuseStream.lines(by: "muse-stream", in: writer.files(session)).first?.count ?? 0) + 1
            return randomGaps(count: Self.kills, mean: lineLength * Self.streamed / 40, using: &random)
        }
    }
}

/// Appends one line as Muse's writer lays it out (a fresh UUID op id) with a single `write(2)`,
/// as a Muse process would while the daemon is down; returns the op id.
private func appendMuseLine(_ files: SessionFiles, actor: String) throws -> String {
    let opID = UUID().uuidString.lowercased()
    try files.appendRaw(museLine(opID: opID, actor: actor, lamportTimestamp: 1_000_000) + "\n")
    return opID
}
