import FuzzSupport
import OpLog
import OpLogReplication

/// The replicas every input starts from, made once: alice (the engine under test) and bob (a
/// genuine peer) share 50 entries of `live-1`, and each holds some of its own (6 and 4).
///
/// Sixty entries take reconciliation through the same steps as the 200 this world held until
/// 2026-12-03: a fingerprint of the whole set, one split into 16 branches, then id lists (a range
/// of at most 32 entries) and bitmaps of what is lacking. The 200 cost about 2.5 times as much
/// per input, mostly in shipping and parsing what one side lacked.
struct PreparedWorld: Sendable {
    static let alice = NodeID("alice")
    static let bob = NodeID("bob")
    /// A second peer of alice's whose every message is made from the fuzz input.
    static let mallory = NodeID("mallory")
    static let key = ReconciliationKey(k0: 0x0123_4567_89AB_CDEF, k1: 0xFEDC_BA98_7654_3210)
    /// The pair key of alice's links: the same at every connection, as two identities make it.
    static let pairKey = ReconciliationKey(k0: 0x0F1E_2D3C_4B5A_6978, k1: 0x8796_A5B4_C3D2_E1F0)

    let alice: MemoryReplica
    let bob: MemoryReplica
    /// Every entry either side holds, for lines and bounds the input can pick.
    let entries: [OpEntry]
    /// Where those entries sort for reconciliation.
    let bounds: [ReconciliationBound]
    /// Each side's file before any input: a run may only add to it.
    let aliceFile: [UInt8]
    let bobFile: [UInt8]
    /// The op ids in each side's file before any input.
    let aliceIDs: Set<OpID>
    let bobIDs: Set<OpID>
    /// What only one side holds before any input: what the other must have after a run.
    let aliceOnly: [OpEntry]
    let bobOnly: [OpEntry]

    init() {
        let shared = Self.chain(actor: "studio", firstLamport: 1, count: 50)
        let aliceOwn = Self.chain(actor: "studio", firstLamport: 51, count: 6, after: shared.last)
        let bobOwn = Self.chain(actor: "laptop", firstLamport: 45, count: 4, after: shared[43])
        var alice = MemoryReplica(name: Self.alice)
        var bob = MemoryReplica(name: Self.bob)
        // The agent's usual completion; every line a run adds is parsed by the checks after it.
        alice.completesInPlace = true
        bob.completesInPlace = true
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
        self.aliceFile = alice.files[Fixtures.session, default: []]
        self.bobFile = bob.files[Fixtures.session, default: []]
        self.aliceIDs = Set((shared + aliceOwn).map(\.opID))
        self.bobIDs = Set((shared + bobOwn).map(\.opID))
        self.aliceOnly = aliceOwn
        self.bobOnly = bobOwn
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
