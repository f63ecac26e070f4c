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
            return try self.configuration.layout.sessions()
        } catch {
            self.logger.error("cannot list sessions", metadata: ["error": "\(error.message)"])
            return []
        }
    }

    /// Feeds the session's new lines to the engine, in pieces of at most ``scanPieceBytes`` of
    /// lines, so that indexing a large log holds one piece in memory, not the log.
    func scanEntries(_ session: SessionID) {
        while self.scanPiece(session) {}
    }

    /// Reads one piece of the session's new lines (at most `maximumBytes`, but always whole
    /// lines) and feeds it to the engine; true when more is already there to read.
    ///
    /// While lines this agent appended to the session wait for their sync, nothing is read: the
    /// engine numbers the session's lines in file order, and those are numbered when the sync
    /// is done (``finishSync(_:error:)`` then reads what came after them).
    func scanPiece(_ session: SessionID, maximumBytes: Int64 = scanPieceBytes) -> Bool {
        guard !self.syncing.contains(session) else {
            self.scansAfterSync.insert(session)
            return false
        }
        var tail =
            self.tails[session] ?? SessionTail(log: SessionLog(layout: self.configuration.layout, sessionID: session))
        let batch: SessionTail.Batch
        do {
            batch = try tail.readNew(maximumBytes: maximumBytes)
        } catch {
            self.logger.error(
                "cannot read ops.jsonl",
                metadata: ["session": "\(session)", "error": "\(error.message)"]
            )
            self.tails[session] = tail
            return false
        }
        self.tails[session] = tail
        self.linesRead += batch.entries.count + batch.summary.rejectedLineCount
        if batch.wasReset {
            self.stopIndexing(session)
            self.logger.warning(
                "ops.jsonl was replaced or truncated; re-indexing (known entries are not shipped again)",
                metadata: ["session": "\(session)"]
            )
        }
        if batch.summary.rejectedLineCount > 0 {
            self.localRejections += batch.summary.rejectedLineCount
            for rejected in batch.summary.rejectedLines.prefix(10) {
                self.logger.warning(
                    "local line not shipped: \(rejected.reason.message)",
                    metadata: ["session": "\(session)", "line": "\(rejected.position.lineNumber)"]
                )
            }
        }
        if !batch.entries.isEmpty {
            let entries = zip(batch.entries, batch.offsets).map { LocalEntry(entry: $0, offset: $1) }
            self.apply(.localEntries(session: session, entries: entries))
        }
        return batch.hasMore
    }

    /// The most bytes of lines one read of a log takes (the last line may go past it).
    static let scanPieceBytes: Int64 = 4 << 20
    /// The same for a running agent: about 3,500 Muse lines, a few milliseconds of parsing
    /// between two looks at what else waits.
    static let livePieceBytes: Int64 = 256 << 10

    func scanCheckpoint(_ session: SessionID) {
        let log = SessionLog(layout: self.configuration.layout, sessionID: session)
        do {
            guard let checkpoint = try log.readCheckpoint() else { return }
            self.apply(.localCheckpoint(session: session, checkpoint))
        } catch {
            self.logger.warning(
                "checkpoint.json not read",
                metadata: ["session": "\(session)", "error": "\(error.message)"]
            )
        }
    }

    /// Reads the shipment's lines from the local file: one read for a compact run of lines,
    /// one per line otherwise. A line no longer where it was (the file was replaced) is left out.
    func readLines(_ shipment: Shipment) -> [[UInt8]] {
        guard let first = shipment.locations.first else { return [] }
        let log = SessionLog(layout: self.configuration.layout, sessionID: shipment.session)
        let start = shipment.locations.map(\.offset).min() ?? first.offset
        let end = shipment.locations.map { $0.offset + Int64($0.length) + 1 }.max() ?? start
        let total = shipment.locations.reduce(0) { $0 + Int64($1.length) + 1 }
        do {
            if end - start <= 2 * total + 65_536 {
                let bytes = try log.readBytes(in: start..<end)
                return shipment.locations.compactMap { location in
                    let lower = Int(location.offset - start)
                    let upper = lower + Int(location.length)
                    guard upper < bytes.count, bytes[upper] == UInt8(ascii: "\n") else { return nil }
                    return Array(bytes[lower..<upper])
                }
            }
            return try shipment.locations.compactMap { location throws(OpLogError) in
                let bytes = try log.readBytes(in: location.offset..<(location.offset + Int64(location.length) + 1))
                guard bytes.count == Int(location.length) + 1, bytes.last == UInt8(ascii: "\n") else { return nil }
                return Array(bytes.dropLast())
            }
        } catch {
            self.logger.error(
                "cannot read lines to ship",
                metadata: ["session": "\(shipment.session)", "error": "\(error)"]
            )
            return []
        }
    }
}
