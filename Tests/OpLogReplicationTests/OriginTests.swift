import OpLog
import Testing

@testable import OpLogReplication

@Suite("Origins")
struct OriginTests {
    /// A million known entries are held: an origin must stay 4 bytes, a known entry 40 (its
    /// place, origin, reconciliation key and content hash).
    @Test func anOriginCostsFourBytesPerEntry() {
        #expect(MemoryLayout<Origin>.size == 4)
        #expect(MemoryLayout<KnownEntry>.stride == 40)
    }

    @Test func localIsNoPeerAndPeersMapBackToTheirIDs() {
        var engine = ReplicationEngine()
        #expect(Origin.local.isLocal)
        #expect(engine.node(of: .local) == nil)
        let alice = engine.origin(of: Fixture.alice)
        let bob = engine.origin(of: Fixture.bob)
        #expect(!alice.isLocal && !bob.isLocal && alice != bob)
        #expect(engine.origin(of: Fixture.alice) == alice, "the same peer keeps its origin")
        #expect(engine.node(of: alice) == Fixture.alice)
        #expect(engine.node(of: bob) == Fixture.bob)
        #expect(engine.origin(of: nil as NodeID?) == .local)
        #expect(Origin.local.slot == 0 && alice.slot != bob.slot)
    }
}
