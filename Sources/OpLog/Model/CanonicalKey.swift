/// The library's canonical order of entries: (`lamport_ts`, `actor_id`, `op_id`).
///
/// Every replica orders the same entries the same way, whatever order its file holds them in.
/// Actor ids and op ids compare by their UTF-8 bytes (that is, by code point), never by locale or
/// Unicode equivalence.
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
        if ExactText(lhs.actorID) != ExactText(rhs.actorID) { return ExactText.precedes(lhs.actorID, rhs.actorID) }
        return lhs.opID < rhs.opID
    }

    public static func == (lhs: CanonicalKey, rhs: CanonicalKey) -> Bool {
        lhs.lamportTimestamp == rhs.lamportTimestamp && ExactText(lhs.actorID) == ExactText(rhs.actorID)
            && lhs.opID == rhs.opID
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.lamportTimestamp)
        ExactText(self.actorID).hash(into: &hasher)
        hasher.combine(self.opID)
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
