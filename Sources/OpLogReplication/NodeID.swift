import OpLog

/// The identity of a replica in the replication mesh: stable across restarts, unique per node.
///
/// Compared by UTF-8 bytes. The agent keeps it in its state folder; the handshake carries it.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
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
