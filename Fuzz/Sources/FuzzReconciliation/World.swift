import FuzzSupport
import OpLog
import OpLogReplication

/// The replicas every input starts from, made once: alice (the engine under test) and bob (a
/// genuine peer) share 180 entries of `live-1`, and each holds some of its own (20 and 10).
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
    /// The lines of each side's file before any input.
    let aliceLines: Set<[UInt8]>
    let bobLines: Set<[UInt8]>
    /// The op id of each of those lines, so the checks after a run parse only the lines it added.
    let opIDs: [[UInt8]: OpID]

    init() {
        let shared = Self.chain(actor: "studio", firstLamport: 1, count: 180)
        let aliceOwn = Self.chain(actor: "studio", firstLamport: 181, count: 20, after: shared.last)
        let bobOwn = Self.chain(actor: "laptop", firstLamport: 150, count: 10, after: shared[148])
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
        self.aliceLines = Set(alice.lines(Fixtures.session))
        self.bobLines = Set(bob.lines(Fixtures.session))
        self.opIDs = Dictionary(self.entries.map { ($0.line, $0.opID) }, uniquingKeysWith: { first, _ in first })
    }

    /// A chain of entries, each the child of the one before; one in ten has a content id, the
    /// others opaque ids (whose lines are not hashed again on every receipt, which would make
    /// most of the cost of an input).
    static func chain(actor: String, firstLamport: Int, count: Int, after parent: OpEntry? = nil) -> [OpEntry] {
        var entries: [OpEntry] = []
        for offset in 0..<count {
            let lamport = firstLamport + offset
            let parents = (entries.last ?? parent).map { [$0.opID] } ?? []
            if offset % 10 == 0 {
                entries.append(Fixtures.entry(actor: actor, lamport: lamport, parents: parents, number: lamport % 128))
            } else {
                let id = "\(actor)-\(lamport)"
                entries.append(
                    Fixtures.opaque(id: id, actor: actor, lamport: lamport, parents: parents.map(\.rawValue))
                )
            }
        }
        return entries
    }
}

let prepared = PreparedWorld()
