import OpLog

/// One connected peer: the keys its reconciliations hash with, and each session's sending state.
struct PeerLink: Sendable {
    let key: ReconciliationKey
    /// The key of whole-session fingerprints, the same at every connection to this peer; nil
    /// when the host gave none (each exchange's key is used instead).
    let pairKey: ReconciliationKey?
    /// What the peer may do on this link.
    let rules: PeerRules
    var sessions: [SessionID: LinkState] = [:]

    init(key: ReconciliationKey, pairKey: ReconciliationKey? = nil, rules: PeerRules) {
        self.key = key
        self.pairKey = pairKey
        self.rules = rules
    }

    subscript(session: SessionID) -> LinkState? {
        get { self.sessions[session] }
        set { self.sessions[session] = newValue }
    }
}
