public import OpLog

// What a host may ask the engine about a session, besides its counts.
extension ReplicationEngine {
    /// The greatest checkpoint of `session` the engine knows (local or from peers): what the
    /// session's `checkpoint.json` should hold, and what a host puts back when that file is
    /// damaged.
    public func checkpoint(of session: SessionID) -> Checkpoint? {
        self.sessions[session]?.checkpoint
    }

    /// Where each durable entry of `session` came from, in sequence order (`nil`: this
    /// replica's own writers): what the origin journal should hold, for a host that rewrites it.
    /// - Complexity: O(entries of the session).
    public func origins(of session: SessionID) -> [NodeID?] {
        (self.sessions[session]?.order ?? []).map { self.node(of: $0.origin) }
    }
}

/// Where one durable entry sorts for reconciliation, and its content hash: 192 bits that the
/// same line gives on every replica and in every run (see ``ReconciliationBound/placing(_:)``),
/// so a host can record which entry stands at a place in the file without keeping or reading
/// its op id, and tell later whether that entry is still there.
public struct EntryPlacement: Sendable, Hashable {
    public var bound: ReconciliationBound
    public var contentHash: UInt64

    public init(bound: ReconciliationBound, contentHash: UInt64) {
        self.bound = bound
        self.contentHash = contentHash
    }

    /// The placement of `entry`.
    public init(_ entry: OpEntry) {
        let placing = ReconciliationBound.placing(entry)
        self.init(bound: placing.bound, contentHash: placing.contentHash)
    }
}

extension ReplicationEngine {
    /// The placement of the entry with sequence number `sequence` (1-based) of `session`, from
    /// memory (no file is read), if there is one.
    public func placement(of session: SessionID, sequence: UInt64) -> EntryPlacement? {
        guard let order = self.sessions[session]?.order, sequence >= 1, sequence <= UInt64(order.count) else {
            return nil
        }
        let known = order[Int(sequence - 1)]
        return EntryPlacement(bound: known.key, contentHash: known.contentHash)
    }
}
