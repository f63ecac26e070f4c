import OpLog
import Testing

@testable import OpLogReplication

/// A local file replaced or cut while the replica runs is renumbered and reconciled at once.
@Suite("Replication engine: a local file reset while running")
struct ReplicationEngineResetTests {
    typealias Pair = ReplicationEngineReconciliationTests.Pair
    let alice = Fixture.alice
    let bob = Fixture.bob

    static func chain(actor: String, lamports: ClosedRange<Int>, after parent: OpEntry? = nil) -> [OpEntry] {
        ReplicationEngineReconciliationTests.chain(actor: actor, lamports: lamports, after: parent)
    }

    /// Two linked replicas that both hold alice's 30 entries (bob got them from alice) and
    /// bob's 10 (alice got them from bob).
    static func linkedPair() -> (Pair, [OpEntry]) {
        var pair = Pair()
        let shared = Self.chain(actor: "studio", lamports: 1...30)
        let bobsOwn = Self.chain(actor: "laptop", lamports: 31...40, after: shared.last)
        _ = pair.alice.write(shared)
        pair.connect()
        pair.run([(Fixture.bob, pair.bob.write(bobsOwn))])
        pair.shipped = [:]
        pair.reports = [:]
        return (pair, shared + bobsOwn)
    }

    @Test func aFileCutToItsFirstHalfGetsTheRestBackFromThePeerAndShipsNothing() throws {
        var (pair, all) = Self.linkedPair()
        #expect(pair.alice.lines().count == 40 && pair.bob.lines().count == 40)
        let actions = pair.bob.cutFile(keeping: 20)
        #expect(actions.first == .resetSession(Fixture.session))
        pair.run([(self.bob, actions)])

        #expect(pair.bob.lines().count == 40)
        #expect(Set(pair.bob.lines()) == Set(all.map(\.line)))
        #expect(pair.alice.lines().count == 40, "alice got nothing twice")
        #expect(pair.shipped[self.alice] == 20)
        #expect(pair.shipped[self.bob, default: 0] == 0, "bob shipped nothing alice holds")
        #expect(pair.bob.engine.durableCount(of: Fixture.session) == 40)
        let report = ReplicationReport.peerLacksAcknowledged(peer: self.bob, session: Fixture.session, acknowledged: 40, holds: 20)
        #expect(pair.reports[self.alice]?.contains(report) == true, "\(pair.reports[self.alice] ?? [])")
        // bob's own 10, which alice got from bob, came back from alice: no echo gave way.
        #expect(pair.bob.engine.durableCount(of: Fixture.session) == 40)
    }

    @Test func anEmptiedFileGetsEverythingBackAndNewLinesAreShippedOnce() {
        var (pair, all) = Self.linkedPair()
        pair.run([(self.bob, pair.bob.cutFile(keeping: 0))])
        #expect(Set(pair.bob.lines()) == Set(all.map(\.line)))
        #expect(pair.bob.lines().count == 40)
        #expect(pair.shipped[self.bob, default: 0] == 0)

        // The new numbering goes on: a line written now reaches alice once.
        pair.shipped = [:]
        let next = Fixture.entry(actor: "laptop", lamport: 41, parents: [all[39]])
        pair.run([(self.bob, pair.bob.write([next]))])
        #expect(pair.shipped[self.bob] == 1)
        #expect(pair.alice.lines().count == 41)
        #expect(pair.alice.engine.acknowledgedSequence(of: self.bob, session: Fixture.session) >= 0)
        #expect(pair.bob.engine.acknowledgedSequence(of: self.alice, session: Fixture.session) == 41)
    }

    /// A file emptied while its link was down: at the reconnect the peer finds it lacks
    /// everything, and sends back even the entries that came from it.
    @Test func aFileEmptiedWhileUnlinkedGetsItsOwnEntriesBackAtTheReconnect() {
        var (pair, all) = Self.linkedPair()
        pair.disconnect()
        _ = pair.bob.cutFile(keeping: 0)
        pair.connect()
        #expect(Set(pair.bob.lines()) == Set(all.map(\.line)))
        #expect(pair.bob.lines().count == 40)
        #expect(pair.alice.lines().count == 40)
        #expect(pair.shipped[self.bob, default: 0] == 0)
    }

    @Test func theNewNumberingIsRecordedFromOneAfterTheReset() {
        var (pair, _) = Self.linkedPair()
        pair.bob.records = []
        _ = pair.bob.cutFile(keeping: 5)
        guard
            case .recordOrigins(_, let first, let origins) = pair.bob.records.first(where: {
                if case .recordOrigins = $0 { return true }
                return false
            })
        else {
            Issue.record("no origins recorded: \(pair.bob.records)")
            return
        }
        #expect(first == 1)
        // The first five came from alice, and keep that origin.
        #expect(origins == Array(repeating: Optional(self.alice), count: 5))
    }

    @Test func acknowledgementsOfTheOldNumberingAreDroppedWhileTheLinkReconciles() throws {
        var bob = TestReplica(connectedTo: [Fixture.alice]) { $0.localNode = Fixture.bob }
        _ = bob.write(Self.chain(actor: "laptop", lamports: 1...10))
        let actions = bob.cutFile(keeping: 3)
        #expect(actions.contains { if case .send(.reconcile, Fixture.alice) = $0 { true } else { false } })
        // alice acknowledges what bob shipped before the cut: bob holds only 3 now.
        let late = bob.handle(.received(acknowledge(0, 10), from: Fixture.alice))
        #expect(late.isEmpty, "\(late)")
        #expect(bob.engine.acknowledgedSequence(of: Fixture.alice, session: Fixture.session) == 0)
    }

    @Test func aPeerToldOfANewExchangeDropsTheAcknowledgementsItOwes() throws {
        var alice = TestReplica(connectedTo: [Fixture.bob]) { $0.localNode = Fixture.alice }
        let parent = Fixture.entry(actor: "laptop", lamport: 1)
        let child = Fixture.entry(actor: "laptop", lamport: 2, parents: [parent])
        // bob's range (0, 1] carries a child whose parent is missing: its acknowledgement waits.
        _ = alice.handle(.received(batch(0, 1, [child]), from: Fixture.bob))
        #expect(alice.engine.sessions[Fixture.session]?.waits.count == 1)
        let start = ReplicationMessage.reconcile(
            session: Fixture.session.rawValue,
            exchange: 99 | Reconciliation.resetFlag,
            step: 0,
            ranges: [ReconciliationRange(upperBound: .end, payload: .fingerprint(count: 0, sum: 0))]
        )
        _ = alice.handle(.received(start, from: Fixture.bob))
        #expect(alice.engine.sessions[Fixture.session]?.waits.isEmpty == true)
    }
}

extension TestReplica {
    /// Cuts the session's file to its first `count` lines (replaced by a shorter copy, or
    /// truncated) and feeds the reset, as the host does when it sees it.
    mutating func cutFile(keeping count: Int, session: SessionID = Fixture.session) -> [ReplicationAction] {
        let kept = Array(self.lines(session).prefix(count))
        self.bytes[session] = []
        let locations = self.appendToFile(kept, session: session)
        let entries = zip(kept, locations).compactMap { line, location in
            (try? OpEntry(line: line)).map { LocalEntry(entry: $0, offset: location.offset) }
        }
        return self.handle(.localFileReset(session: session, entries: entries))
    }
}
