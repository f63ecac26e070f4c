import OpLog

/// One connected peer: the key its reconciliations hash with, and each session's sending state.
struct PeerLink: Sendable {
    let key: ReconciliationKey
    /// What the peer may do on this link.
    let rules: PeerRules
    var sessions: [SessionID: LinkState] = [:]

    init(key: ReconciliationKey, rules: PeerRules) {
        self.key = key
        self.rules = rules
    }

    subscript(session: SessionID) -> LinkState? {
        get { self.sessions[session] }
        set { self.sessions[session] = newValue }
    }
}
