import OpLog
import Testing

@testable import OpLogReplication

/// Issue #13 item 7: two UUID-style op ids whose SHA-256s begin with the same 8 bytes, found by
/// `scripts/find-op-id-collision.c` (seed 7, 8,588,944,926 SHA-256 evaluations, about half an
/// hour on one core). Under the old scheme, reconciliation compared exactly those 8 bytes
/// (unkeyed), so two replicas holding one each at the same `lamport_ts` took them for one
/// entry and never exchanged them, at every reconnect. Now each exchange compares a keyed hash
/// of 128 bits, and both cross.
@Suite("Reconciliation: op ids crafted to collide")
struct ReconciliationCollisionTests {
    static let first = Fixture.opaque(id: "000ea32d-e06e-49bc-81c1-000000000000", actor: "mallory", lamport: 500)
    static let second = Fixture.opaque(id: "004f635b-5d4e-4d3b-8fcc-000000000000", actor: "mallory", lamport: 500)

    @Test func theOldSchemeTookThePairForOneEntry() {
        // The old key of an entry: its lamport_ts and the first 8 bytes of SHA-256(op id).
        #expect(ReconciliationBound.hash(of: Self.first.opID) == 0x2240_2dfc_6740_d9cb)
        #expect(ReconciliationBound.hash(of: Self.second.opID) == 0x2240_2dfc_6740_d9cb)
        #expect(ReconciliationBound(Self.first) == ReconciliationBound(Self.second))
        #expect(Self.first.opID != Self.second.opID)
    }

    @Test func eachExchangeTellsThemApart() {
        let (firstBound, firstContent) = ReconciliationBound.placing(Self.first)
        let (secondBound, secondContent) = ReconciliationBound.placing(Self.second)
        #expect(firstContent != secondContent, "the second 64 bits differ")
        for exchange in [UInt64(1), 2, 1 << 40] {
            let key = ReconciliationKey.testing.exchangeKey(exchange)
            #expect(key.item(firstBound.hash, firstContent) != key.item(secondBound.hash, secondContent))
        }
    }

    /// Two replicas sharing 200 entries, one holding each of the pair: after reconciling,
    /// both hold both, and nothing else crossed.
    @Test func bothCrossWhenTwoReplicasHoldOneEach() {
        let shared = ReplicationEngineReconciliationTests.chain(actor: "studio", lamports: 1...200)
        var pair = ReplicationEngineReconciliationTests.Pair()
        _ = pair.alice.write(shared + [Self.first])
        _ = pair.bob.write(shared + [Self.second])
        pair.connect()
        #expect(pair.shipped[Fixture.alice] == 1)
        #expect(pair.shipped[Fixture.bob] == 1)
        #expect(Set(pair.alice.lines()) == Set(pair.bob.lines()))
        #expect(Set(pair.alice.lines()).isSuperset(of: [Self.first.line, Self.second.line]))
        #expect(pair.alice.lines().count == 202)
    }
}
