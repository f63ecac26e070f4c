import OpLog
import OpLogReplication

/// What the status shows of peers beyond the engine's progress: the configured addresses and
/// the node each answered as, the address each peer was last linked at, and the traffic of its
/// links that are gone.
///
/// Holds what it knows of a peer while the peer is listed in the status (linked, with recorded
/// progress, or answering at a configured address) and is told to ``forget(_:)`` it otherwise,
/// so a node that links once and goes costs nothing after.
struct PeerBook: Sendable {
    /// The `--peer` addresses, in the order given.
    private(set) var configured: [PeerAddress] = []
    /// The node each configured address answered as (the last one, if it changed).
    private var nodeAtAddress: [PeerAddress: NodeID] = [:]
    /// The address of each peer's last link.
    private var lastAddress: [NodeID: String] = [:]
    /// What the peer's links that are gone carried.
    private var closedTraffic: [NodeID: LinkTraffic.Counts] = [:]

    init(configured: [PeerAddress] = []) {
        self.configured = configured
    }

    /// `link` became its peer's link.
    mutating func linked(_ link: LinkHandle) {
        self.lastAddress[link.peer] = link.address
        if let dialled = link.dialled { self.nodeAtAddress[dialled] = link.peer }
    }

    /// `link` is no longer its peer's link (closed or replaced): its traffic is kept with the
    /// peer's.
    mutating func unlinked(_ link: LinkHandle) {
        self.closedTraffic[link.peer] = (self.closedTraffic[link.peer] ?? LinkTraffic.Counts()) + link.traffic.counts
    }

    /// Every peer a configured address answered as.
    var answeredPeers: Set<NodeID> {
        Set(self.nodeAtAddress.values)
    }

    /// Drops what is kept of `peer`'s links (it is no longer listed).
    mutating func forget(_ peer: NodeID) {
        self.lastAddress[peer] = nil
        self.closedTraffic[peer] = nil
    }

    /// Configured addresses whose node has not answered since the node started, in order.
    var unansweredAddresses: [PeerAddress] {
        self.configured.filter { self.nodeAtAddress[$0] == nil }
    }

    /// The address to show for `peer`: the first configured address it answered at, else its
    /// last link's.
    func address(of peer: NodeID) -> String? {
        self.configured.first { self.nodeAtAddress[$0] == peer }.map(\.description) ?? self.lastAddress[peer]
    }

    /// Everything the peer's links carried, `current` (its live link's, if any) included.
    func traffic(of peer: NodeID, current: LinkTraffic?) -> LinkTraffic.Counts {
        let closed = self.closedTraffic[peer] ?? LinkTraffic.Counts()
        return current.map { closed + $0.counts } ?? closed
    }
}
