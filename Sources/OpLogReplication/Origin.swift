/// Where an entry came from: this replica's own writers (``local``), or a peer.
///
/// Four bytes, so a million known entries do not keep a million node ids alive: a peer is a
/// small number the engine gives each node id the first time it meets it
/// (``ReplicationEngine/origin(of:)``), and ``ReplicationEngine/node(of:)`` is the one place
/// that turns it back into a ``NodeID``.
struct Origin: Sendable, Hashable {
    /// 0 for this replica; otherwise the peer's index in ``ReplicationEngine/peerNames`` + 1.
    private var number: UInt32

    private init(number: UInt32) {
        self.number = number
    }

    /// This replica's own writers.
    static let local = Origin(number: 0)

    /// The peer at `index` of ``ReplicationEngine/peerNames``.
    init(peerIndex index: Int) {
        guard let number = UInt32(exactly: index + 1) else {
            preconditionFailure("more than 2^32 - 1 peers")
        }
        self.number = number
    }

    /// 0 for ``local``, otherwise ``peerIndex`` + 1: a dense index for tables over origins.
    var slot: Int { Int(self.number) }

    /// Whether the entry came from this replica's own writers.
    var isLocal: Bool { self.number == 0 }

    /// The peer's index in ``ReplicationEngine/peerNames``, or nil for ``local``.
    var peerIndex: Int? { self.isLocal ? nil : Int(self.number - 1) }
}

extension ReplicationEngine {
    /// The origin that stands for `peer`, given a number the first time the engine meets it.
    mutating func origin(of peer: NodeID) -> Origin {
        if let origin = self.peerOrigins[peer] { return origin }
        let origin = Origin(peerIndex: self.peerNames.count)
        self.peerOrigins[peer] = origin
        self.peerNames.append(peer)
        return origin
    }

    /// The origin that stands for `node`: ``Origin/local`` for nil.
    mutating func origin(of node: NodeID?) -> Origin {
        node.map { self.origin(of: $0) } ?? .local
    }

    /// The peer `origin` stands for; nil for this replica's own writers.
    func node(of origin: Origin) -> NodeID? {
        guard let index = origin.peerIndex else { return nil }
        guard index < self.peerNames.count else {
            preconditionFailure("origin \(index + 1) was never given to a peer")
        }
        return self.peerNames[index]
    }
}
