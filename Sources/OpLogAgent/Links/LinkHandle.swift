import OpLogReplication
import OpLogWire

/// One live link to a peer, as the core sees it: where to queue what it sends, and how to close
/// it.
final class LinkHandle: Sendable {
    let peer: NodeID
    /// The node that dialed this connection; both ends agree on it, so both keep the same link
    /// when two connections join the same pair.
    let dialer: NodeID
    /// The socket's remote address.
    let address: String
    /// What the peer may see and send (its `peers:` entry's rules, or everything) and whether
    /// its hello said it takes our entries: given to the engine with the link.
    let rules: PeerRules
    /// What the link's reconciliations are keyed with: made from both sides' hello nonces.
    let reconciliationKey: ReconciliationKey
    /// What keys the fingerprints of whole sessions, the same at each connection to this peer:
    /// made from the two nodes' identities; `nil` where none was agreed (tests' links).
    let pairKey: ReconciliationKey?
    /// The configured address this node dialled for the link; `nil` for an accepted one.
    let dialled: PeerAddress?
    /// What waits to be written to the peer (bounded in bytes).
    let outbox: LinkOutbox
    /// What crossed the link's socket.
    let traffic: LinkTraffic
    private let closeChannel: @Sendable () -> Void

    init(
        peer: NodeID,
        reconciliationKey: ReconciliationKey,
        pairKey: ReconciliationKey? = nil,
        dialer: NodeID,
        address: String,
        rules: PeerRules = .everything,
        dialled: PeerAddress? = nil,
        outbox: LinkOutbox,
        traffic: LinkTraffic = LinkTraffic(),
        close: @escaping @Sendable () -> Void
    ) {
        self.rules = rules
        self.peer = peer
        self.reconciliationKey = reconciliationKey
        self.pairKey = pairKey
        self.dialer = dialer
        self.address = address
        self.dialled = dialled
        self.outbox = outbox
        self.traffic = traffic
        self.closeChannel = close
    }

    /// Queues a message for the link's writer; dropped once the link is closed.
    func enqueue(_ message: WireMessage) {
        self.outbox.enqueue(message)
    }

    /// Ends the link's writer and closes its channel.
    func close() {
        self.outbox.finish()
        self.closeChannel()
    }
}
