import Logging
import OpLog
import OpLogReplication

/// The state that must survive a restart besides progress: where each entry came from (the
/// origin journal), what a read-only replica received (arrivals), and the greatest checkpoint
/// peers sent of each session.
struct StateJournals: Sendable {
    let origins: OriginJournal
    private(set) var arrivals: ArrivalJournal
    let remoteCheckpointRecord: RemoteCheckpointRecord
    /// Sequence numbers already in each session's origin journal.
    private(set) var journaledCount: [SessionID: UInt64] = [:]
    private(set) var remoteCheckpoints: [SessionID: Checkpoint] = [:]

    init(folder: StateFolder) {
        self.origins = OriginJournal(folder: folder)
        self.arrivals = ArrivalJournal(folder: folder)
        self.remoteCheckpointRecord = RemoteCheckpointRecord(folder: folder)
    }

    /// What the journals recorded before the last stop, for the engine to restore.
    /// - Throws: ``AgentError`` when a journal or the record is damaged or unreadable.
    mutating func load() throws(AgentError) -> (
        origins: [SessionID: [NodeID?]], arrivals: [SessionID: [Arrival]], checkpoints: [SessionID: Checkpoint]
    ) {
        let origins = try self.origins.load()
        for (session, list) in origins { self.journaledCount[session] = UInt64(list.count) }
        self.remoteCheckpoints = try self.remoteCheckpointRecord.load()
        return (origins, try self.arrivals.load(), self.remoteCheckpoints)
    }

    /// Every arrival that reached a file now has its place in the origin journal: make that
    /// durable, then forget the arrivals.
    /// - Throws: ``AgentError`` when the origin journal cannot be synced (the arrivals stay).
    mutating func settleArrivals() throws(AgentError) {
        try self.origins.synchronize()
        self.arrivals.removeAll()
    }

    mutating func recordRemoteCheckpoint(_ checkpoint: Checkpoint, session: SessionID, logger: Logger) {
        self.remoteCheckpoints[session] = checkpoint
        do {
            try self.remoteCheckpointRecord.save(self.remoteCheckpoints)
        } catch {
            logger.error("\(error.message)")
        }
    }

    mutating func recordArrivals(_ arrivals: [Arrival], session: SessionID, synchronize: Bool, logger: Logger) {
        do {
            try self.arrivals.record(arrivals, session: session, synchronize: synchronize)
        } catch {
            logger.error("\(error.message)")
        }
    }

    /// Forgets the session's origin journal (its file was reset, and the numbering starts
    /// again from 1); the arrivals stay, as they are by op id.
    mutating func resetSession(_ session: SessionID, logger: Logger) {
        self.journaledCount[session] = nil
        do {
            try self.origins.folder.remove(.origins(session))
        } catch {
            logger.error("\(error.message)")
        }
    }

    /// Replaces the session's origin journal with `origins` (sequence 1 on): for a journal
    /// longer than the file it describes (the file was restored shorter while the node was
    /// down), whose tail would otherwise be taken for the origins of lines appended later.
    mutating func rewriteOrigins(_ origins: [NodeID?], session: SessionID, logger: Logger) {
        self.resetSession(session, logger: logger)
        guard !origins.isEmpty else { return }
        self.recordOrigins(origins, firstSequence: 1, session: session, logger: logger)
    }

    /// Appends the origins of sequence numbers `firstSequence`… to the session's journal,
    /// skipping those it holds; a run that does not join what it holds is left out.
    mutating func recordOrigins(_ origins: [NodeID?], firstSequence: UInt64, session: SessionID, logger: Logger) {
        let recorded = self.journaledCount[session] ?? 0
        let last = firstSequence + UInt64(origins.count) - 1
        guard last > recorded, firstSequence <= recorded + 1 else { return }
        let skip = Int(recorded + 1 - firstSequence)
        do {
            try self.origins.append(origins[skip...], session: session)
            self.journaledCount[session] = last
        } catch {
            logger.error("\(error.message)")
        }
    }

    /// The engine numbered `entries` (sequence numbers `firstSequence`…): once the origin
    /// journal holds them, their arrivals are covered and the arrival journal may forget them,
    /// which keeps it to the arrivals in flight (see ``ArrivalJournal/forget(_:session:origins:synchronize:)``).
    mutating func entriesNumbered(
        _ entries: [IndexedEntry],
        firstSequence: UInt64,
        session: SessionID,
        synchronize: Bool,
        logger: Logger
    ) {
        guard !entries.isEmpty,
            (self.journaledCount[session] ?? 0) >= firstSequence + UInt64(entries.count) - 1
        else { return }
        do {
            try self.arrivals.forget(
                entries.lazy.map(\.opID),
                session: session,
                origins: self.origins,
                synchronize: synchronize
            )
        } catch {
            logger.error("\(error.message)")
        }
    }
}
