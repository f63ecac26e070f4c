import OpLog
import Testing

@testable import OpLogReplication

/// One op id on two different entries (a writer bug with opaque ids) is reported where it shows.
@Suite("Replication engine: op ids that name two entries")
struct ReplicationEngineConflictTests {
    let id = "5f0c3a4e-2b1d-4c7e-9a8f-0123456789ab"

    @Test func aPeersEntryWithAKnownOpaqueIDIsReportedWithTheLocalPlace() throws {
        var alice = TestReplica(connectedTo: [Fixture.bob])
        let local = Fixture.opaque(id: self.id, lamport: 1, kind: "insert")
        _ = alice.write([local])
        let theirs = Fixture.opaque(id: self.id, lamport: 1, kind: "delete")
        let actions = alice.handle(.received(batch(0, 1, [theirs]), from: Fixture.bob))
        let expected = ReplicationReport.duplicateReceived(
            peer: Fixture.bob,
            session: Fixture.session,
            opID: local.opID,
            location: EntryLocation(offset: 0, length: Int32(local.line.count)),
            line: theirs.line
        )
        #expect(actions.contains(.report(expected)), "\(actions)")
        #expect(actions.appends.isEmpty)
        #expect(alice.lines() == [local.line])
    }

    @Test func aDuplicateWithAContentIDIsNotReported() {
        var alice = TestReplica(connectedTo: [Fixture.bob])
        let entry = Fixture.entry(lamport: 1)
        _ = alice.write([entry])
        let actions = alice.handle(.received(batch(0, 1, [entry]), from: Fixture.bob))
        #expect(!actions.contains { $0.isReport }, "\(actions)")
        #expect(alice.engine.statistics.duplicatesIgnored == 1)
    }

    @Test func aRepeatedOpIDInTheLocalFileIsReportedOnceAndNotShipped() {
        var alice = TestReplica(connectedTo: [Fixture.bob])
        let first = Fixture.opaque(id: self.id, lamport: 1, kind: "insert")
        let again = Fixture.opaque(id: self.id, lamport: 2, kind: "delete")
        let actions = alice.write([first, again])
        let secondOffset = Int64(first.line.count) + 1
        let expected = ReplicationReport.repeatedLocalOpID(
            session: Fixture.session,
            opID: first.opID,
            location: EntryLocation(offset: secondOffset, length: Int32(again.line.count)),
            firstLocation: EntryLocation(offset: 0, length: Int32(first.line.count))
        )
        #expect(actions.contains(.report(expected)), "\(actions)")
        #expect(actions.shipments.flatMap(\.locations) == [EntryLocation(offset: 0, length: Int32(first.line.count))])
        #expect(alice.engine.durableCount(of: Fixture.session) == 1)
    }

    @Test func aLineReadAgainIsNotReported() {
        var alice = TestReplica()
        let entry = Fixture.opaque(id: self.id, lamport: 1)
        _ = alice.write([entry])
        let again = alice.handle(
            .localEntries(session: Fixture.session, entries: [LocalEntry(entry: entry, offset: 0)])
        )
        #expect(!again.contains { $0.isReport }, "\(again)")
        // Nor is a file read again after a reset.
        let reset = alice.cutFile(keeping: 1)
        #expect(!reset.contains { $0.isReport }, "\(reset)")
    }
}
