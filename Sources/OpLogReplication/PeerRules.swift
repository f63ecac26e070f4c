public import OpLog

/// What one peer may do on its link (DESIGN §7): which sessions are shared with it, and which
/// way entries and checkpoints go.
///
/// Honoured by shipping, reconciliation, forwarding and checkpoints alike. A session the rules
/// do not share is never offered to the peer, and whatever the peer sends about it is answered
/// the same whether this replica holds the session or not (entries and checkpoints are
/// acknowledged unread, an exchange is given up at once), so the peer never learns whether it
/// exists here, and does not send it again and again.
public struct PeerRules: Sendable, Hashable {
    /// The sessions shared with the peer: those matching any of these patterns; `nil` for
    /// every session.
    public var sessions: [SessionPattern]?
    /// Whether entries and checkpoints from the peer are written (and forwarded). `false`: a
    /// peer that may read but not write, such as a backup.
    public var receives: Bool
    /// Whether the peer takes this replica's entries and checkpoints: `false` when its
    /// handshake said it takes nothing from us, so nothing is shipped to it.
    public var peerReceives: Bool

    /// Every session, both ways: a peer without rules.
    public static let everything = PeerRules()

    public init(sessions: [SessionPattern]? = nil, receives: Bool = true, peerReceives: Bool = true) {
        self.sessions = sessions
        self.receives = receives
        self.peerReceives = peerReceives
    }

    /// Whether `session` is shared with the peer at all.
    public func shares(_ session: SessionID) -> Bool {
        self.sessions.map { patterns in patterns.contains { $0.matches(session) } } ?? true
    }

    /// Whether entries and checkpoints of `session` go to the peer.
    public func sends(_ session: SessionID) -> Bool { self.peerReceives && self.shares(session) }

    /// Whether entries and checkpoints of `session` from the peer are taken.
    public func takes(_ session: SessionID) -> Bool { self.receives && self.shares(session) }
}
