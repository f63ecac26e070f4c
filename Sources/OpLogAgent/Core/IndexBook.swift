import OpLog

/// The entry index of every session, and how far each is written in this run.
struct IndexBook: Sendable {
    let entryIndex: EntryIndex
    /// Sequence numbers already in each session's entry index.
    var indexedCount: [SessionID: UInt64] = [:]
    /// Sessions whose index is not written in this run (see ``AgentCore/stopIndexing(_:)``).
    var unindexedSessions: Set<SessionID> = []
    /// Entries the engine got from the entry index at start: what the `indexed` line reports.
    var restoredFromIndex = 0

    init(entryIndex: EntryIndex) {
        self.entryIndex = entryIndex
    }
}

/// What the core keeps in the state folder besides progress: the journals that must survive a
/// restart, the entry index (a cache), and where its appends started.
struct StateRecords: Sendable {
    var journals: StateJournals
    var index: IndexBook
    /// Where each session's last append started (see ``AppendIntents``).
    let intents: AppendIntents
}
