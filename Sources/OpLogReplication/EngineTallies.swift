import OpLog

/// The appends the engine has handed out (``ReplicationAction/append(_:)``) and not yet seen
/// completed or failed, each under the token its request carries.
struct PendingAppends: Sendable {
    /// The appends in flight, by token.
    var byToken: [UInt64: PendingAppend] = [:]
    private var nextToken: UInt64 = 1

    /// A token no earlier append of this engine carried.
    mutating func issueToken() -> UInt64 {
        defer { self.nextToken += 1 }
        return self.nextToken
    }
}

/// How much the held pools of all sessions hold (entries held for missing parents, and
/// deferred ones), kept in step with them so that the byte bound is checked without a walk.
struct HeldTally: Sendable {
    /// Entries held or deferred.
    private(set) var count = 0
    /// Their line bytes.
    private(set) var bytes = 0

    /// `entry` is held or deferred now.
    mutating func add(_ entry: OpEntry) {
        self.count += 1
        self.bytes += entry.line.count
    }

    /// `entry`, held or deferred until now, is not any more.
    mutating func remove(_ entry: OpEntry) {
        self.count -= 1
        self.bytes -= entry.line.count
    }
}

/// Where entries already in the files came from, as the engine knew it before it started
/// again (restored from the origin journal) or before a file was reset: consulted when an
/// entry is read from a file, so that a re-read entry keeps its origin and is not echoed back
/// to the peer it came from.
struct PriorOrigins: Sendable {
    /// Origins of the entries of each session's file, by sequence, from before a restart.
    var bySequence: [SessionID: [Origin]] = [:]
    /// Peers that entries of each session came from, by op id, from before a restart
    /// (read-only replicas only; see ``ReplicationAction/recordArrivals(session:arrivals:)``).
    var arrivals: [SessionID: [OpID: Origin]] = [:]
    /// Where the entries of each session's file came from (peers only), by reconciliation key,
    /// as the numbering forgotten at the file's last reset knew it (see
    /// ``ReplicationEvent/localFileReset(session:entries:)``).
    var atReset: [SessionID: [ReconciliationBound: Origin]] = [:]
}
