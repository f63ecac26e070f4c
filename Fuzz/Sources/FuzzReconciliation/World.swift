import FuzzSupport
import OpLog
import OpLogReplication

/// The replicas every input starts from, made once: alice (the engine under test) and bob (a
/// genuine peer) share 260 entries of `live-1`, and each holds some of its own.
struct PreparedWorld: Sendable {
    static let alice = NodeID("alice")
    static let bob = NodeID("bob")
    /// A second peer of alice's whose every message is made from the fuzz input.
    static let mallory = NodeID("mallory")
    static let key = ReconciliationKey(k0: 0x0123_4567_89AB_CDEF, k1: 0xFEDC_BA98_7654_3210)

    let alice: MemoryReplica
    let bob: MemoryReplica
    /// Every entry either side holds, for lines and bounds the input can pick.
    let entries: [OpEntry]
    /// Where those entries sort for reconciliation.
    let bounds: [ReconciliationBound]

    init() {
        let shared = Fixtures.chain(actor: "studio", firstLamport: 1, count: 260)
        let aliceOwn = Fixtures.chain(actor: "studio", firstLamport: 261, count: 30, after: shared.last)
        let bobOwn = Fixtures.chain(actor: "laptop", firstLamport: 200, count: 12, after: shared[198])
        var alice = MemoryReplica(name: Self.alice)
        var bob = MemoryReplica(name: Self.bob)
        _ = alice.write(shared + aliceOwn, session: Fixtures.session)
        _ = bob.write(shared + bobOwn, session: Fixtures.session)
        _ = alice.handle(
            .localCheckpoint(session: Fixtures.session, Fixtures.checkpoint(snapshot: "s-10", lamport: 10))
        )
        _ = bob.handle(.localCheckpoint(session: Fixtures.session, Fixtures.checkpoint(snapshot: "s-12", lamport: 12)))
        self.alice = alice
        self.bob = bob
        self.entries = shared + aliceOwn + bobOwn
        self.bounds = self.entries.map { ReconciliationBound($0) }.sorted()
    }
}

let prepared = PreparedWorld()
