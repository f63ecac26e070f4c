/// The one decision of where entries and checkpoints go: to which of the linked peers an entry
/// (or checkpoint) that came from a given origin is forwarded.
///
/// ``tree``, the default, builds one broadcast tree per session over the links (Plumtree): full
/// entries go to eager peers, notices to lazy ones. ``flood`` sends every entry in full to every
/// linked peer but the one it came from; it is kept to measure the tree against. A policy made
/// with ``init(targets:)`` floods to the peers it chooses.
///
/// What the policy does not decide, whatever it returns:
/// - an entry never goes back to the peer it came from, unless a reconciliation found that peer
///   lacks it (reconciliation is the backstop: a peer that lost entries gets them again);
/// - a read-only replica never ships what its own writers wrote;
/// - a checkpoint the policy leaves out is still offered to a peer that has not acknowledged it
///   when its link comes up or at the next retransmission.
///
/// The function must be pure and deterministic (the engine is), and cheap: the engine asks once
/// per origin each time it ships to a peer, not once per entry.
public struct ForwardingPolicy: Sendable {
    private let choose: @Sendable (_ origin: NodeID?, _ linked: [NodeID]) -> [NodeID]
    /// Whether links turn lazy on duplicates and eager on grafts (see ``tree``).
    public let isTree: Bool

    /// A policy that forwards what came from `origin` (`nil`: this replica's own writers) to the
    /// peers `targets` returns among `linked` (the connected peers, in order, the origin among
    /// them if it is connected). Peers it returns that are not linked are ignored.
    public init(targets: @escaping @Sendable (_ origin: NodeID?, _ linked: [NodeID]) -> [NodeID]) {
        self.choose = targets
        self.isTree = false
    }

    private init(isTree: Bool) {
        self.choose = { origin, linked in linked.filter { $0 != origin } }
        self.isTree = isTree
    }

    /// Every linked peer but the one it came from, in full.
    public static let flood = ForwardingPolicy(isTree: false)

    /// A broadcast tree per session, repaired as links come and go (Plumtree, Leitão et al.
    /// 2007, with per-session trees).
    ///
    /// Every link starts *eager* for every session: new entries go to it in full, as in
    /// ``flood``. A replica that gets a live entry (see ``EntryBatch/isLive``) it already holds
    /// from another peer has a shorter path: it turns the link *lazy* for that session and tells
    /// the sender (``ReplicationMessage/prune(session:)``), which does the same. A lazy link
    /// carries only notices (24 bytes an entry, batched at the next tick, and not sent for
    /// entries the peer announced itself). A replica told of an entry it does not get within
    /// ``ReplicationEngine/Configuration/graftTimeout`` asks the announcer for it
    /// (``ReplicationMessage/graft(session:sequences:)``), which turns that link eager again:
    /// that is how the tree heals when a node or link goes away. On a steady network each
    /// replica gets each entry's line once; reconciliation at link-up stays the backstop.
    ///
    /// Why Plumtree, and per session: it needs no knowledge of the network and no per-origin
    /// state, it heals with the same two messages it is built from, and its notices fit the
    /// engine's per-link, per-session streams and acknowledgements (a notice takes a sequence
    /// number like a line). SSB's epidemic broadcast trees keep a tree per feed (origin): with
    /// any node able to write any session, that would be state per (link, session, origin). A
    /// tree per session follows per-peer rules exactly (a link that does not carry a session
    /// is never part of its tree) and settles around where that session is written.
    public static let tree = ForwardingPolicy(isTree: true)

    /// The peers among `linked` that what came from `origin` goes to: in `linked`'s order,
    /// each once, never `origin` itself.
    ///
    /// - Complexity: the policy's, plus O(`linked.count`) (several targets are looked up in a
    ///   set).
    public func targets(forEntryFrom origin: NodeID?, among linked: [NodeID]) -> [NodeID] {
        let chosen = self.choose(origin, linked)
        if chosen.count <= 1 {
            return chosen.filter { $0 != origin && linked.contains($0) }
        }
        let set = Set(chosen)
        return linked.filter { $0 != origin && set.contains($0) }
    }
}

extension ReplicationEngine {
    /// The connected peers, in order: what the forwarding policy chooses among.
    var linkedPeers: [NodeID] { self.links.keys.sorted() }

    /// For each ``Origin/slot``, whether entries from that origin go to `peer` under the
    /// configured ``Configuration/forwarding`` policy: one question per origin, so shipping
    /// a long backlog asks the policy a handful of times, not once per entry.
    func forwardingTable(to peer: NodeID) -> [Bool] {
        let linked = self.linkedPeers
        var table = [Bool](repeating: false, count: self.peerNames.count + 1)
        for slot in table.indices {
            let origin = slot == 0 ? nil : self.peerNames[slot - 1]
            table[slot] = self.configuration.forwarding.targets(forEntryFrom: origin, among: linked).contains(peer)
        }
        return table
    }
}
