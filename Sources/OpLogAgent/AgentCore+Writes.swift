import Logging
import OpLog
import OpLogReplication

// Appending what peers sent: one write per batch, then (unless `--no-fsync`) its `fdatasync`,
// before the engine hears of it.
extension AgentCore {
    /// Appends queued batches of a session in order, each in one `write(2)`, durable before the
    /// engine hears of it. A writer mid-line stalls the queue until its line is finished (or
    /// abandoned, after the stale-tail age).
    ///
    /// A failed `fdatasync` leaves the lines in the file but maybe not on the disk, and Linux
    /// may not report the loss again: they are logged as an error and kept (writing them again
    /// would put them in the file twice). Their acknowledgement may then cover lines a power
    /// loss takes; the sender still holds them, and the set reconciliation of the next link-up
    /// sends back whatever this node lacks.
    func flushWrites(_ session: SessionID) {
        guard self.flushing.insert(session).inserted else { return }
        defer { self.flushing.remove(session) }
        let log = SessionLog(layout: self.configuration.layout, sessionID: session)
        while let request = self.writeQueues[session]?.first {
            let appender: SessionAppender
            let end: Int64
            do {
                appender = try SessionAppender(opening: log)
                end = try appender.append(lines: request.lines, staleTailAge: self.configuration.staleTailAge)
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
                continue
            }
            self.writeQueues[session]?.removeFirst()
            self.stalled.remove(session)
            if self.configuration.synchronizeWrites {
                do {
                    try appender.synchronize()
                } catch {
                    self.logger.error(
                        "cannot sync remote entries; they are in ops.jsonl but may not survive a power loss",
                        metadata: ["session": "\(session)", "error": "\(error.message)"]
                    )
                }
            }
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
        }
        self.writeQueues[session] = nil
    }

    func retryStalledWrites() {
        for session in self.stalled.sorted() { self.flushWrites(session) }
    }
}
