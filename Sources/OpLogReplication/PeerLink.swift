import OpLog

/// One connected peer: the key its reconciliations hash with, and each session's sending state.
struct PeerLink: Sendable {
    let key: ReconciliationKey
    var sessions: [SessionID: LinkState] = [:]

    init(key: ReconciliationKey) {
        self.key = key
    }

    subscript(session: SessionID) -> LinkState? {
        get { self.sessions[session] }
        set { self.sessions[session] = newValue }
    }
}
