import OpLog
import Testing

@testable import OpLogReplication

/// Forwarding between peers, read-only replicas, and input that must be refused.
@Suite("Replication engine: forwarding and validation")
struct ReplicationEngineForwardingTests {
    private let session = Fixture.session
    private let alice = Fixture.alice
    private let carol = Fixture.carol

    @Test func aReceivedEntryIsForwardedToAThirdPeerAndNeverEchoedToItsOrigin() throws {
        var bob = TestReplica(connectedTo: [self.alice, self.carol])
        let entry = Fixture.entry(lamport: 1)
        let request = try #require(bob.handle(.received(batch(0, 1, [entry]), from: self.alice)).appends.first)
        let completed = bob.complete(request)
        let location = EntryLocation(offset: 0, length: Int32(entry.line.count))
        #expect(
            completed == [
                .send(acknowledge(0, 1), to: self.alice),
                .ship(Shipment(peer: self.carol, session: self.session, after: 0, through: 1, locations: [location], isLive: true)),
            ]
        )
        #expect(bob.engine.acknowledgedSequence(of: self.alice, session: self.session) == 1, "skipped for its origin, so nothing is owed")

        // On reconnect the origin still gets nothing back; a new local entry goes to both.
        _ = bob.handle(.peerDisconnected(self.alice))
        #expect(bob.handle(.peerConnected(self.alice, key: .testing)) == [])
        let local = Fixture.entry(actor: "bob", lamport: 2, parents: [entry])
        let shipped = bob.write([local])
        #expect(shipped.shipments.map(\.peer) == [self.alice, self.carol])
        #expect(shipped.shipments.map { [$0.after, $0.through] } == [[1, 2], [1, 2]])
    }

    @Test func aRangeWhoseEntriesAllCameFromThePeerIsSentEmptyWhenEarlierRangesAreOutstanding() {
        var bob = TestReplica(connectedTo: [self.alice]) { $0.maximumBatchLines = 1 }
        let local = Fixture.entry(actor: "bob", lamport: 1)
        #expect(bob.write([local]).shipments.map { [$0.after, $0.through] } == [[0, 1]])
        let fromAlice = Fixture.entry(actor: "alice", lamport: 1)
        let request = bob.handle(.received(batch(0, 1, [fromAlice]), from: self.alice)).appends
        let completed = bob.complete(request[0])
        #expect(completed.sent(to: self.alice) == [acknowledge(0, 1)])
        #expect(completed.shipments == [Shipment(peer: self.alice, session: self.session, after: 1, through: 2, locations: [])])
        _ = bob.handle(.received(acknowledge(0, 1), from: self.alice))
        _ = bob.handle(.received(acknowledge(1, 2), from: self.alice))
        #expect(bob.engine.acknowledgedSequence(of: self.alice, session: self.session) == 2)
    }

    @Test func aReadOnlyReplicaShipsNothingOfItsOwnButForwards() throws {
        var backup = TestReplica(connectedTo: [self.alice, self.carol]) { $0.isReadOnly = true }
        let own = Fixture.entry(actor: "backup", lamport: 1)
        #expect(backup.write([own]) == [])
        #expect(backup.engine.durableCount(of: self.session) == 1)

        let fromAlice = Fixture.entry(actor: "alice", lamport: 1)
        let request = try #require(backup.handle(.received(batch(0, 1, [fromAlice]), from: self.alice)).appends.first)
        let completed = backup.complete(request)
        #expect(completed.sent(to: self.alice) == [acknowledge(0, 1)])
        #expect(completed.shipments.map(\.peer) == [self.carol])
        #expect(completed.shipments.first.map(backup.read) == [fromAlice.line])
        #expect(backup.engine.statistics.entriesShipped == 1)
        _ = backup.handle(.received(acknowledge(1, 2), from: self.carol))

        let ownCheckpoint = Fixture.checkpoint(snapshot: "backup-snap", lamport: 1)
        let adopted = backup.handle(.localCheckpoint(session: self.session, ownCheckpoint))
        #expect(adopted.sent(to: self.alice).isEmpty && adopted.sent(to: self.carol).isEmpty)
        backup.now = .seconds(3600)
        #expect(backup.handle(.tick) == [], "its own checkpoint is never offered either")
    }

    /// After a restart the host feeds the whole file as local entries, with the origins it
    /// recorded (`recordOrigins`) restored first. A read-only replica must still forward what it
    /// received from peers (it is "own" only if its own writers wrote it), or a line topology
    /// through it loses those entries.
    @Test func aRestartedReadOnlyReplicaStillForwardsWhatItReceivedBeforeTheRestart() throws {
        var backup = TestReplica(connectedTo: [self.alice]) { $0.isReadOnly = true }
        let fromAlice = Fixture.entry(actor: "alice", lamport: 1)
        let request = try #require(backup.handle(.received(batch(0, 1, [fromAlice]), from: self.alice)).appends.first)
        _ = backup.complete(request)

        // Crash: the engine is gone, the file survives; carol was not connected yet.
        var restarted = TestReplica { $0.isReadOnly = true }
        restarted.bytes = backup.bytes
        var origins: [SessionID: [NodeID?]] = [:]
        for case .recordOrigins(let session, let first, let list) in backup.records {
            #expect(first == UInt64(origins[session, default: []].count + 1))
            origins[session, default: []] += list
        }
        #expect(origins[self.session] == [self.alice])
        restarted.engine.restoreOrigins(origins)
        _ = restarted.handle(.localEntries(session: self.session, entries: [LocalEntry(entry: fromAlice, offset: 0)]))
        _ = restarted.handle(.peerConnected(self.alice, key: .testing))
        let connected = restarted.handle(.peerConnected(self.carol, key: .testing))
        let names = Names(["fromAlice": fromAlice])
        #expect(names(connected.shipments.flatMap(restarted.read)) == ["fromAlice"], "carol is reachable only through the backup")
    }

    /// The same after a restart for a checkpoint: the host feeds `checkpoint.json` as
    /// `.localCheckpoint`, having restored the peer checkpoint it recorded, and a read-only
    /// replica must still pass on one it received.
    @Test func aRestartedReadOnlyReplicaStillForwardsTheCheckpointItReceived() {
        var backup = TestReplica(connectedTo: [self.alice]) { $0.isReadOnly = true }
        let fromAlice = Fixture.checkpoint(snapshot: "alice", lamport: 5)
        let adopted = backup.handle(.received(.checkpoint(session: self.session.rawValue, bytes: fromAlice.bytes), from: self.alice))
        #expect(adopted.first == .writeCheckpoint(session: self.session, fromAlice))

        var restarted = TestReplica { $0.isReadOnly = true }
        restarted.restore(from: backup)
        _ = restarted.handle(.localCheckpoint(session: self.session, fromAlice))
        _ = restarted.handle(.peerConnected(self.alice, key: .testing))
        var sentToCarol = restarted.handle(.peerConnected(self.carol, key: .testing)).sent(to: self.carol)
        restarted.now = .seconds(3600)
        sentToCarol += restarted.handle(.tick).sent(to: self.carol)
        // Carol never acknowledges here, so the tick an hour later sends it again.
        let expected = ReplicationMessage.checkpoint(session: self.session.rawValue, bytes: fromAlice.bytes).summary
        #expect(sentToCarol.map(\.summary) == [expected, expected])
    }

    /// A received range is acknowledged as soon as its append is durable, but the entry's place
    /// in the origin journal (`recordOrigins`) comes only when the host feeds the new line back
    /// from the file. After a crash in between, the arrival recorded before the append keeps the
    /// entry a peer's: a read-only replica still forwards it (its sender will not send it again,
    /// so the replicas beyond the backup would never get it otherwise).
    @Test func aReadOnlyReplicaThatCrashesBeforeItsAppendIsReadBackStillForwardsTheEntry() throws {
        var backup = TestReplica(connectedTo: [self.alice]) { $0.isReadOnly = true }
        let fromAlice = Fixture.entry(actor: "alice", lamport: 1)
        let request = try #require(backup.handle(.received(batch(0, 1, [fromAlice]), from: self.alice)).appends.first)
        let locations = backup.appendToFile(request.lines)
        #expect(backup.handle(.appendCompleted(token: request.token)).sent(to: self.alice) == [acknowledge(0, 1)])

        // Crash before the watcher fed the new line back.
        #expect(backup.savedArrivals[self.session] == [Arrival(opID: fromAlice.opID, peer: self.alice)])
        var restarted = TestReplica { $0.isReadOnly = true }
        restarted.restore(from: backup)
        _ = restarted.handle(.localEntries(session: self.session, entries: [LocalEntry(entry: fromAlice, offset: locations[0].offset)]))
        _ = restarted.handle(.peerConnected(self.alice, key: .testing))
        let connected = restarted.handle(.peerConnected(self.carol, key: .testing))
        let names = Names(["fromAlice": fromAlice])
        #expect(names(connected.shipments.flatMap(restarted.read)) == ["fromAlice"], "carol is reachable only through the backup")
    }

    /// The engine also asks for `.writeCheckpoint` when a writer puts back a lesser checkpoint
    /// and the replica's own greater one must be restored. That is not a peer's checkpoint: after
    /// a restart a read-only replica still keeps it to itself.
    @Test func aRestartedReadOnlyReplicaKeepsItsOwnRestoredCheckpointToItself() {
        var backup = TestReplica(connectedTo: [self.alice]) { $0.isReadOnly = true }
        let own = Fixture.checkpoint(snapshot: "backup", lamport: 9)
        _ = backup.handle(.localCheckpoint(session: self.session, own))
        let putBack = backup.handle(.localCheckpoint(session: self.session, Fixture.checkpoint(snapshot: "older", lamport: 3)))
        #expect(putBack == [.writeCheckpoint(session: self.session, own)])

        #expect(backup.savedRemoteCheckpoints.isEmpty)
        var restarted = TestReplica { $0.isReadOnly = true }
        restarted.restore(from: backup)
        _ = restarted.handle(.localCheckpoint(session: self.session, own))
        var sentToAlice = restarted.handle(.peerConnected(self.alice, key: .testing)).sent(to: self.alice)
        restarted.now = .seconds(3600)
        sentToAlice += restarted.handle(.tick).sent(to: self.alice)
        #expect(sentToAlice.map(\.summary) == [], "the backup's own checkpoint left it")
    }

    @Test func aLineWithAForgedContentIDIsRejectedCountedAndNeverAppended() {
        var bob = TestReplica(connectedTo: [self.alice])
        let entry = Fixture.entry(lamport: 1)
        let forged = Fixture.tamperedLine(entry)
        let actions = bob.handle(
            .received(.entries(EntryBatch(session: self.session.rawValue, after: 0, through: 1, lines: [forged])), from: self.alice)
        )
        guard case .report(.rejectedEntry(let peer, let session, _))? = actions.first else {
            Issue.record("expected a rejected entry first, got \(actions)")
            return
        }
        #expect(peer == self.alice && session == self.session.rawValue)
        #expect(actions.appends.isEmpty)
        #expect(actions.sent(to: self.alice) == [.retransmit(session: self.session.rawValue)], "not acknowledged; asked again")
        #expect(bob.engine.statistics.entriesRejected == 1)
        #expect(bob.engine.durableCount(of: self.session) == 0)
    }

    /// A correct sender ships only lines it validated itself, so a line that fails validation
    /// was damaged on the way (or the peer misbehaves). Acknowledging its range tells the sender
    /// the entry arrived: it is never sent again on this link, and in a line topology every
    /// replica beyond the receiver loses it (its children are then held, and written as orphans).
    @Test func aLineCorruptedInTransitIsSentAgain() throws {
        var alice = TestReplica { $0.retransmitTimeout = .seconds(30) }
        var bob = TestReplica()
        _ = alice.handle(.peerConnected(Fixture.bob, key: .testing))
        _ = bob.handle(.peerConnected(self.alice, key: .testing))
        let entry = Fixture.entry(lamport: 1)
        let shipment = try #require(alice.write([entry]).shipments.first)
        let damaged = EntryBatch(session: self.session.rawValue, after: shipment.after, through: shipment.through, lines: [Fixture.tamperedLine(entry)])
        for message in bob.handle(.received(.entries(damaged), from: self.alice)).sent(to: self.alice) {
            _ = alice.handle(.received(message, from: Fixture.bob))
        }
        alice.now = .seconds(30)
        let names = Names(["entry": entry])
        #expect(names(alice.handle(.tick).shipments.flatMap(alice.read)) == ["entry"], "alice took the damaged copy as delivered")
        #expect(bob.engine.durableCount(of: self.session) == 0)
    }

    @Test(arguments: [
        "not json at all",
        #"{"op_id":"x"}"#,
        #"{"op_id":"u1","actor_id":"a","lamport_ts":-1,"parent_op_ids":[],"domain":"m","domain_op":{}}"#,
        #"{"op_id":"u1","actor_id":"a","lamport_ts":1,"parent_op_ids":[],"domain":"m","domain_op":{}"#,
    ])
    func aGarbageLineIsRejectedCountedAndNeverAppended(line: String) {
        var bob = TestReplica(connectedTo: [self.alice])
        let good = Fixture.entry(lamport: 1)
        let actions = bob.handle(
            .received(.entries(EntryBatch(session: self.session.rawValue, after: 0, through: 2, lines: [Array(line.utf8), good.line])), from: self.alice)
        )
        #expect(actions.filter(\.isReport).count == 1)
        guard case .report(.rejectedEntry(let peer, _, _))? = actions.first else {
            Issue.record("expected a rejected entry, got \(actions)")
            return
        }
        #expect(peer == self.alice)
        #expect(actions.appends.map(\.lines) == [[good.line]], "the rest of the batch is still written")
        #expect(bob.engine.statistics.entriesRejected == 1)
    }

    @Test(arguments: ["", ".", "..", "../escape", "a/b", "nul\u{0}", String(repeating: "s", count: 129)])
    func aBatchForAnInvalidSessionIDIsRejectedAndAcknowledged(session: String) {
        var bob = TestReplica(connectedTo: [self.alice])
        let entry = Fixture.entry(lamport: 1)
        let actions = bob.handle(.received(.entries(EntryBatch(session: session, after: 0, through: 1, lines: [entry.line])), from: self.alice))
        #expect(actions.count == 2)
        guard case .report(.rejectedMessage(let peer, _))? = actions.first else {
            Issue.record("expected a rejected message, got \(actions)")
            return
        }
        #expect(peer == self.alice)
        #expect(actions.last == .send(.acknowledge(session: session, after: 0, through: 1), to: self.alice))
        #expect(bob.engine.statistics.messagesRejected == 1)
        #expect(bob.engine.knownSessions.isEmpty)
    }

    @Test func aBatchWithMoreLinesThanItsRangeIsRejected() {
        var bob = TestReplica(connectedTo: [self.alice])
        let entries = [Fixture.entry(lamport: 1), Fixture.entry(lamport: 2)]
        for message in [batch(0, 1, entries), batch(3, 3, []), batch(5, 2, [])] {
            let actions = bob.handle(.received(message, from: self.alice))
            guard case .report(.rejectedMessage)? = actions.first, actions.count == 1 else {
                Issue.record("expected only a rejected message for \(message), got \(actions)")
                continue
            }
        }
        #expect(bob.engine.statistics.messagesRejected == 3)
        #expect(bob.engine.durableCount(of: self.session) == 0)
    }

    @Test func aLocalLineWithAForgedContentIDIsReportedAndNeverShipped() throws {
        var alice = TestReplica(connectedTo: [Fixture.bob])
        let forged = try OpEntry(line: Fixture.tamperedLine(Fixture.entry(lamport: 1)))
        let actions = alice.write([forged])
        #expect(actions.count == 1)
        guard case .report(.rejectedEntry(nil, let session, _))? = actions.first else {
            Issue.record("expected a rejected local entry, got \(actions)")
            return
        }
        #expect(session == self.session.rawValue)
        #expect(alice.engine.statistics.entriesRejected == 1)
        #expect(alice.engine.durableCount(of: self.session) == 0)
    }

    @Test func anEntryWithAnOpaqueIdIsNotVerifiedAndIsWrittenVerbatim() throws {
        var bob = TestReplica(connectedTo: [self.alice])
        let entry = Fixture.opaque(id: "3f2504e0-4f89-11d3-9a0c-0305e82c3301", lamport: 1)
        let request = try #require(bob.handle(.received(batch(0, 1, [entry]), from: self.alice)).appends.first)
        #expect(request.lines == [entry.line])
        _ = bob.complete(request)
        #expect(bob.lines() == [entry.line])
    }
}
