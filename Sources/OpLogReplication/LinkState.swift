/// One link's sending state for one session.
///
/// The counters (what the peer acknowledged, what was sent, checkpoint and retransmission
/// bookkeeping) hold in every phase; the ``Phase`` says how entries are shipped, and carries the
/// reconciliation under way, if any. It changes only through the methods below.
struct LinkState: Sendable {
    /// The most entries one link remembers as announced by its peer.
    static let maximumPeerNotices = 1024

    /// The peer holds durably the first `acknowledged` entries of this replica's sequence (or,
    /// while ``Phase/reconciling(_:)``, the progress recorded before the link came up).
    var acknowledged: UInt64
    /// Entries through this sequence number have been sent (`sent >= acknowledged`).
    var sent: UInt64
    /// When the contiguous acknowledgement last moved (or the first unacknowledged range was
    /// sent): the retransmission timer runs from there.
    var lastProgress: Duration
    /// Acknowledged ranges that arrived ahead of ``acknowledged``: after → through.
    var earlyAcknowledgements: [UInt64: UInt64] = [:]
    var checkpointAcknowledged: CheckpointIdentity?
    var checkpointSentAt: Duration?
    /// The peer asked for a retransmission that is not yet done (see
    /// ``ReplicationEngine/Configuration/retransmitRequestInterval``).
    var isRetransmitRequested = false
    var lastRetransmit: Duration?
    /// Requests honoured since the peer last acknowledged more: the next waits
    /// ``ReplicationEngine/Configuration/retransmitRequestInterval`` × 2^(count − 1) after the
    /// last retransmission (at most the retransmit timeout); the first is honoured at once.
    var retransmitRequestsHonoured = 0
    /// The serial (``Reconciliation/serial(_:)``) of the last reset start the peer made on this
    /// link. Its exchanges are numbered upwards, so a reset start at or below it is a duplicate
    /// or a late copy, not a new reset.
    var peerReset: UInt64?
    /// Whether new entries go to the peer in full (true) or as notices (see
    /// ``ForwardingPolicy/tree``; always true under other policies).
    var isEager = true
    /// Entries numbered after this (the count when the link began streaming) may travel live.
    var liveFrom: UInt64
    /// The most ever sent on this link: what is sent below it again is not live.
    var highestSent: UInt64
    /// Entries the peer announced to this replica (by ``NoticeKey``) that the link has not
    /// passed yet: it holds them, so they are not announced back (at most
    /// ``maximumPeerNotices``; emptied when the link is caught up; past it, a notice may be
    /// sent both ways).
    var peerNoticed: Set<NoticeKey> = []
    /// How entries are shipped on this link now.
    private(set) var phase: Phase

    /// How a link ships a session's entries.
    enum Phase: Sendable {
        /// Nothing is shipped until the reconciliation ends: ``acknowledged`` is only the
        /// recorded progress, and a disconnect leaves that record as it was. The exchange is the
        /// one this side started, or the peer's when the peer won the tie of two starts.
        case reconciling(Reconciliation)
        /// Entries are shipped in sequence order from ``acknowledged``, leaving out those the
        /// forwarding policy does not send this peer. `answering` is an exchange the peer
        /// started that this side answers; it holds nothing up.
        case streaming(answering: Reconciliation?)
        /// As ``streaming(answering:)``, except that for the entries `1...holds.through` a
        /// completed reconciliation decides: only those the peer lacks are shipped, even ones
        /// that came from it (it lost them). Becomes ``streaming(answering:)`` once
        /// ``acknowledged`` reaches `holds.through`.
        case resuming(PeerHolds, answering: Reconciliation?)
    }

    /// A link that streams from `acknowledged`.
    init(acknowledged: UInt64, count: UInt64, now: Duration) {
        self.acknowledged = acknowledged
        self.sent = acknowledged
        self.liveFrom = count
        self.highestSent = acknowledged
        self.lastProgress = now
        self.phase = .streaming(answering: nil)
    }

    /// A link that ships nothing until `reconciliation` (started here) ends; `recorded` is the
    /// progress recorded before.
    init(reconciling reconciliation: Reconciliation, recorded: UInt64, count: UInt64, now: Duration) {
        self.init(acknowledged: recorded, count: count, now: now)
        self.phase = .reconciling(reconciliation)
    }

    /// Whether shipping waits for a reconciliation's outcome.
    var isShippingBlocked: Bool {
        switch self.phase {
        case .reconciling: true
        case .streaming, .resuming: false
        }
    }

    /// The reconciliation under way on this link, whichever side started it.
    var reconciliation: Reconciliation? {
        switch self.phase {
        case .reconciling(let reconciliation): reconciliation
        case .streaming(let answering), .resuming(_, let answering): answering
        }
    }

    /// Whether the peer holds the entry with sequence number `sequence`, as a completed
    /// reconciliation found (nil: no finding covers it; the forwarding policy decides).
    func peerHolds(_ sequence: UInt64) -> Bool? {
        switch self.phase {
        case .resuming(let holds, _): holds.holds(sequence)
        case .reconciling, .streaming: nil
        }
    }

    /// Makes `reconciliation` the exchange under way (a step of it was taken, or the peer
    /// started a new one): shipping stays blocked if it was, and goes on if it did.
    mutating func update(_ reconciliation: Reconciliation) {
        switch self.phase {
        case .reconciling:
            self.phase = .reconciling(reconciliation)
        case .streaming:
            self.phase = .streaming(answering: reconciliation)
        case .resuming(let holds, _):
            self.phase = .resuming(holds, answering: reconciliation)
        }
    }

    /// The peer started `reconciliation`, taking the place of any under way: shipping waits for
    /// its outcome, as at a link's start. A peer that starts an exchange on a live link may hold
    /// less than it acknowledged (its file was cut or replaced while it ran), so the outcome,
    /// not the acknowledgements, decides what it gets.
    mutating func restart(answering reconciliation: Reconciliation) {
        self.phase = .reconciling(reconciliation)
    }

    /// The exchange under way ended without an outcome to apply (given up, refused, stalled,
    /// or one this side only answered): a blocked link ships from the recorded progress.
    mutating func endReconciliation() {
        switch self.phase {
        case .reconciling, .streaming:
            self.phase = .streaming(answering: nil)
        case .resuming(let holds, _):
            self.phase = .resuming(holds, answering: nil)
        }
    }

    /// The blocking reconciliation completed: ship from ``acknowledged`` (which the caller set
    /// to just before the first entry the peer lacks), skipping what `holds` says the peer has.
    mutating func resume(skipping holds: PeerHolds?) {
        switch self.phase {
        case .reconciling:
            self.phase = holds.map { .resuming($0, answering: nil) } ?? .streaming(answering: nil)
        case .streaming, .resuming:
            preconditionFailure("a reconciliation's outcome applied to a link that was not waiting for one")
        }
    }

    /// Drops the reconciliation's finding once the peer acknowledged everything it covers.
    mutating func forgetFindingIfAcknowledged() {
        switch self.phase {
        case .resuming(let holds, let answering) where self.acknowledged >= holds.through:
            self.phase = .streaming(answering: answering)
        case .reconciling, .streaming, .resuming:
            break
        }
    }
}
