/// Which node IDs a TLS link admits: the pin the verification callback of ``LinkTLS`` checks.
///
/// A dialler pins exactly the ID of its `--peer` (``only(_:)``); a listener admits the IDs it
/// accepts, which may change while it runs (``members(of:)``, or any closure). Whatever the
/// policy says, a peer presenting this node's own ID is refused (``PeerRefusal/Reason/ownID``).
///
/// The closure is called on an event loop, once per handshake: it must be quick and must not
/// block (a lookup in a locked set is fine, a file read is not).
public struct PeerPolicy: Sendable {
    /// Whether a peer presenting this ID may link.
    private let isAccepted: @Sendable (NodeFingerprint) -> Bool

    /// A policy admitting the IDs for which `isAccepted` returns `true`.
    public init(accepting isAccepted: @escaping @Sendable (NodeFingerprint) -> Bool) {
        self.isAccepted = isAccepted
    }

    /// Admits `peer` and no other: a dialler's pin.
    public static func only(_ peer: NodeFingerprint) -> PeerPolicy {
        PeerPolicy { $0 == peer }
    }

    /// Admits the members of `peers` at the time of each handshake: a listener's.
    public static func members(of peers: AcceptedPeers) -> PeerPolicy {
        PeerPolicy { peers.contains($0) }
    }

    /// Why a peer presenting `presented` is refused by a node whose own ID is `ownID`, or `nil`
    /// when it is admitted.
    public func refusal(of presented: NodeFingerprint, ownID: NodeFingerprint) -> PeerRefusal.Reason? {
        if presented == ownID { return .ownID }
        return self.isAccepted(presented) ? nil : .notAccepted
    }
}
