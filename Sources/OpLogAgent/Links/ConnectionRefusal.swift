import OpLogWire

/// Why a connection was closed before its link was registered: the `reason` label of
/// `oplog_sync_connections_refused_total` and the keys of
/// ``NodeStatus/Counters/connectionsRefusedByReason``. A closed set, so the label stays bounded.
enum ConnectionRefusal: String, Sendable, CaseIterable {
    /// It closed, or sent something else, before its hello.
    case noHello = "no_hello"
    /// Its hello speaks another protocol version.
    case protocolVersion = "protocol_version"
    /// Its hello names no valid node id.
    case invalidNodeID = "invalid_node_id"
    /// Its hello names this node's own id.
    case ownNodeID = "own_node_id"
    /// The peer already has a link, which stays (two nodes that dial each other keep one).
    case duplicateLink = "duplicate_link"
    /// A hello refused for a reason this list does not name yet.
    case invalidHello = "invalid_hello"

    /// The refusal of a hello that ``Hello/validate(peer:)`` rejected with `error`.
    init(_ error: WireError) {
        // `WireError.Code` is an extensible struct: a code added later counts as invalid_hello.
        if error.code == .protocolVersionMismatch {
            self = .protocolVersion
        } else if error.code == .invalidNodeID {
            self = .invalidNodeID
        } else if error.code == .ownNodeID {
            self = .ownNodeID
        } else {
            self = .invalidHello
        }
    }
}
