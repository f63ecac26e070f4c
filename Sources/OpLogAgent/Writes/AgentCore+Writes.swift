import CoreMetrics
import Logging
import NIOPosix
import OpLog
import OpLogReplication

// Appending what peers sent: one write per batch, and (unless `--no-fsync`) its `fdatasync` on
// NIO's thread pool, so the actor decodes and checks the next batches while the disk works.
// The order of it all is ``SessionWriters``'; this file does the I/O it asks for.
extension AgentCore {
    /// Writes the session's queued batches in order, each in one `write(2)`, for as long as
    /// ``SessionWriters`` lets it: a batch waiting for its sync, or for a writer to finish its
    /// line (or abandon it, after the stale-tail age), holds back the ones behind it.
    ///
    /// Called only while events are handled (``requestWrites(_:)``): the completions it raises
    /// are queued and handled after it.
    func flushWrites(_ session: SessionID) {
        let log = SessionLog(layout: self.configuration.layout, sessionID: session)
        // A batch that ended (or gave up its slot) lets a session that waited for a sync slot go.
        defer { self.writeSessionsGivenASlot() }
        while let request = self.writers.nextWrite(for: session) {
            let outcome = self.write(request, to: log)
            switch self.writers.finishWrite(session, outcome) {
            case .stalled(let isFirst):
                if isFirst {
                    self.logger.debug("waiting for a writer to finish its line", metadata: ["session": "\(session)"])
                }
                return
            case .failed(let token):
                if case .failed(let error) = outcome {
                    self.logger.error(
                        "cannot append remote entries; retrying",
                        metadata: [
                            "session": "\(session)", "count": "\(request.lines.count)", "error": "\(error.message)",
                        ]
                    )
                }
                self.apply(.appendFailed(token: token))
            case .completion(let completion):
                guard case .written(let written) = outcome else {
                    preconditionFailure("a completion without a written batch")
                }
                switch completion {
                case .complete:
                    self.complete(written)
                case .syncInPlace:
                    let failure = Self.synchronize(written, timer: self.background.fsyncSeconds)
                    self.reportSyncFailure(failure, session: session)
                    self.complete(written)
                case .sync:
                    self.background.syncRequests.yield(written)
                }
            }
        }
    }

    /// The page size the kernel copies a write in (4 KiB on the machines we run on; a larger
    /// page only makes fewer writes cross one).
    static let pageSize: Int64 = 4096

    /// One write of a batch, with what became of it.
    private func write(_ request: AppendRequest, to log: SessionLog) -> WriteOutcome {
        do {
            let appender = try SessionAppender(opening: log)
            let total = request.lines.reduce(Int64(0)) { $0 + Int64($1.count) + 1 }
            // Where this append starts, for a start after a crash mid-write (AppendIntents); one
            // byte more for the `\n` that closes a stale unfinished line first. Only a write
            // that crosses a page can stop short on SIGKILL (the kernel checks for it between
            // pages), so a small live append within a page costs no record.
            do {
                let offset = try appender.size()
                if offset % Self.pageSize + total + 1 > Self.pageSize {
                    try self.records.intents.record(
                        AppendIntents.Intent(offset: offset, length: total + 1),
                        session: request.session
                    )
                }
            } catch {
                self.logger.debug("cannot record the append in progress", metadata: ["error": "\(error)"])
            }
            let end = try appender.append(lines: request.lines, staleTailAge: self.configuration.staleTailAge)
            var isInPlace = false
            if var tail = self.files.tails[request.session], tail.noteAppended(lines: request.lines, endOffset: end) {
                self.files.tails[request.session] = tail
                isInPlace = true
            }
            return .written(
                WrittenAppend(
                    session: request.session,
                    token: request.token,
                    appender: appender,
                    firstOffset: end - total,
                    isInPlace: isInPlace
                )
            )
        } catch {
            return error.code == .tailInProgress ? .tailInProgress : .failed(error)
        }
    }

    /// Tells the engine that `written` is in the file (and durable, when syncs are on).
    private func complete(_ written: WrittenAppend) {
        if written.isInPlace {
            self.apply(.appendCompletedInPlace(token: written.token, firstOffset: written.firstOffset))
        } else {
            self.apply(.appendCompleted(token: written.token))
            // Read the lines back: that numbers them in file order and forwards them.
            self.requestRead(written.session)
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
        let isReadDeferred = self.writers.syncFinished(written)
        self.reportSyncFailure(error, session: session)
        // The completion's actions first, then the lines other writers appended meanwhile, and
        // only then the session's next batch.
        self.holdingEvents {
            self.complete(written)
            if isReadDeferred { self.requestRead(session) }
        }
        self.requestWrites(session)
        self.writeSessionsGivenASlot()
        self.resumeDrainWaitersIfIdle()
    }

    /// Asks for the writes of the sessions whose turn for a sync slot came.
    private func writeSessionsGivenASlot() {
        for session in self.writers.takeSessionsGivenASlot() { self.requestWrites(session) }
    }

    func resumeDrainWaitersIfIdle() {
        guard !self.writers.isSyncInFlight, self.progress.savesInFlight == 0 else { return }
        for waiter in self.writers.drainWaiters { waiter.resume() }
        self.writers.drainWaiters = []
    }

    private func reportSyncFailure(_ error: OpLogError?, session: SessionID) {
        guard let error else { return }
        self.logger.error(
            "cannot sync remote entries; they are in ops.jsonl but may not survive a power loss",
            metadata: ["session": "\(session)", "error": "\(error.message)"]
        )
    }

    /// Syncs `written` on the calling thread, recording how long the `fdatasync` took in
    /// `timer` (`oplog_sync_fsync_seconds`, failed syncs included); the error, if it failed.
    private static func synchronize(_ written: WrittenAppend, timer: Timer) -> OpLogError? {
        let start = ContinuousClock.now
        defer {
            let elapsed = (ContinuousClock.now - start).components
            timer.recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
        }
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
        let timer = self.background.fsyncSeconds
        for await written in self.background.syncs {
            let failure: OpLogError?
            do {
                failure = try await NIOThreadPool.singleton.runIfActive { Self.synchronize(written, timer: timer) }
            } catch {
                // Only when the agent is stopping (the pool's work item was cancelled): sync
                // here, once, rather than leave acknowledged lines unsynced.
                failure = Self.synchronize(written, timer: timer)
            }
            await self.finishSync(written, error: failure)
        }
    }

    /// Returns once no batch waits for its sync (what was acknowledged is durable) and no
    /// progress record is being written, and has every later batch synced in place: the agent
    /// stops ``runSyncs()`` next, and a batch a link hands over meanwhile is still durable
    /// before it is acknowledged.
    func finishWrites() async {
        self.writers.beginShutdown()
        while self.writers.isSyncInFlight || self.progress.savesInFlight > 0 {
            await withCheckedContinuation { self.writers.drainWaiters.append($0) }
        }
        self.writers.finishShutdown()
        self.writeSessionsGivenASlot()
    }

    /// Writes again the batches that waited for a writer's line.
    func retryStalledWrites() {
        for session in self.writers.stalledSessions where self.writers.retryStalled(session) {
            self.requestWrites(session)
        }
    }
}
