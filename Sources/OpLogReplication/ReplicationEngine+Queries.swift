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
