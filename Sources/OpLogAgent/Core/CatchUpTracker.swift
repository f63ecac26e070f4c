import DequeModule
import OpLog
import OpLogReplication

/// The catch-ups of peers far behind (a new replica, one back from offline): which connected
/// peers are catching up, how fast, and when to log it. No I/O: the core feeds it each peer's
/// position at every tick and logs what it returns.
///
/// A catch-up starts when a connected peer lacks ``backlog`` entries or more, and ends when it
/// lacks none (``Observation/caughtUp(total:)``) or its link goes (``peerDisconnected(_:)``).
/// Its rate is measured over the last few samples, one taken at most every
/// ``sampleInterval``, so memory stays a few samples per peer.
struct CatchUpTracker: Sendable {
    /// One measured point of a catch-up.
    struct Sample: Sendable, Equatable {
        var done: UInt64
        var at: Duration
    }

    /// What the core should do after an observation.
    enum Observation: Sendable, Equatable {
        /// Nothing to log.
        case quiet
        /// Log "peer catching up" (at a catch-up's start, then every ``logInterval``).
        case catchingUp(done: UInt64, total: UInt64, ratePerSecond: Double?)
        /// Log "peer caught up": the catch-up ended with the peer holding every entry.
        case caughtUp(total: UInt64)
    }

    private struct Progress: Sendable {
        var done: UInt64
        var total: UInt64
        var samples: Deque<Sample>
        var lastLogged: Duration
    }

    /// Entries a connected peer must lack for a catch-up to start.
    let backlog: UInt64
    let sampleInterval: Duration
    /// Samples kept per peer; the rate spans from the oldest to the newest.
    let samplesKept: Int
    let logInterval: Duration
    private var peers: [NodeID: Progress] = [:]

    init(
        backlog: UInt64 = 1_000,
        sampleInterval: Duration = .seconds(1),
        samplesKept: Int = 6,
        logInterval: Duration = .seconds(2)
    ) {
        precondition(samplesKept >= 2, "a rate needs two samples")
        self.backlog = backlog
        self.sampleInterval = sampleInterval
        self.samplesKept = samplesKept
        self.logInterval = logInterval
    }

    /// The connected `peer` holds `done` of this node's `total` entries at `now`.
    mutating func observe(_ peer: NodeID, done: UInt64, total: UInt64, now: Duration) -> Observation {
        let done = min(done, total)
        guard var progress = self.peers[peer] else {
            guard total - done >= self.backlog else { return .quiet }
            self.peers[peer] = Progress(
                done: done,
                total: total,
                samples: [Sample(done: done, at: now)],
                lastLogged: now
            )
            return .catchingUp(done: done, total: total, ratePerSecond: nil)
        }
        guard done < total else {
            self.peers[peer] = nil
            return .caughtUp(total: total)
        }
        if done < progress.done {
            // The peer holds less than before (a file was reset): measure afresh.
            progress.samples = []
        }
        progress.done = done
        progress.total = total
        if progress.samples.last.map({ now - $0.at >= self.sampleInterval }) ?? true {
            progress.samples.append(Sample(done: done, at: now))
            if progress.samples.count > self.samplesKept { progress.samples.removeFirst() }
        }
        defer { self.peers[peer] = progress }
        guard now - progress.lastLogged >= self.logInterval else { return .quiet }
        progress.lastLogged = now
        return .catchingUp(done: done, total: total, ratePerSecond: Self.rate(progress.samples))
    }

    /// The peer's link went: its catch-up, if any, is over without it having caught up.
    mutating func peerDisconnected(_ peer: NodeID) {
        self.peers[peer] = nil
    }

    /// The peer's catch-up as the status shows it, if one runs.
    func catchUp(of peer: NodeID) -> NodeStatus.CatchUp? {
        self.peers[peer].map { progress in
            NodeStatus.CatchUp(done: progress.done, total: progress.total, ratePerSecond: Self.rate(progress.samples))
        }
    }

    /// Entries per second from the oldest sample to the newest; `nil` with fewer than two.
    private static func rate(_ samples: Deque<Sample>) -> Double? {
        guard let first = samples.first, let last = samples.last, last.at > first.at, last.done >= first.done else {
            return nil
        }
        return Double(last.done - first.done) / (last.at - first.at).inSeconds
    }
}

/// What the core needs to publish its status: where to, the address it shows, and what it
/// follows between snapshots (catch-ups, when entries became durable, links' traffic, the
/// metrics it updates).
struct StatusKeeping: Sendable {
    let board: StatusBoard
    let listen: PeerAddress
    var catchUp = CatchUpTracker()
    var timeline = DurabilityTimeline()
    var peers = PeerBook()
    var metrics: NodeMetrics
    var health = NodeStatus.Health()
    /// Entries rejected by reason since start. Connections refused, and the refused IDs, are
    /// in the core's ``AdmissionBook``.
    var rejectedByReason: [String: Int] = [:]
    /// Something the snapshot shows may have changed since it was last published: an event
    /// the engine acted on, a read or a write.
    var isStale = true
    /// When the snapshot was last published, and the refusals it counted.
    var lastPublished: Duration?
    var refusalsPublished = 0
    /// The sessions in order, as of ``sortedSessionCount`` sessions (the engine only ever adds
    /// sessions, so the count tells whether the list is current).
    var sortedSessions: [SessionID] = []
    var sortedSessionCount = 0
}
