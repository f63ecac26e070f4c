/// A certificate the pinning check of ``LinkTLS`` refused: what the peer presented and why.
///
/// Handed to the refusal sink of ``LinkTLS/makeServerHandler(accepting:onRefusal:)`` and
/// ``LinkTLS/makeClientHandler(expecting:onRefusal:)``, so the node can log the ID, count it and
/// list it as `pending` (DESIGN §7). The peer's address is the caller's to add: it makes one
/// sink per connection.
public struct PeerRefusal: Sendable, Hashable, CustomStringConvertible {
    /// Why a certificate was refused.
    public enum Reason: Sendable, Hashable {
        /// Its ID is not one the policy admits: an unknown node dialling in, or a dialled
        /// address answering with another node's certificate.
        case notAccepted
        /// Its ID is this node's own: a node dialling itself, or a copy of its identity.
        case ownID
    }

    /// The node ID of the refused certificate (the SHA-256 of its DER bytes).
    public var presentedID: NodeFingerprint
    /// Why it was refused.
    public var reason: Reason

    /// A refusal of `presentedID` for `reason`.
    public init(presentedID: NodeFingerprint, reason: Reason) {
        self.presentedID = presentedID
        self.reason = reason
    }

    /// One line naming the ID.
    public var description: String {
        switch self.reason {
        case .notAccepted: "node \(self.presentedID) is not accepted here"
        case .ownID: "node \(self.presentedID) presented this node's own ID"
        }
    }
}
