/// The one decision of where entries and checkpoints go: to which of the linked peers an entry
/// (or checkpoint) that came from a given origin is forwarded.
///
/// ``flood``, the default, sends everything to every linked peer but the one it came from. The
/// seam exists so that a tree (Plumtree's eager and lazy peers, DESIGN §9) can choose fewer.
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

    /// A policy that forwards what came from `origin` (`nil`: this replica's own writers) to the
    /// peers `targets` returns among `linked` (the connected peers, in order, the origin among
    /// them if it is connected). Peers it returns that are not linked are ignored.
    public init(targets: @escaping @Sendable (_ origin: NodeID?, _ linked: [NodeID]) -> [NodeID]) {
        self.choose = targets
    }

    /// Every linked peer but the one it came from.
    public static let flood = ForwardingPolicy { origin, linked in
        linked.filter { $0 != origin }
    }

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
