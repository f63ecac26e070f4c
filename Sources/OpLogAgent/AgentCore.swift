import Logging
import OpLog
import OpLogReplication
import OpLogWatch
import OpLogWire

/// One live link to a peer, as the core sees it: where to queue messages, and how to close it.
final class LinkHandle: Sendable {
    let peer: NodeID
    /// The node that dialed this connection; both ends agree on it, so both keep the same link
    /// when two connections join the same pair.
    let dialer: NodeID
    let address: String
    let outgoing: AsyncStream<WireMessage>.Continuation
    let closeChannel: @Sendable () -> Void

    init(
        peer: NodeID,
        dialer: NodeID,
        address: String,
        outgoing: AsyncStream<WireMessage>.Continuation,
        close: @escaping @Sendable () -> Void
    ) {
        self.peer = peer
        self.dialer = dialer
        self.address = address
        self.outgoing = outgoing
        self.closeChannel = close
    }

    func enqueue(_ message: WireMessage) {
        self.outgoing.yield(message)
    }

    func close() {
        self.outgoing.finish()
        self.closeChannel()
    }
}

/// Owns the merge engine and the files: every event goes through here, one at a time, and every
/// action the engine returns is carried out before the next event.
///
/// File writes happen inline, so no write is ever half done; the `fdatasync` of peers' lines
/// runs on a thread pool (``runSyncs()``) while the actor goes on, and a shutdown waits for it
/// (``finishWrites()``), so what was acknowledged is durable.
actor AgentCore {
    let configuration: AgentConfiguration
    let nodeID: NodeID
    var logger: Logger
    var engine: ReplicationEngine
    var tails: [SessionID: SessionTail] = [:]
    var links: [NodeID: LinkHandle] = [:]
    var writeQueues: [SessionID: [AppendRequest]] = [:]
    /// Sessions being flushed (``flushWrites(_:)`` or ``finishSync(_:error:)`` on the stack).
    var flushing: Set<SessionID> = []
    /// Sessions with written lines waiting for their sync, and those whose local lines are read
    /// once it is done.
    var syncing: Set<SessionID> = []
    var scansAfterSync: Set<SessionID> = []
    /// Where written batches go to be synced, and where ``runSyncs()`` takes them from.
    let syncRequests: AsyncStream<WrittenAppend>.Continuation
    let syncStream: AsyncStream<WrittenAppend>
    /// Callers of ``finishWrites()`` waiting for the last sync.
    var drainWaiters: [CheckedContinuation<Void, Never>] = []
    /// Set at shutdown, once nothing is in flight on the thread pool: later syncs and progress
    /// records are done on the actor, and nothing the agent stops next is still writing.
    var writesInline = false
    /// Progress records on their way to disk (``runProgressSaves()``), in order.
    let progressRequests: AsyncStream<[NodeID: [SessionID: ProgressStore.Mark]]>.Continuation
    let progressStream: AsyncStream<[NodeID: [SessionID: ProgressStore.Mark]]>
    var progressSavesInFlight = 0
    /// Sessions whose next append waits for a writer to finish its last line.
    var stalled: Set<SessionID> = []
    let startTime = ContinuousClock.now
    let progressStore: ProgressStore
    /// The latest acknowledged sequence per peer and session, as the engine reported it.
    var progress: [NodeID: [SessionID: UInt64]] = [:]
    var isProgressDirty = false
    var lastProgressSave = ContinuousClock.now
    let originJournal: OriginJournal
    /// Sequence numbers already in each session's origin journal.
    var journaledCount: [SessionID: UInt64] = [:]
    let arrivalJournal: ArrivalJournal
    let entryIndex: EntryIndex
    /// Sequence numbers already in each session's entry index.
    var indexedCount: [SessionID: UInt64] = [:]
    /// Sessions whose index is not written in this run (see ``stopIndexing(_:)``).
    var unindexedSessions: Set<SessionID> = []
    /// Entries the engine got from the entry index at start, and lines read from logs since
    /// (entries and rejected lines): what the `indexed` log line reports.
    var restoredFromIndex = 0
    var linesRead = 0
    let remoteCheckpointRecord: RemoteCheckpointRecord
    var remoteCheckpoints: [SessionID: Checkpoint] = [:]
    var localRejections = 0
    /// Per peer with a backlog, where its catch-up stood at the last progress log line.
    var catchUp: [NodeID: (done: UInt64, at: Duration)] = [:]
    var lastCatchUpCheck: Duration = .zero
    /// A peer connected: check its backlog at the next tick rather than within the interval.
    var isCatchUpCheckDue = false

    init(configuration: AgentConfiguration, nodeID: NodeID, logger: Logger) {
        self.configuration = configuration
        self.nodeID = nodeID
        self.logger = logger
        var engineConfiguration = configuration.engine
        engineConfiguration.localNode = nodeID
        self.engine = ReplicationEngine(configuration: engineConfiguration)
        self.progressStore = ProgressStore(directory: configuration.stateDirectory)
        self.originJournal = OriginJournal(stateDirectory: configuration.stateDirectory)
        self.arrivalJournal = ArrivalJournal(stateDirectory: configuration.stateDirectory)
        self.entryIndex = EntryIndex(stateDirectory: configuration.stateDirectory)
        self.remoteCheckpointRecord = RemoteCheckpointRecord(stateDirectory: configuration.stateDirectory)
        (self.syncStream, self.syncRequests) = AsyncStream.makeStream(of: WrittenAppend.self)
        (self.progressStream, self.progressRequests) = AsyncStream.makeStream(
            of: [NodeID: [SessionID: ProgressStore.Mark]].self
        )
    }

    /// Indexes every session's file and checkpoint, then restores the progress recorded before
    /// the last stop; progress whose last acknowledged entry is no longer at its place in the
    /// file (a replaced log) is dropped, so that session is sent again rather than skipped.
    /// A session whose entry index agrees with its file is taken from the index, and only the
    /// lines after it are read (see ``restoreFromIndexes()``).
    /// Call once, before any link.
    func start() async throws(AgentError) {
        let origins = self.originJournal.load()
        for (session, list) in origins { self.journaledCount[session] = UInt64(list.count) }
        let arrivals = self.arrivalJournal.load()
        self.remoteCheckpoints = self.remoteCheckpointRecord.load()
        self.restoreFromIndexes(
            ReplicationEngine.Restore(
                origins: origins,
                arrivals: arrivals,
                remoteCheckpoints: self.remoteCheckpoints,
                indexedEntries: [:]
            )
        )
        await self.localChanges(SessionChanges(isRescanNeeded: true), pieceBytes: Self.scanPieceBytes)
        if !arrivals.isEmpty {
            // Every arrival that reached a file now has its place in the origin journal.
            self.originJournal.synchronize()
            self.arrivalJournal.removeAll()
        }
        let marks = try self.progressStore.load()
        var restored: [NodeID: [SessionID: UInt64]] = [:]
        var dropped = 0
        for (peer, sessions) in marks {
            for (session, mark) in sessions {
                if mark.acknowledged == 0 || self.opID(of: session, sequence: mark.acknowledged) == mark.lastOpID {
                    restored[peer, default: [:]][session] = mark.acknowledged
                } else {
                    dropped += 1
                }
            }
        }
        if dropped > 0 {
            self.logger.warning(
                "recorded progress no longer matches the logs; those sessions will be sent again",
                metadata: ["sessions": "\(dropped)"]
            )
        }
        self.engine.restoreProgress(restored)
        self.progress = restored
        self.logger.info(
            "indexed",
            metadata: [
                "sessions": "\(self.engine.knownSessions.count)",
                "entries": "\(self.engine.knownSessions.reduce(0) { $0 + self.engine.durableCount(of: $1) })",
                "peers_with_progress": "\(restored.count)",
                "from_index": "\(self.restoredFromIndex)",
                "lines_read": "\(self.linesRead)",
            ]
        )
    }

    /// The op id of the entry with this sequence number, read from the file.
    func opID(of session: SessionID, sequence: UInt64) -> String? {
        guard let location = self.engine.location(of: session, sequence: sequence) else { return nil }
        let log = SessionLog(layout: self.configuration.layout, sessionID: session)
        guard let bytes = try? log.readBytes(in: location.offset..<(location.offset + Int64(location.length))),
            let entry = try? OpEntry(line: bytes)
        else { return nil }
        return entry.opID.rawValue
    }

    /// Writes the progress record if it changed and the last write is `interval` old: on the
    /// thread pool (``runProgressSaves()``) while the agent runs, since each write is two
    /// `fsync`s; in place once the agent is stopping (``finishWrites()``) and for the last one
    /// (`interval` zero), so two writes of it never overlap.
    func saveProgress(ifOlderThan interval: Duration = .seconds(1)) {
        guard self.isProgressDirty, ContinuousClock.now - self.lastProgressSave >= interval else { return }
        let marks = self.progressMarks()
        self.lastProgressSave = ContinuousClock.now
        self.isProgressDirty = false
        guard interval == .zero || self.writesInline else {
            self.progressSavesInFlight += 1
            self.progressRequests.yield(marks)
            return
        }
        do {
            try self.progressStore.save(marks)
        } catch {
            self.isProgressDirty = true
            self.logger.error("\(error.message)")
        }
    }

    /// Each peer's acknowledged sequence per session, with the op id it ends at (read from the
    /// file), as the progress record holds them.
    private func progressMarks() -> [NodeID: [SessionID: ProgressStore.Mark]] {
        var marks: [NodeID: [SessionID: ProgressStore.Mark]] = [:]
        for (peer, sessions) in self.progress {
            for (session, acknowledged) in sessions {
                let lastOpID = acknowledged == 0 ? "" : (self.opID(of: session, sequence: acknowledged) ?? "")
                guard acknowledged == 0 || !lastOpID.isEmpty else { continue }
                marks[peer, default: [:]][session] = ProgressStore.Mark(acknowledged: acknowledged, lastOpID: lastOpID)
            }
        }
        return marks
    }

    var now: Duration { ContinuousClock.now - self.startTime }

    var statistics: ReplicationEngine.Statistics { self.engine.statistics }

    // MARK: Actions

    func apply(_ event: ReplicationEvent) {
        let actions = self.engine.handle(event, now: self.now)
        for action in actions { self.perform(action) }
    }

    func perform(_ action: ReplicationAction) {
        switch action {
        case .send(let message, let peer):
            self.links[peer]?.enqueue(.replication(message))
        case .ship(let shipment):
            guard let link = self.links[shipment.peer] else { return }
            let lines = self.readLines(shipment)
            let batch = EntryBatch(
                session: shipment.session.rawValue,
                after: shipment.after,
                through: shipment.through,
                lines: lines
            )
            link.enqueue(.replication(.entries(batch)))
        case .append(let request):
            self.writeQueues[request.session, default: []].append(request)
            self.flushWrites(request.session)
        case .writeCheckpoint(let session, let checkpoint):
            do {
                try SessionLog(layout: self.configuration.layout, sessionID: session).writeCheckpoint(checkpoint)
            } catch {
                self.logger.error(
                    "cannot write checkpoint.json",
                    metadata: ["session": "\(session)", "error": "\(error.message)"]
                )
            }
        case .recordRemoteCheckpoint(let session, let checkpoint):
            self.remoteCheckpoints[session] = checkpoint
            do {
                try self.remoteCheckpointRecord.save(self.remoteCheckpoints)
            } catch {
                self.logger.error("\(error.message)")
            }
        case .recordArrivals(let session, let arrivals):
            do {
                try self.arrivalJournal.record(
                    arrivals,
                    session: session,
                    synchronize: self.configuration.synchronizeWrites
                )
            } catch {
                self.logger.error("\(error.message)")
            }
        case .recordOrigins(let session, let firstSequence, let origins):
            let recorded = self.journaledCount[session] ?? 0
            let last = firstSequence + UInt64(origins.count) - 1
            guard last > recorded, firstSequence <= recorded + 1 else { return }
            let skip = Int(recorded + 1 - firstSequence)
            do {
                try self.originJournal.append(origins[skip...], session: session)
                self.journaledCount[session] = last
            } catch {
                self.logger.error("\(error.message)")
            }
        case .recordIndex(let session, let firstSequence, let entries, let lastLineDigest):
            self.recordIndex(
                session: session,
                firstSequence: firstSequence,
                entries: entries,
                lastLineDigest: lastLineDigest
            )
        case .recordProgress(let peer, let session, let acknowledged):
            self.progress[peer, default: [:]][session] = acknowledged
            self.isProgressDirty = true
        case .report(let report):
            self.log(report)
        }
    }
}
