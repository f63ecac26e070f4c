import OpLog

/// The identity of a replica in the replication mesh: stable across restarts, unique per node.
///
/// Compared by UTF-8 bytes. The agent keeps it in its state folder; the handshake carries it.
/// Make one from outside text (a file, a command line, a peer) with ``init(validating:)``.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The longest node id ``init(validating:)`` accepts, in bytes. Within what the handshake
    /// (`OpLogWire.Hello`) accepts, 128 UTF-8 bytes, and room for Syncthing-style ids (63).
    public static let maximumLength = 64

    public let rawValue: String

    /// Wraps `rawValue` as it is, without checking it: for text already validated (by
    /// ``init(validating:)``, or the handshake) and for tests. Outside text goes through
    /// ``init(validating:)``.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// A node id from outside text, checked: 1 to ``maximumLength`` bytes, each printable ASCII
    /// other than space (`!` through `~`). Syncthing-style ids (eight groups of seven base32
    /// characters joined by `-`) and the agent's UUID ids are valid.
    ///
    /// - Throws: `ReplicationError` with code `.invalidNodeID`, its message naming what is
    ///   wrong (empty, too long, or the first byte that is not allowed and where).
    public init(validating text: String) throws(ReplicationError) {
        let bytes = text.utf8
        guard !bytes.isEmpty else {
            throw ReplicationError(.invalidNodeID, "node id is empty")
        }
        guard bytes.count <= Self.maximumLength else {
            throw ReplicationError(
                .invalidNodeID,
                "node id is \(bytes.count) bytes long, longer than \(Self.maximumLength)"
            )
        }
        for (offset, byte) in bytes.enumerated() where !(0x21...0x7E).contains(byte) {
            throw ReplicationError(
                .invalidNodeID,
                "node id has byte 0x\(String(byte, radix: 16, uppercase: true)) at offset \(offset); "
                    + "only printable ASCII without spaces is allowed"
            )
        }
        self.rawValue = text
    }

    public static func == (lhs: NodeID, rhs: NodeID) -> Bool {
        ExactText(lhs.rawValue) == ExactText(rhs.rawValue)
    }

    public func hash(into hasher: inout Hasher) {
        ExactText(self.rawValue).hash(into: &hasher)
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }

    public var description: String { self.rawValue }
}
