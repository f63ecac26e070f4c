/// The library's canonical order of entries: (`lamport_ts`, `actor_id`, `op_id`).
///
/// Every replica orders the same entries the same way, whatever order its file holds them in.
/// Actor ids and op ids compare by their UTF-8 bytes (that is, by code point), never by locale.
public struct CanonicalKey: Hashable, Sendable, Comparable {
    public var lamportTimestamp: Int
    public var actorID: String
    public var opID: OpID

    public init(lamportTimestamp: Int, actorID: String, opID: OpID) {
        self.lamportTimestamp = lamportTimestamp
        self.actorID = actorID
        self.opID = opID
    }

    public static func < (lhs: CanonicalKey, rhs: CanonicalKey) -> Bool {
        if lhs.lamportTimestamp != rhs.lamportTimestamp { return lhs.lamportTimestamp < rhs.lamportTimestamp }
        if lhs.actorID != rhs.actorID { return lhs.actorID.utf8.lexicographicallyPrecedes(rhs.actorID.utf8) }
        return lhs.opID < rhs.opID
    }
}

extension Sequence where Element == OpEntry {
    /// The entries in canonical order (`lamport_ts`, `actor_id`, `op_id`).
    ///
    /// - Complexity: O(n log n).
    public func canonicallySorted() -> [OpEntry] {
        self.sorted { $0.canonicalKey < $1.canonicalKey }
    }
}
