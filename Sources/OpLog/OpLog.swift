public import SystemPackage

/// One session's op log, with the operations of Muse's `OpLog` class: append, next Lamport
/// timestamp, read all, replay since checkpoint, structured delta, checkpoint, read checkpoint,
/// and (``OpLogLayout/sessions()``) list sessions.
///
/// It reads and writes the same files as Muse, in the same formats, and stays correct while
/// Muse's own writer appends to them. Where it differs from Muse, it is on purpose: replay and
/// deltas use the canonical order, checkpoints carry a frontier so late entries from offline
/// actors are still replayed, checkpoint files are replaced atomically, and new entries get
/// content-addressed ids.
public struct OpLog: Sendable {
    public let log: SessionLog
    private var clock = LamportClock()
    /// The log kept open between appends; reopened when the path no longer names it.
    private var appendHandle: AppendHandle?

    /// The log of `sessionID` under the repository `root` (the folder holding `.muse/`).
    public init(root: FilePath, sessionID: SessionID) {
        self.log = SessionLog(layout: OpLogLayout(root: root), sessionID: sessionID)
    }

    public var sessionID: SessionID { self.log.sessionID }

    /// The next Lamport timestamp: above every timestamp in the file now and every one this
    /// value handed out before. Reads only what was appended since the last call.
    public mutating func nextLamportTimestamp() throws(OpLogError) -> Int {
        if let handle = self.appendHandle, handle.isCurrent {
            let timestamp = try self.clock.candidate(from: handle.file, session: self.sessionID.rawValue)
            self.clock.markIssued(timestamp)
            return timestamp
        }
        return try self.clock.next(for: self.log)
    }

    /// The open log, reopened if the file was replaced or removed since the last append.
    private mutating func currentAppendHandle() throws(OpLogError) -> AppendHandle {
        if let handle = self.appendHandle, handle.isCurrent { return handle }
        let handle = try AppendHandle(opening: self.log)
        // The clock's view predates this descriptor, so check it in full once.
        try self.clock.refresh(from: handle.file, isInodePinned: false)
        self.appendHandle = handle
        return handle
    }

    /// Makes a content-addressed entry with the next Lamport timestamp and appends it.
    ///
    /// - Throws: `OpLogError` as ``SessionLog/append(lines:staleTailAge:synchronize:now:)``.
    @discardableResult
    public mutating func append(
        actorID: String,
        domain: String,
        domainOp: JSONValue,
        parentOpIDs: [OpID] = [],
        intentID: String = "",
        reservationID: String = "",
        staleTailAge: Duration = SessionLog.defaultStaleTailAge,
        now: WallClockTime = .now()
    ) throws(OpLogError) -> OpEntry {
        let handle = try self.currentAppendHandle()
        let entry = try OpEntry.make(
            actorID: actorID,
            lamportTimestamp: try self.clock.candidate(from: handle.file, session: self.sessionID.rawValue),
            parentOpIDs: parentOpIDs,
            domain: domain,
            domainOp: domainOp,
            createdAt: now.iso8601,
            intentID: intentID,
            reservationID: reservationID
        )
        let end = try handle.append(
            lines: [entry.line],
            staleTailAge: staleTailAge,
            synchronize: false,
            now: now,
            knownCompleteEnd: self.clock.scannedOffset
        )
        self.clock.markIssued(entry.lamportTimestamp)
        self.clock.noteAppended(line: entry.line, lamportTimestamp: entry.lamportTimestamp, endOffset: end)
        return entry
    }

    /// Every entry, in file order. Lines that are not entries are skipped (see
    /// ``SessionLog/readAll()`` for the report of what was skipped).
    public func readAll() throws(OpLogError) -> [OpEntry] {
        try self.log.readAll().entries
    }

    /// The entries the current checkpoint does not cover, in file order (all of them when there
    /// is no checkpoint). See ``Checkpoint/covers(actorID:lamportTimestamp:)``.
    ///
    /// Reads the checkpoint with ``SessionLog/readCheckpoint(patience:)``, which may block the
    /// thread for up to half a second while Muse rewrites it: not for async code.
    public func entriesSinceCheckpoint() throws(OpLogError) -> [OpEntry] {
        try self.entriesSinceCheckpoint(of: self.readAll())
    }

    /// Those of `entries` that the current checkpoint does not cover, in the order given.
    public func entriesSinceCheckpoint(of entries: [OpEntry]) throws(OpLogError) -> [OpEntry] {
        guard let checkpoint = try self.log.readCheckpoint() else { return entries }
        return entries.filter { !checkpoint.covers(actorID: $0.actorID, lamportTimestamp: $0.lamportTimestamp) }
    }

    /// The entries since the checkpoint, in canonical order: what a commit must still apply.
    public func replaySinceCheckpoint() throws(OpLogError) -> [OpEntry] {
        try self.entriesSinceCheckpoint().canonicallySorted()
    }

    /// Muse's `to_structured_delta(domain)` over the entries since the checkpoint, in
    /// canonical order.
    public func structuredDelta(domain: String) throws(OpLogError) -> StructuredDelta {
        StructuredDelta(domain: domain, entries: try self.entriesSinceCheckpoint())
    }

    /// Writes a checkpoint recording that every entry now in the file is in `snapshotID`.
    ///
    /// As Muse: `lamport_ts` is the highest timestamp in the file and `op_count` the number of
    /// entries; in addition the frontier records each actor's highest timestamp. The file is
    /// replaced atomically and the previous checkpoint kept in the history.
    public func checkpoint(snapshotID: String, now: WallClockTime = .now()) throws(OpLogError) -> Checkpoint {
        var frontier = Frontier()
        var highest = 0
        let summary = try self.log.scan { record in
            frontier.include(actorID: record.actorID, lamportTimestamp: record.lamportTimestamp)
            highest = max(highest, record.lamportTimestamp)
        }
        let checkpoint = Checkpoint.make(
            sessionID: self.sessionID,
            snapshotID: snapshotID,
            lamportTimestamp: highest,
            opCount: summary.entryCount,
            createdAt: now.iso8601,
            frontier: frontier
        )
        try self.log.writeCheckpoint(checkpoint)
        return checkpoint
    }

    /// The current checkpoint, or `nil`; waits out a rewrite in progress (blocking) as
    /// ``SessionLog/readCheckpoint(patience:)``. Async code uses
    /// ``SessionLog/checkpointState(now:settleAge:)`` on ``log``.
    public func readCheckpoint() throws(OpLogError) -> Checkpoint? {
        try self.log.readCheckpoint()
    }
}
