import OpLog
import Testing

@testable import OpLogReplication

/// DESIGN §7, "what each peer may do": a peer's `sessions` and `receive` rules hold for
/// shipping, reconciliation, forwarding and checkpoints alike.
@Suite("Replication engine: per-peer rules")
struct ReplicationEnginePeerRulesTests {
    let song = try! SessionID(validating: "song-1")
    let secret = try! SessionID(validating: "secret")
    let absent = try! SessionID(validating: "absent")
    let bob = Fixture.bob
    let carol = Fixture.carol

    var songsOnly: PeerRules { PeerRules(sessions: [try! SessionPattern(validating: "song-*")]) }

    /// Alice, knowing her id (so links reconcile), holding one entry in `song-1` and in `secret`.
    func alice() -> TestReplica {
        var alice = TestReplica { $0.localNode = Fixture.alice }
        _ = alice.write([Fixture.entry(lamport: 1)], session: self.song)
        _ = alice.write([Fixture.entry(lamport: 1, kind: "secret")], session: self.secret)
        _ = alice.handle(.localCheckpoint(session: self.secret, Fixture.checkpoint(session: self.secret, snapshot: "s", lamport: 1)))
        return alice
    }

    static func sessions(of messages: [ReplicationMessage]) -> Set<String> {
        Set(
            messages.compactMap { message in
                switch message {
                case .reconcile(let session, _, _, _), .checkpoint(let session, _), .acknowledge(let session, _, _),
                    .retransmit(let session), .checkpointAcknowledge(let session, _, _, _), .prune(let session),
                    .graft(let session, _):
                    session
                case .entries(let batch): batch.session
                }
            }
        )
    }

    @Test func aSessionNotSharedIsNeverOfferedShippedOrCheckpointed() {
        var alice = self.alice()
        let connected = alice.handle(.peerConnected(self.bob, key: .testing, rules: self.songsOnly))
        #expect(Self.sessions(of: connected.sent(to: self.bob)) == ["song-1"], "\(connected)")
        // Later entries and checkpoints of the secret session do not go to bob either.
        var later = alice.write([Fixture.entry(lamport: 2, kind: "later")], session: self.secret)
        later += alice.handle(.localCheckpoint(session: self.secret, Fixture.checkpoint(session: self.secret, snapshot: "t", lamport: 2)))
        alice.now = .seconds(3600)
        later += alice.handle(.tick)
        #expect(!later.shipments.contains { $0.session == self.secret }, "\(later)")
        #expect(!Self.sessions(of: later.sent(to: self.bob)).contains("secret"), "\(later)")
    }

    /// What bob sends about a session not shared with him is answered alike whether alice holds
    /// it or not, and nothing of it is written.
    @Test func whatThePeerSendsOfAnUnsharedSessionIsAnsweredAlikeAndNotWritten() {
        var alice = self.alice()
        _ = alice.handle(.peerConnected(self.bob, key: .testing, rules: self.songsOnly))
        func answers(_ session: SessionID) -> [ReplicationAction] {
            var copy = alice
            let entry = Fixture.entry(actor: "bob", lamport: 5)
            var actions = copy.handle(
                .received(.reconcile(session: session.rawValue, exchange: 9, step: 0, ranges: []), from: self.bob)
            )
            actions += copy.handle(
                .received(.reconcile(session: session.rawValue, exchange: 10, step: 0, ranges: [ReconciliationRange(upperBound: .end, payload: .fingerprint(count: 1, sum: 1))]), from: self.bob)
            )
            actions += copy.handle(.received(batch(0, 1, [entry], session: session), from: self.bob))
            let checkpoint = Fixture.checkpoint(session: session, snapshot: "bob", lamport: 99)
            actions += copy.handle(.received(.checkpoint(session: session.rawValue, bytes: checkpoint.bytes), from: self.bob))
            #expect(actions.appends.isEmpty && !actions.contains { if case .writeCheckpoint = $0 { true } else { false } })
            #expect(copy.engine.statistics.refusedByRules == 2)
            return actions
        }
        let held = answers(self.secret)
        let missing = answers(self.absent)
        /// The messages with the session's name taken out (and the checkpoint digest, which
        /// covers bytes naming the session).
        func normalized(_ actions: [ReplicationAction]) -> [ReplicationMessage] {
            actions.sent(to: self.bob).map { message in
                switch message {
                case .reconcile(_, let exchange, let step, let ranges):
                    .reconcile(session: "S", exchange: exchange, step: step, ranges: ranges)
                case .acknowledge(_, let after, let through): .acknowledge(session: "S", after: after, through: through)
                case .checkpointAcknowledge(_, let lamport, let snapshot, _):
                    .checkpointAcknowledge(session: "S", lamportTimestamp: lamport, snapshotID: snapshot, digest: [])
                default: message
                }
            }
        }
        #expect(normalized(held) == normalized(missing))
        #expect(held.sent(to: self.bob).count == 4, "two give-ups, an acknowledgement of each: \(held)")
    }

    @Test func aPeerThatMayNotWriteIsAcknowledgedButNotWrittenAndStillReads() {
        var alice = self.alice()
        let readOnlyBob = PeerRules(receives: false)
        let connected = alice.handle(.peerConnected(self.bob, key: .testing, rules: readOnlyBob))
        #expect(Self.sessions(of: connected.sent(to: self.bob)) == ["song-1", "secret"], "bob still reads")
        let entry = Fixture.entry(actor: "bob", lamport: 5)
        let received = alice.handle(.received(batch(0, 1, [entry], session: self.song), from: self.bob))
        #expect(received.appends.isEmpty)
        #expect(received.sent(to: self.bob) == [.acknowledge(session: "song-1", after: 0, through: 1)])
        let checkpoint = Fixture.checkpoint(session: self.song, snapshot: "bob", lamport: 99)
        let offered = alice.handle(.received(.checkpoint(session: self.song.rawValue, bytes: checkpoint.bytes), from: self.bob))
        #expect(!offered.contains { if case .writeCheckpoint = $0 { true } else { false } })
        #expect(offered.sent(to: self.bob) == [.acknowledgement(of: checkpoint)])
        #expect(alice.engine.statistics.refusedByRules == 2)
        // Nor is anything of bob's forwarded: carol gets nothing from that exchange.
        _ = alice.handle(.peerConnected(self.carol, key: .testing))
        #expect(!received.sent(to: self.carol).contains { if case .entries = $0 { true } else { false } })
    }

    @Test func aPeerThatTakesNothingIsShippedNothing() {
        var alice = self.alice()
        let connected = alice.handle(.peerConnected(self.bob, key: .testing, rules: PeerRules(peerReceives: false)))
        #expect(connected.shipments.isEmpty)
        #expect(!connected.sent(to: self.bob).contains { if case .checkpoint = $0 { true } else { false } })
        let later = alice.write([Fixture.entry(lamport: 2, kind: "later")], session: self.song)
        #expect(later.shipments.isEmpty)
    }
}
