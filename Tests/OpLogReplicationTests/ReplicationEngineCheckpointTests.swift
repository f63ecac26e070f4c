import OpLog
import Testing

@testable import OpLogReplication

/// Checkpoints converge on the greatest (`lamport_ts`, `snapshot_id`, bytes).
@Suite("Replication engine: checkpoints")
struct ReplicationEngineCheckpointTests {
    private let session = Fixture.session
    private let alice = Fixture.alice
    private let carol = Fixture.carol

    @Test func aLocalCheckpointIsOfferedToEveryConnectedPeer() {
        var bob = TestReplica(connectedTo: [self.alice, self.carol])
        let checkpoint = Fixture.checkpoint(snapshot: "snap-3", lamport: 3)
        let actions = bob.handle(.localCheckpoint(session: self.session, checkpoint))
        #expect(
            actions == [
                .report(.checkpointAdopted(session: self.session, lamportTimestamp: 3, snapshotID: "snap-3", fromPeer: nil)),
                .send(.checkpoint(session: self.session.rawValue, bytes: checkpoint.bytes), to: self.alice),
                .send(.checkpoint(session: self.session.rawValue, bytes: checkpoint.bytes), to: self.carol),
            ]
        )
    }

    @Test func aGreaterCheckpointFromAPeerIsWrittenAndForwarded() {
        var bob = TestReplica(connectedTo: [self.alice, self.carol])
        _ = bob.handle(.localCheckpoint(session: self.session, Fixture.checkpoint(snapshot: "snap-3", lamport: 3)))
        let greater = Fixture.checkpoint(snapshot: "snap-5", lamport: 5)
        let actions = bob.handle(.received(.checkpoint(session: self.session.rawValue, bytes: greater.bytes), from: self.alice))
        #expect(
            actions == [
                .writeCheckpoint(session: self.session, greater),
                .report(.checkpointAdopted(session: self.session, lamportTimestamp: 5, snapshotID: "snap-5", fromPeer: self.alice)),
                .send(.checkpoint(session: self.session.rawValue, bytes: greater.bytes), to: self.carol),
                .send(.acknowledgement(of: greater), to: self.alice),
            ]
        )
        bob.now = .seconds(3600)
        #expect(bob.handle(.tick).sent(to: self.alice) == [], "its sender has it")
    }

    /// The poisoned checkpoint of issue #13: `lamport_ts` 9·10^18 would win over every later
    /// checkpoint for good. It is refused (counted, reported, not written, not forwarded), and
    /// the next valid one is taken as usual.
    @Test func aPeersCheckpointOutsideTheJSONSafeRangeIsRefused() throws {
        var bob = TestReplica(connectedTo: [self.alice, self.carol])
        _ = bob.handle(.localCheckpoint(session: self.session, Fixture.checkpoint(snapshot: "snap-3", lamport: 3)))
        let poisoned = Array(
            #"{"session_id":"\#(self.session.rawValue)","snapshot_id":"evil","lamport_ts":9000000000000000000,"op_count":0}"#
                .utf8
        )
        let refused = bob.handle(.received(.checkpoint(session: self.session.rawValue, bytes: poisoned), from: self.alice))
        #expect(!refused.contains { if case .writeCheckpoint = $0 { true } else { false } }, "\(refused)")
        #expect(refused.sent(to: self.carol).isEmpty, "not forwarded")
        #expect(refused.contains { if case .report(.rejectedMessage) = $0 { true } else { false } }, "\(refused)")
        #expect(bob.engine.statistics.messagesRejected == 1)
        let greater = Fixture.checkpoint(snapshot: "snap-5", lamport: 5)
        let taken = bob.handle(.received(.checkpoint(session: self.session.rawValue, bytes: greater.bytes), from: self.alice))
        #expect(taken.first == .writeCheckpoint(session: self.session, greater))
    }

    @Test func aLesserCheckpointFromAPeerIsAnsweredWithOurs() {
        var bob = TestReplica(connectedTo: [self.alice])
        let ours = Fixture.checkpoint(snapshot: "snap-5", lamport: 5)
        _ = bob.handle(.localCheckpoint(session: self.session, ours))
        bob.now = .seconds(1)
        let lesser = Fixture.checkpoint(snapshot: "snap-9", lamport: 3)
        let actions = bob.handle(.received(.checkpoint(session: self.session.rawValue, bytes: lesser.bytes), from: self.alice))
        #expect(
            actions == [
                .send(.checkpoint(session: self.session.rawValue, bytes: ours.bytes), to: self.alice),
                .send(.acknowledgement(of: lesser), to: self.alice),
            ]
        )
    }

    @Test func theSnapshotIDBreaksATimestampTie() {
        var bob = TestReplica(connectedTo: [self.alice])
        _ = bob.handle(.localCheckpoint(session: self.session, Fixture.checkpoint(snapshot: "b", lamport: 5)))
        let greater = Fixture.checkpoint(snapshot: "c", lamport: 5)
        let actions = bob.handle(.received(.checkpoint(session: self.session.rawValue, bytes: greater.bytes), from: self.alice))
        #expect(actions.first == .writeCheckpoint(session: self.session, greater))
        let lesser = Fixture.checkpoint(snapshot: "a", lamport: 5)
        let refused = bob.handle(.received(.checkpoint(session: self.session.rawValue, bytes: lesser.bytes), from: self.alice))
        #expect(!refused.contains { if case .writeCheckpoint = $0 { true } else { false } })
    }

    @Test func aLesserLocalCheckpointIsOverwrittenByTheGreatest() {
        var bob = TestReplica()
        let greatest = Fixture.checkpoint(snapshot: "snap-5", lamport: 5)
        _ = bob.handle(.localCheckpoint(session: self.session, greatest))
        let older = Fixture.checkpoint(snapshot: "snap-4", lamport: 4)
        #expect(bob.handle(.localCheckpoint(session: self.session, older)) == [.writeCheckpoint(session: self.session, greatest)])
        #expect(bob.handle(.localCheckpoint(session: self.session, greatest)) == [], "the file now holds what the engine holds")
    }

    @Test func anIdenticalCheckpointIsAcknowledgedAndNotSentBack() {
        var bob = TestReplica(connectedTo: [self.alice])
        let checkpoint = Fixture.checkpoint(snapshot: "snap-5", lamport: 5)
        _ = bob.handle(.localCheckpoint(session: self.session, checkpoint))
        let actions = bob.handle(.received(.checkpoint(session: self.session.rawValue, bytes: checkpoint.bytes), from: self.alice))
        #expect(actions == [.send(.acknowledgement(of: checkpoint), to: self.alice)])
        bob.now = .seconds(3600)
        #expect(bob.handle(.tick) == [])
    }

    @Test func anUnacknowledgedCheckpointIsSentAgainAfterTheRetransmitTimeout() {
        var bob = TestReplica(connectedTo: [self.alice]) { $0.retransmitTimeout = .seconds(30) }
        let checkpoint = Fixture.checkpoint(snapshot: "snap-5", lamport: 5)
        let offer = ReplicationAction.send(.checkpoint(session: self.session.rawValue, bytes: checkpoint.bytes), to: self.alice)
        #expect(bob.handle(.localCheckpoint(session: self.session, checkpoint)).last == offer)
        bob.now = .seconds(29)
        #expect(bob.handle(.tick) == [])
        bob.now = .seconds(30)
        #expect(bob.handle(.tick) == [offer])
        _ = bob.handle(.received(.acknowledgement(of: checkpoint), from: self.alice))
        bob.now = .seconds(3600)
        #expect(bob.handle(.tick) == [])
    }

    @Test func invalidCheckpointMessagesAreRejected() {
        var bob = TestReplica(connectedTo: [self.alice])
        let otherSession = Fixture.checkpoint(session: Fixture.otherSession, snapshot: "x", lamport: 1)
        let messages: [ReplicationMessage] = [
            .checkpoint(session: self.session.rawValue, bytes: Array("{not json".utf8)),
            .checkpoint(session: self.session.rawValue, bytes: Array(#"{"session_id":"live-1"}"#.utf8)),
            .checkpoint(session: "../etc", bytes: otherSession.bytes),
            .checkpoint(session: self.session.rawValue, bytes: otherSession.bytes),
        ]
        for message in messages {
            let actions = bob.handle(.received(message, from: self.alice))
            guard actions.count == 1, case .report(.rejectedMessage(self.alice, _))? = actions.first else {
                Issue.record("expected one rejection for \(message), got \(actions)")
                continue
            }
        }
        #expect(bob.engine.statistics.messagesRejected == messages.count)
        #expect(bob.engine.knownSessions.isEmpty)
    }

    /// Two replicas that checkpoint the same state get the same (`lamport_ts`, `snapshot_id`)
    /// but different bytes (`created_at`). Convergence needs the greater bytes everywhere, so a
    /// peer that acknowledged the lesser bytes must still be sent the greater.
    @Test func aCheckpointWithTheSameIdentityButGreaterBytesStillReachesAPeerThatHasTheLesser() {
        var bob = TestReplica(connectedTo: [self.alice, self.carol])
        let lesser = Fixture.checkpoint(snapshot: "snap", lamport: 5, createdAt: "2026-01-01T00:00:00+00:00")
        let greater = Fixture.checkpoint(snapshot: "snap", lamport: 5, createdAt: "2026-01-01T00:00:01+00:00")
        #expect(Checkpoint.precedes(lesser, greater))
        _ = bob.handle(.localCheckpoint(session: self.session, lesser))
        _ = bob.handle(.received(.acknowledgement(of: lesser), from: self.alice))

        let actions = bob.handle(.received(.checkpoint(session: self.session.rawValue, bytes: greater.bytes), from: self.carol))
        #expect(actions.first == .writeCheckpoint(session: self.session, greater))
        var sentToAlice = actions.sent(to: self.alice)
        bob.now = .seconds(3600)
        sentToAlice += bob.handle(.tick).sent(to: self.alice)
        let expected = ReplicationMessage.checkpoint(session: self.session.rawValue, bytes: greater.bytes).summary
        #expect(sentToAlice.map(\.summary).contains(expected), "alice keeps the lesser bytes forever")
    }

    /// A read-only replica that holds a greater checkpoint of its own must still pass on the
    /// checkpoints of read-write replicas, or the replicas beyond it never converge.
    @Test func aReadOnlyReplicaWithAGreaterCheckpointOfItsOwnStillForwardsPeerCheckpoints() {
        var backup = TestReplica(connectedTo: [self.alice, self.carol]) { $0.isReadOnly = true }
        _ = backup.handle(.localCheckpoint(session: self.session, Fixture.checkpoint(snapshot: "backup", lamport: 9)))
        let fromAlice = Fixture.checkpoint(snapshot: "alice", lamport: 5)
        var sentToCarol = backup.handle(.received(.checkpoint(session: self.session.rawValue, bytes: fromAlice.bytes), from: self.alice)).sent(to: self.carol)
        backup.now = .seconds(3600)
        sentToCarol += backup.handle(.tick).sent(to: self.carol)
        // Carol never acknowledges here, so the tick an hour later sends it again.
        let expected = ReplicationMessage.checkpoint(session: self.session.rawValue, bytes: fromAlice.bytes).summary
        #expect(sentToCarol.map(\.summary) == [expected, expected])
        #expect(backup.savedRemoteCheckpoints[self.session] == fromAlice)
    }
}
