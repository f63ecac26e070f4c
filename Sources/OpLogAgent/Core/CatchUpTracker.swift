import OpLogReplication

/// Per peer far behind, where its catch-up stood at the last look, and when to look again.
struct CatchUpTracker: Sendable {
    /// A catch-up's last measured point.
    struct Point: Sendable {
        var done: UInt64
        var at: Duration
        /// Entries per second between the two last points.
        var ratePerSecond: Double?
    }

    var points: [NodeID: Point] = [:]
    var lastCheck: Duration = .zero
    /// A peer connected: look at its backlog at the next tick rather than within the interval.
    var isCheckDue = false
}

/// What the core needs to publish its status: where to, the address it shows, and the
/// catch-ups it follows.
struct StatusKeeping: Sendable {
    let board: StatusBoard
    let listen: PeerAddress
    var catchUp = CatchUpTracker()
}
