import Logging
import NIOPosix
import OpLog
import OpLogReplication

/// Lines written to a session's log whose sync is still to be done, and how the engine hears
/// of them once it is.
struct WrittenAppend: Sendable {
    let session: SessionID
    let token: UInt64
    /// Holds the file open until its sync is done.
    let appender: SessionAppender
    /// Where the first line starts.
    let firstOffset: Int64
    /// Nothing else was appended between the last line the agent read and these: the engine
    /// numbers them as they are, without reading them back.
    let isInPlace: Bool
}

// Appending what peers sent: one write per batch, and (unless `--no-fsync`) its `fdatasync` on
// NIO's thread pool, so the actor decodes and checks the next batches while the disk works.
extension AgentCore {
    /// Writes the session's queued batches in order, each in one `write(2)`. Without syncs
    /// each is done at once; with them, the first written waits for its sync
    /// (``runSyncs()``) and the rest wait for it, so a session has at most one sync in flight
    /// and its lines are numbered in file order. A writer mid-line stalls the queue until its
    /// line is finished (or abandoned, after the stale-tail age).
    func flushWrites(_ session: SessionID) {
        guard !self.syncing.contains(session), self.flushing.insert(session).inserted else { return }
        defer { self.flushing.remove(session) }
        let log = SessionLog(layout: self.configuration.layout, sessionID: session)
        while !self.syncing.contains(session), let request = self.writeQueues[session]?.first {
            let written: WrittenAppend
            do {
                let appender = try SessionAppender(opening: log)
                let end = try appender.append(lines: request.lines, staleTailAge: self.configuration.staleTailAge)
                let total = request.lines.reduce(Int64(0)) { $0 + Int64($1.count) + 1 }
                var isInPlace = false
                if var tail = self.tails[session], tail.noteAppended(lines: request.lines, endOffset: end) {
                    self.tails[session] = tail
                    isInPlace = true
                }
                written = WrittenAppend(
                    session: session,
                    token: request.token,
                    appender: appender,
                    firstOffset: end - total,
                    isInPlace: isInPlace
                )
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
            if !self.configuration.synchronizeWrites {
                self.complete(written)
            } else if self.writesInline {
                self.reportSyncFailure(Self.synchronize(written), session: session)
                self.complete(written)
            } else {
                self.syncing.insert(session)
                self.syncRequests.yield(written)
            }
        }
        if self.writeQueues[session]?.isEmpty == true { self.writeQueues[session] = nil }
    }

    /// Tells the engine that `written` is in the file (and durable, when syncs are on).
    private func complete(_ written: WrittenAppend) {
        if written.isInPlace {
            self.apply(.appendCompletedInPlace(token: written.token, firstOffset: written.firstOffset))
        } else {
            self.apply(.appendCompleted(token: written.token))
            // Read the lines back now: that numbers them in file order and forwards them.
            self.scanEntries(written.session)
        }
    }

    /// The sync of `written` is done: the engine numbers its lines and acknowledges them, the
    /// lines other writers appended meanwhile are read, and the session's next batch is written.
    ///
    /// A failed `fdatasync` leaves the lines in the file but maybe not on the disk, and Linux
    /// may not report the loss again: they are logged as an error and kept (writing them again
    /// would put them in the file twice). Their acknowledgement may then cover lines a power
    /// loss takes; the sender still holds them, and the set reconciliation of the next link-up
    /// sends back whatever this node lacks.
    func finishSync(_ written: WrittenAppend, error: OpLogError?) {
        let session = written.session
        self.syncing.remove(session)
        self.reportSyncFailure(error, session: session)
        // Held like a flush, so that a batch the completion makes the engine ask for is written
        // after the completion's own actions, by the flush below.
        self.flushing.insert(session)
        self.complete(written)
        self.flushing.remove(session)
        if self.scansAfterSync.remove(session) != nil { self.scanEntries(session) }
        self.flushWrites(session)
        self.resumeDrainWaitersIfIdle()
    }

    private func resumeDrainWaitersIfIdle() {
        guard self.syncing.isEmpty, self.progressSavesInFlight == 0 else { return }
        for waiter in self.drainWaiters { waiter.resume() }
        self.drainWaiters = []
    }

    private func reportSyncFailure(_ error: OpLogError?, session: SessionID) {
        guard let error else { return }
        self.logger.error(
            "cannot sync remote entries; they are in ops.jsonl but may not survive a power loss",
            metadata: ["session": "\(session)", "error": "\(error.message)"]
        )
    }

    /// Syncs `written` on the calling thread; the error, if it failed.
    private static func synchronize(_ written: WrittenAppend) -> OpLogError? {
        do {
            try written.appender.synchronize()
            return nil
        } catch {
            return error
        }
    }

    /// Runs the syncs of written batches on NIO's thread pool, one at a time, and reports each
    /// to ``finishSync(_:error:)``. Runs for the agent's lifetime; ``finishWrites()`` waits for
    /// what is in flight before the agent stops it.
    nonisolated func runSyncs() async {
        for await written in self.syncStream {
            let failure: OpLogError?
            do {
                failure = try await NIOThreadPool.singleton.runIfActive { Self.synchronize(written) }
            } catch {
                // Only when the agent is stopping (the pool's work item was cancelled): sync
                // here, once, rather than leave acknowledged lines unsynced.
                failure = Self.synchronize(written)
            }
            await self.finishSync(written, error: failure)
        }
    }

    /// Writes the progress records ``saveProgress(ifOlderThan:)`` hands over, one at a time, on
    /// NIO's thread pool. Runs for the agent's lifetime.
    nonisolated func runProgressSaves() async {
        for await marks in self.progressStream {
            let store = self.progressStore
            var isWritten = false
            var failure: String?
            do {
                try await NIOThreadPool.singleton.runIfActive { try store.save(marks) }
                isWritten = true
            } catch let error as AgentError {
                failure = error.message
            } catch is CancellationError {
                // The agent is stopping: its last record is written in place after this.
            } catch {
                failure = "cannot record progress: \(error)"
            }
            await self.finishProgressSave(isWritten: isWritten, failure: failure)
        }
    }

    private func finishProgressSave(isWritten: Bool, failure: String?) {
        self.progressSavesInFlight -= 1
        // Not written: written again at the next chance (or by the last save, when stopping).
        if !isWritten { self.isProgressDirty = true }
        if let failure { self.logger.error("\(failure)") }
        self.resumeDrainWaitersIfIdle()
    }

    /// Returns once no batch waits for its sync (what was acknowledged is durable) and no
    /// progress record is being written, and has every later batch synced on the actor: the
    /// agent stops ``runSyncs()`` next, and a batch a link hands over meanwhile is still
    /// durable before it is acknowledged.
    func finishWrites() async {
        while !self.syncing.isEmpty || self.progressSavesInFlight > 0 {
            await withCheckedContinuation { self.drainWaiters.append($0) }
        }
        self.writesInline = true
    }

    func retryStalledWrites() {
        for session in self.stalled.sorted() { self.flushWrites(session) }
    }
}
