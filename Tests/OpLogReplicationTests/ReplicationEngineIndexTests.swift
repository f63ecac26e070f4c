import OpLog
import Testing

@testable import OpLogReplication

/// `.recordIndex` and `restoreIndexedEntries`: a restart that takes the file's entries from the
/// host's index must leave the engine exactly where feeding the lines again would.
@Suite struct ReplicationEngineIndexTests {
    let session = Fixture.session
    let alice = Fixture.alice
    let bob = Fixture.bob
    let carol = Fixture.carol

    /// A replica whose file holds its own writer's entries (one with an opaque id), a line
    /// repeated by a writer, and entries received from alice, with the index it recorded.
    func populatedReplica() throws -> (replica: TestReplica, entries: [OpEntry]) {
        var replica = TestReplica(connectedTo: [self.alice])
        let first = Fixture.entry(lamport: 1)
        let opaque = Fixture.opaque(id: "0b9e-uuid-like", lamport: 2, parents: [first.opID.rawValue])
        _ = replica.write([first, opaque])
        // A writer repeating a line: not numbered again.
        _ = replica.write([first])
        let fromAlice = [Fixture.entry(actor: "alice", lamport: 3), Fixture.entry(actor: "alice", lamport: 4)]
        let request = try #require(replica.handle(.received(batch(0, 2, fromAlice), from: self.alice)).appends.first)
        _ = replica.complete(request)
        let third = Fixture.entry(lamport: 5, parents: [fromAlice[1]])
        _ = replica.write([third])
        return (replica, [first, opaque] + fromAlice + [third])
    }

    /// The entries the host recorded from `.recordIndex`, in sequence order.
    static func savedIndex(_ replica: TestReplica, session: SessionID) -> [IndexedEntry] {
        var saved: [IndexedEntry] = []
        for case .recordIndex(let recorded, let firstSequence, let entries, _) in replica.records
        where recorded == session {
            #expect(firstSequence == UInt64(saved.count + 1), "runs are consecutive")
            saved += entries
        }
        return saved
    }

    /// Every entry of the replica's file, with its offset, as a host reads them.
    func fileEntries(_ replica: TestReplica) -> [LocalEntry] {
        var offset: Int64 = 0
        var locals: [LocalEntry] = []
        for line in replica.lines(self.session) {
            if let entry = try? OpEntry(line: line) { locals.append(LocalEntry(entry: entry, offset: offset)) }
            offset += Int64(line.count) + 1
        }
        return locals
    }

    /// The engine fed the whole file again, as a host without an index does after a restart.
    func restartedByFeeding(_ replica: TestReplica) -> TestReplica {
        var restarted = TestReplica()
        restarted.restore(from: replica)
        _ = restarted.handle(.localEntries(session: self.session, entries: self.fileEntries(replica)))
        return restarted
    }

    /// The engine given the recorded index instead, in two calls to exercise consecutive runs.
    func restartedFromIndex(_ replica: TestReplica) -> TestReplica {
        var restarted = TestReplica()
        restarted.restore(from: replica)
        let saved = Self.savedIndex(replica, session: self.session)
        let half = saved.count / 2
        restarted.records += restarted.engine.restoreIndexedEntries(session: self.session, saved[..<half])
        restarted.records += restarted.engine.restoreIndexedEntries(session: self.session, saved[half...])
        return restarted
    }

    @Test func eachNewRunOfSequenceNumbersIsRecordedWithItsLocationsKeysAndLastLine() throws {
        let (replica, entries) = try self.populatedReplica()
        let saved = Self.savedIndex(replica, session: self.session)
        #expect(saved.map(\.opID) == entries.map(\.opID))
        #expect(saved.map(\.key) == entries.map(ReconciliationBound.init))
        let file = replica.bytes[self.session, default: []]
        for (indexed, entry) in zip(saved, entries) {
            let start = Int(indexed.location.offset)
            #expect(Array(file[start..<start + Int(indexed.location.length)]) == entry.line)
        }
        for case .recordIndex(_, _, let run, let digest) in replica.records {
            let last = try #require(run.last)
            let start = Int(last.location.offset)
            #expect(digest == IndexedEntry.lineDigest(of: file[start..<start + Int(last.location.length)]))
        }
    }

    @Test func restoringTheIndexLeavesTheStateFeedingTheLinesLeaves() throws {
        let (replica, _) = try self.populatedReplica()
        let fed = self.restartedByFeeding(replica)
        let restored = self.restartedFromIndex(replica)

        let fedSession = try #require(fed.engine.sessions[self.session])
        let restoredSession = try #require(restored.engine.sessions[self.session])
        #expect(restoredSession.order.map(\.location) == fedSession.order.map(\.location))
        #expect(restoredSession.order.map(\.origin) == fedSession.order.map(\.origin))
        #expect(restoredSession.order.map(\.key) == fedSession.order.map(\.key))
        #expect(restoredSession.order.map(\.origin).contains { !$0.isLocal }, "alice's entries keep their origin")
        #expect(Set(restoredSession.status.keys) == Set(fedSession.status.keys))
        #expect(restoredSession.status.values.allSatisfy { if case .indexed = $0 { true } else { false } })
        #expect(Self.origins(restored.records).isEmpty, "the origin journal already holds every origin")
    }

    @Test func anOriginJournalBehindTheIndexCatchesUpAsFeedingTheLinesWould() throws {
        let (replica, entries) = try self.populatedReplica()
        var journal = replica.savedOrigins
        journal[self.session] = Array(journal[self.session, default: []].prefix(2))
        var fed = TestReplica()
        fed.engine.restoreOrigins(journal)
        _ = fed.handle(.localEntries(session: self.session, entries: self.fileEntries(replica)))
        var restored = TestReplica()
        restored.engine.restoreOrigins(journal)
        let actions = restored.engine.restoreIndexedEntries(
            session: self.session,
            Self.savedIndex(replica, session: self.session)
        )
        let fedOrigins = Self.origins(fed.records)
        #expect(fedOrigins.count == entries.count)
        #expect(Self.origins(actions) == fedOrigins.filter { $0.key > 2 }, "sequence numbers 3… are recorded")
    }

    /// The `recordOrigins` a host would append, by sequence number.
    static func origins(_ records: [ReplicationAction]) -> [UInt64: NodeID?] {
        var origins: [UInt64: NodeID?] = [:]
        for case .recordOrigins(_, let first, let list) in records {
            for (index, origin) in list.enumerated() { origins[first + UInt64(index)] = origin }
        }
        return origins
    }

    @Test func aReplicaRestoredFromItsIndexShipsAndDeduplicatesAsOneThatReadItsFile() throws {
        let (replica, entries) = try self.populatedReplica()
        var fed = self.restartedByFeeding(replica)
        var restored = self.restartedFromIndex(replica)
        _ = fed.handle(.peerConnected(self.alice, key: .testing))
        _ = restored.handle(.peerConnected(self.alice, key: .testing))

        // Carol, a new peer, gets every entry, in sequence order.
        let fedShipped = fed.handle(.peerConnected(self.carol, key: .testing)).shipments.flatMap(fed.read)
        let restoredShipped = restored.handle(.peerConnected(self.carol, key: .testing)).shipments.flatMap(restored.read)
        #expect(restoredShipped == fedShipped)
        #expect(restoredShipped == entries.map(\.line))

        // Bob sends what the file holds plus one new entry: only the new one is written.
        let newEntry = Fixture.entry(actor: "bob", lamport: 9)
        _ = fed.handle(.peerConnected(self.bob, key: .testing))
        _ = restored.handle(.peerConnected(self.bob, key: .testing))
        let message = batch(0, UInt64(entries.count + 1), entries + [newEntry])
        let fedAppends = fed.handle(.received(message, from: self.bob)).appends
        let restoredAppends = restored.handle(.received(message, from: self.bob)).appends
        #expect(restoredAppends.map(\.lines) == [[newEntry.line]])
        #expect(restoredAppends.map(\.lines) == fedAppends.map(\.lines))
        #expect(restored.engine.statistics.duplicatesIgnored == entries.count)

        // Lines appended to the file after the index are fed as usual and numbered after it.
        let later = Fixture.entry(lamport: 10)
        let fedLater = fed.write([later])
        let restoredLater = restored.write([later])
        #expect(restoredLater.shipments.map(\.after) == fedLater.shipments.map(\.after))
        #expect(restored.engine.durableCount(of: self.session) == entries.count + 1)
    }

    @Test func aRestoredReadOnlyReplicaStillForwardsWhatItReceived() throws {
        var backup = TestReplica(connectedTo: [self.alice]) { $0.isReadOnly = true }
        let own = Fixture.entry(actor: "backup-writer", lamport: 1)
        _ = backup.write([own])
        let fromAlice = Fixture.entry(actor: "alice", lamport: 2)
        let request = try #require(backup.handle(.received(batch(0, 1, [fromAlice]), from: self.alice)).appends.first)
        _ = backup.complete(request)

        var restarted = TestReplica { $0.isReadOnly = true }
        restarted.restore(from: backup)
        _ = restarted.engine.restoreIndexedEntries(session: self.session, Self.savedIndex(backup, session: self.session))
        let shipped = restarted.handle(.peerConnected(self.carol, key: .testing)).shipments.flatMap(restarted.read)
        #expect(shipped == [fromAlice.line], "its own writer's entry stays, alice's is forwarded")
    }

    @Test func anIdTheEngineAlreadyKnowsIsSkippedAndNotNumberedTwice() throws {
        let (replica, entries) = try self.populatedReplica()
        var restarted = TestReplica()
        let saved = Self.savedIndex(replica, session: self.session)
        _ = restarted.engine.restoreIndexedEntries(session: self.session, saved)
        let again = restarted.engine.restoreIndexedEntries(session: self.session, saved)
        #expect(again.isEmpty)
        #expect(restarted.engine.durableCount(of: self.session) == entries.count)
    }
}
