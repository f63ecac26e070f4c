import Logging
import OpLog
import OpLogReplication
import OpLogWatch
import OpLogWire

// The local files: reading what writers appended, shipping lines, appending what peers sent.
extension AgentCore {
    // MARK: Local files

    /// Reads what changed on disk: new lines and checkpoints of the named sessions, or of every
    /// session after a rescan, in pieces of at most `pieceBytes` of lines.
    ///
    /// Between pieces of a large append it lets the actor handle what waits (acknowledgements,
    /// peers' batches), so shipping the first lines of the append overlaps reading the rest
    /// instead of waiting for all of it. Another scan of the same session in between (a remote
    /// append read back) only moves the same tail on.
    func localChanges(_ changes: SessionChanges, pieceBytes: Int64 = livePieceBytes) async {
        for session in self.changedSessions(changes) {
            if changes.isRescanNeeded || changes.sessions[session]?.contains(.ops) == true {
                while self.scanPiece(session, maximumBytes: pieceBytes) { await Task.yield() }
            }
            if changes.isRescanNeeded || changes.sessions[session]?.contains(.checkpoint) == true {
                self.scanCheckpoint(session)
            }
        }
        self.retryStalledWrites()
    }

    /// The sessions a change names, in order; every session on disk after a rescan.
    private func changedSessions(_ changes: SessionChanges) -> [SessionID] {
        guard changes.isRescanNeeded else { return changes.sessions.keys.sorted() }
        do {
            let listing = try self.configuration.layout.sessionListing()
            for folder in listing.skipped where self.files.reportedSkippedFolders.insert(folder.name).inserted {
                self.logger.warning(
                    "folder not replicated",
                    metadata: [
                        "folder.path": "\(folder.path)", "reason": "\(folder.description)", "hint": "\(folder.remedy)",
                    ]
                )
            }
            return listing.sessions
        } catch {
            self.logger.error("cannot list sessions", metadata: ["error": "\(error.message)"])
            return []
        }
    }

    /// Reads one piece of the session's new lines (at most `maximumBytes`, but always whole
    /// lines) and feeds it to the engine; true when more is already there to read.
    ///
    /// While lines this agent appended to the session wait for their sync, nothing is read: the
    /// engine numbers the session's lines in file order, and those are numbered when the sync
    /// is done (``finishSync(_:error:)`` then reads what came after them, see
    /// ``SessionWriters/mayRead(_:)``).
    func scanPiece(_ session: SessionID, maximumBytes: Int64 = scanPieceBytes) -> Bool {
        guard self.writers.mayRead(session) else { return false }
        var tail =
            self.files.tails[session]
            ?? SessionTail(log: SessionLog(layout: self.configuration.layout, sessionID: session))
        var batch: SessionTail.Batch
        var entries: [LocalEntry] = []
        do {
            batch = try tail.readNew(maximumBytes: maximumBytes)
            self.noteRead(batch, session: session, into: &entries)
            // The engine renumbers a reset file in one event: read all of it now.
            while batch.wasReset && batch.hasMore {
                batch = try tail.readNew(maximumBytes: maximumBytes)
                self.noteRead(batch, session: session, into: &entries)
                batch.wasReset = true
            }
        } catch {
            self.logger.error(
                "cannot read ops.jsonl",
                metadata: ["session": "\(session)", "error": "\(error.message)"]
            )
            self.files.tails[session] = tail
            return false
        }
        self.files.tails[session] = tail
        if batch.wasReset {
            self.logger.warning(
                "ops.jsonl was replaced or truncated; renumbering it and reconciling it with peers",
                metadata: ["session": "\(session)", "entries": "\(entries.count)"]
            )
            self.apply(.localFileReset(session: session, entries: entries))
        } else if !entries.isEmpty {
            self.apply(.localEntries(session: session, entries: entries))
        }
        return batch.hasMore
    }

    /// Counts and logs what one read found, and adds its entries to `entries`.
    private func noteRead(_ batch: SessionTail.Batch, session: SessionID, into entries: inout [LocalEntry]) {
        self.files.linesRead += batch.entries.count + batch.summary.rejectedLineCount
        if batch.summary.rejectedLineCount > 0 {
            self.files.rejectedLines += batch.summary.rejectedLineCount
            self.status.rejectedByReason[NodeStatus.Counters.localLineRejection, default: 0] +=
                batch.summary.rejectedLineCount
            for rejected in batch.summary.rejectedLines.prefix(10) {
                self.logger.warning(
                    "local line not shipped: \(rejected.reason.message)",
                    metadata: ["session": "\(session)", "line": "\(rejected.position.lineNumber)"]
                )
            }
        }
        // Appended in place: a mapped array added with `+=` would copy every entry once more.
        entries.reserveCapacity(entries.count + batch.entries.count)
        for (entry, offset) in zip(batch.entries, batch.offsets) {
            entries.append(LocalEntry(entry: entry, offset: offset))
        }
    }

    /// The most bytes of lines one read of a log takes (the last line may go past it).
    static let scanPieceBytes: Int64 = 4 << 20
    /// The same for a running agent: about 3,500 Muse lines, a few milliseconds of parsing
    /// between two looks at what else waits.
    static let livePieceBytes: Int64 = 256 << 10
}
