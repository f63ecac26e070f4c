import OpLog

/// What the core knows of each session's `checkpoint.json` beside Muse's writer: the bytes it
/// last read or wrote there (so a peer's checkpoint never replaces one a writer put there
/// since), a write that failed or had to wait, and what it already reported.
struct CheckpointFiles: Sendable {
    struct Session: Sendable {
        /// The file's bytes when the core last read or wrote it; `nil`: no file then.
        var lastSeen: [UInt8]?
        /// A checkpoint the engine asked for that is not written yet (the write failed, or a
        /// writer was rewriting the file): tried again on the next tick.
        var pendingWrite: Checkpoint?
        /// The file was being rewritten when last read: read it again on the next tick.
        var isReadDue = false
        /// The bytes of the last file reported as a problem, so one file state is reported once.
        var reported: [UInt8]?
    }

    var sessions: [SessionID: Session] = [:]

    /// Sessions with a write or a read to retry, in order.
    var sessionsToRetry: [SessionID] {
        self.sessions.compactMap { session, state in
            state.pendingWrite != nil || state.isReadDue ? session : nil
        }.sorted()
    }

    /// Whether `bytes` is new to report for the session (and notes it).
    mutating func shouldReport(_ bytes: [UInt8], session: SessionID) -> Bool {
        guard self.sessions[session]?.reported != bytes else { return false }
        self.sessions[session, default: Session()].reported = bytes
        return true
    }
}
