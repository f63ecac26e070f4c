public import OpLogReplication

/// The handshake message: the sender's protocol version, node id and role, and its half of the
/// link's reconciliation key.
///
/// Each side sends its hello first and checks the peer's with ``validate(peer:)`` before
/// anything else; on a mismatch it closes the connection with the returned error.
public struct Hello: Sendable, Hashable {
    /// The protocol version this build speaks. Frames of other versions are not understood.
    public static let currentProtocolVersion: UInt16 = 5
    /// The longest node id accepted, in bytes: ``NodeID/maximumLength``, since a hello's id must
    /// be one `NodeID(validating:)` accepts.
    public static let maximumNodeIDLength = NodeID.maximumLength

    /// The protocol version the sender speaks.
    public var protocolVersion: UInt16
    /// The sender's node id: unique among the replicas, 1 to ``maximumNodeIDLength`` bytes of
    /// printable ASCII other than space (what `NodeID(validating:)` accepts).
    public var nodeID: String
    /// Whether the sender only receives: it never sends entries that it wrote itself.
    public var isReadOnly: Bool
    /// Whether the sender takes the receiver's entries and checkpoints: `false` when the
    /// sender's rules for the receiver say `receive: false`, so the receiver ships it nothing
    /// (``PeerRules/peerReceives``).
    public var takesEntries: Bool
    /// ``ReconciliationKey/nonceLength`` random bytes, new for every connection: with the
    /// peer's, they make the link's ``ReconciliationKey`` (``reconciliationKey(with:)``).
    public var nonce: [UInt8]

    /// Creates a hello; `protocolVersion` defaults to ``currentProtocolVersion`` and `nonce` to
    /// fresh random bytes from the system's generator.
    public init(
        protocolVersion: UInt16 = Hello.currentProtocolVersion,
        nodeID: String,
        isReadOnly: Bool,
        takesEntries: Bool = true,
        nonce: [UInt8] = Hello.makeNonce()
    ) {
        self.protocolVersion = protocolVersion
        self.nodeID = nodeID
        self.isReadOnly = isReadOnly
        self.takesEntries = takesEntries
        self.nonce = nonce
    }

    /// ``ReconciliationKey/nonceLength`` bytes from the system's random generator.
    public static func makeNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<ReconciliationKey.nonceLength).map { _ in generator.next() }
    }

    /// The key of the link on which this hello (ours) and `peer` were exchanged: the same on
    /// both sides.
    public func reconciliationKey(with peer: Hello) -> ReconciliationKey {
        ReconciliationKey(nonce: self.nonce, peerNonce: peer.nonce)
    }

    /// Checks the peer's hello against this one, our own.
    ///
    /// The version is checked first, as the other fields may mean something else in another
    /// version; then the peer's node id, then that it is not ours. Node ids compare by their
    /// UTF-8 bytes, as OpLogReplication's `NodeID` does, so two ids that are canonically
    /// equivalent but spelled differently are different nodes. Pure: no I/O.
    /// A node id that is not UTF-8 cannot be a `String`, so ``WireMessage/init(decoding:)``
    /// rejects it, with the same code, before a hello exists.
    /// - Parameter peer: The hello the peer sent.
    /// - Throws: `WireError` with code `.protocolVersionMismatch`, `.invalidNodeID` (exactly when
    ///   `NodeID(validating:)` refuses the id: empty, longer than ``maximumNodeIDLength`` bytes,
    ///   or a byte outside `!`…`~`; the message is `NodeID`'s, prefixed with "peer ") or
    ///   `.ownNodeID`.
    public func validate(peer: Hello) throws(WireError) {
        guard peer.protocolVersion == self.protocolVersion else {
            throw WireError(
                code: .protocolVersionMismatch,
                message:
                    "peer speaks protocol version \(peer.protocolVersion), this node speaks \(self.protocolVersion)"
            )
        }
        do {
            _ = try NodeID(validating: peer.nodeID)
        } catch {
            throw WireError(code: .invalidNodeID, message: "peer \(error.message)")
        }
        guard !peer.nodeID.utf8.elementsEqual(self.nodeID.utf8) else {
            throw WireError(code: .ownNodeID, message: "peer has this node's own id \"\(self.nodeID)\"")
        }
    }
}
