import Logging
import OpLog
import OpLogReplication
import OpLogWatch
import OpLogWire

// The local files: reading what writers appended, shipping lines, appending what peers sent.
extension AgentCore {
    // MARK: Local files

    /// Reads what changed on disk: new lines and checkpoints of the named sessions, or of every
    /// session after a rescan.
    func localChanges(_ changes: SessionChanges) {
        if changes.isRescanNeeded {
            let sessions: [SessionID]
            do {
                sessions = try self.configuration.layout.sessions()
            } catch {
                self.logger.error("cannot list sessions", metadata: ["error": "\(error.message)"])
                return
            }
            for session in sessions {
                self.scanEntries(session)
                self.scanCheckpoint(session)
            }
        } else {
            for (session, kinds) in changes.sessions.sorted(by: { $0.key < $1.key }) {
                if kinds.contains(.ops) { self.scanEntries(session) }
                if kinds.contains(.checkpoint) { self.scanCheckpoint(session) }
            }
        }
        self.retryStalledWrites()
    }

    /// Feeds the session's new lines to the engine, in pieces of at most ``scanPieceBytes`` of
    /// lines, so that indexing a large log at startup holds one piece in memory, not the log.
    func scanEntries(_ session: SessionID) {
        var tail =
            self.tails[session] ?? SessionTail(log: SessionLog(layout: self.configuration.layout, sessionID: session))
        var hasMore = true
        while hasMore {
            let batch: SessionTail.Batch
            do {
                batch = try tail.readNew(maximumBytes: Self.scanPieceBytes)
            } catch {
                self.logger.error(
                    "cannot read ops.jsonl",
                    metadata: ["session": "\(session)", "error": "\(error.message)"]
                )
                self.tails[session] = tail
                return
            }
            self.tails[session] = tail
            hasMore = batch.hasMore
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
            guard !batch.entries.isEmpty else { continue }
            let entries = zip(batch.entries, batch.offsets).map { LocalEntry(entry: $0, offset: $1) }
            self.apply(.localEntries(session: session, entries: entries))
        }
    }

    /// The most bytes of lines one read of a log takes (the last line may go past it).
    static let scanPieceBytes: Int64 = 4 << 20

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

    /// Appends queued batches of a session in order, each in one write, durable before the
    /// engine hears of it. A writer mid-line stalls the queue until its line is finished (or
    /// abandoned, after the stale-tail age).
    func flushWrites(_ session: SessionID) {
        guard self.flushing.insert(session).inserted else { return }
        defer { self.flushing.remove(session) }
        let log = SessionLog(layout: self.configuration.layout, sessionID: session)
        while let request = self.writeQueues[session]?.first {
            do {
                let end = try log.append(
                    lines: request.lines,
                    staleTailAge: self.configuration.staleTailAge,
                    synchronize: self.configuration.synchronizeWrites
                )
                self.writeQueues[session]?.removeFirst()
                self.stalled.remove(session)
                if var tail = self.tails[session], tail.noteAppended(lines: request.lines, endOffset: end) {
                    // Nothing else came before them: the engine numbers them as they are.
                    self.tails[session] = tail
                    let total = request.lines.reduce(Int64(0)) { $0 + Int64($1.count) + 1 }
                    self.apply(.appendCompletedInPlace(token: request.token, firstOffset: end - total))
                } else {
                    self.apply(.appendCompleted(token: request.token))
                    // Read the lines back now: that numbers them in file order and forwards them.
                    self.scanEntries(session)
                }
            } catch {
                if error.code == .tailInProgress {
                    if self.stalled.insert(session).inserted {
                        self.logger.debug(
                            "waiting for a writer to finish its line",
                            metadata: ["session": "\(session)"]
                        )
                    }
                    return
                }
                self.logger.error(
                    "cannot append remote entries; retrying",
                    metadata: ["session": "\(session)", "count": "\(request.lines.count)", "error": "\(error.message)"]
                )
                self.writeQueues[session]?.removeFirst()
                self.apply(.appendFailed(token: request.token))
            }
        }
        self.writeQueues[session] = nil
    }

    func retryStalledWrites() {
        for session in self.stalled.sorted() { self.flushWrites(session) }
    }
}
