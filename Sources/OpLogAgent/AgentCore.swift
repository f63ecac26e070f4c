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
    private let outgoing: AsyncStream<WireMessage>.Continuation
    private let closeChannel: @Sendable () -> Void

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
/// File writes happen inline, so when the actor is idle no write is half done: a shutdown that
/// stops feeding it leaves only complete, durable appends behind.
actor AgentCore {
    let configuration: AgentConfiguration
    let nodeID: NodeID
    private var logger: Logger
    private var engine: ReplicationEngine
    private var tails: [SessionID: SessionTail] = [:]
    private var links: [NodeID: LinkHandle] = [:]
    private var writeQueues: [SessionID: [AppendRequest]] = [:]
    private var flushing: Set<SessionID> = []
    /// Sessions whose next append waits for a writer to finish its last line.
    private var stalled: Set<SessionID> = []
    private let startTime = ContinuousClock.now
    private let progressStore: ProgressStore
    /// The latest acknowledged sequence per peer and session, as the engine reported it.
    private var progress: [NodeID: [SessionID: UInt64]] = [:]
    private var isProgressDirty = false
    private var lastProgressSave = ContinuousClock.now
    private let originJournal: OriginJournal
    /// Sequence numbers already in each session's origin journal.
    private var journaledCount: [SessionID: UInt64] = [:]
    private let arrivalJournal: ArrivalJournal
    private let remoteCheckpointRecord: RemoteCheckpointRecord
    private var remoteCheckpoints: [SessionID: Checkpoint] = [:]
    private(set) var localRejections = 0

    init(configuration: AgentConfiguration, nodeID: NodeID, logger: Logger) {
        self.configuration = configuration
        self.nodeID = nodeID
        self.logger = logger
        self.engine = ReplicationEngine(configuration: configuration.engine)
        self.progressStore = ProgressStore(directory: configuration.stateDirectory)
        self.originJournal = OriginJournal(stateDirectory: configuration.stateDirectory)
        self.arrivalJournal = ArrivalJournal(stateDirectory: configuration.stateDirectory)
        self.remoteCheckpointRecord = RemoteCheckpointRecord(stateDirectory: configuration.stateDirectory)
    }

    /// Indexes every session's file and checkpoint, then restores the progress recorded before
    /// the last stop; progress whose last acknowledged entry is no longer at its place in the
    /// file (a replaced log) is dropped, so that session is sent again rather than skipped.
    /// Call once, before any link.
    func start() throws(AgentError) {
        let origins = self.originJournal.load()
        for (session, list) in origins { self.journaledCount[session] = UInt64(list.count) }
        self.engine.restoreOrigins(origins)
        let arrivals = self.arrivalJournal.load()
        self.engine.restoreArrivals(arrivals)
        self.remoteCheckpoints = self.remoteCheckpointRecord.load()
        for (session, checkpoint) in self.remoteCheckpoints {
            self.engine.restoreRemoteCheckpoint(session: session, checkpoint)
        }
        self.localChanges(SessionChanges(isRescanNeeded: true))
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
            ]
        )
    }

    /// The op id of the entry with this sequence number, read from the file.
    private func opID(of session: SessionID, sequence: UInt64) -> String? {
        guard let location = self.engine.location(of: session, sequence: sequence) else { return nil }
        let log = SessionLog(layout: self.configuration.layout, sessionID: session)
        guard let bytes = try? log.readBytes(in: location.offset..<(location.offset + Int64(location.length))),
            let entry = try? OpEntry(line: bytes)
        else { return nil }
        return entry.opID.rawValue
    }

    /// Writes the progress record if it changed and the last write is `interval` old.
    func saveProgress(ifOlderThan interval: Duration = .seconds(1)) {
        guard self.isProgressDirty, ContinuousClock.now - self.lastProgressSave >= interval else { return }
        var marks: [NodeID: [SessionID: ProgressStore.Mark]] = [:]
        for (peer, sessions) in self.progress {
            for (session, acknowledged) in sessions {
                let lastOpID = acknowledged == 0 ? "" : (self.opID(of: session, sequence: acknowledged) ?? "")
                guard acknowledged == 0 || !lastOpID.isEmpty else { continue }
                marks[peer, default: [:]][session] = ProgressStore.Mark(acknowledged: acknowledged, lastOpID: lastOpID)
            }
        }
        do {
            try self.progressStore.save(marks)
            self.isProgressDirty = false
        } catch {
            self.logger.error("\(error.message)")
        }
        self.lastProgressSave = ContinuousClock.now
    }

    private var now: Duration { ContinuousClock.now - self.startTime }

    var statistics: ReplicationEngine.Statistics { self.engine.statistics }

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

    private func scanEntries(_ session: SessionID) {
        var tail =
            self.tails[session] ?? SessionTail(log: SessionLog(layout: self.configuration.layout, sessionID: session))
        let batch: SessionTail.Batch
        do {
            batch = try tail.readNew()
        } catch {
            self.logger.error(
                "cannot read ops.jsonl",
                metadata: ["session": "\(session)", "error": "\(error.message)"]
            )
            return
        }
        self.tails[session] = tail
        if batch.wasReset {
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
        guard !batch.entries.isEmpty else { return }
        let entries = zip(batch.entries, batch.offsets).map { LocalEntry(entry: $0, offset: $1) }
        self.apply(.localEntries(session: session, entries: entries))
    }

    private func scanCheckpoint(_ session: SessionID) {
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

    // MARK: Links

    /// Makes `link` the link to its peer. When a link to that peer exists, the one dialed by the
    /// node with the smaller id stays and the other is closed; returns whether `link` stayed.
    func register(_ link: LinkHandle) -> Bool {
        if let existing = self.links[link.peer] {
            if !(link.dialer < existing.dialer) {
                self.logger.debug("duplicate link closed", metadata: ["peer": "\(link.peer)"])
                return false
            }
            self.logger.debug("duplicate link replaced", metadata: ["peer": "\(link.peer)"])
            existing.close()
            self.links[link.peer] = nil
            self.apply(.peerDisconnected(link.peer))
        }
        self.links[link.peer] = link
        self.logger.info("peer connected", metadata: ["peer": "\(link.peer)", "address": "\(link.address)"])
        self.apply(.peerConnected(link.peer))
        return true
    }

    func unregister(_ link: LinkHandle) {
        guard self.links[link.peer] === link else { return }
        self.links[link.peer] = nil
        self.logger.info("peer disconnected", metadata: ["peer": "\(link.peer)", "address": "\(link.address)"])
        self.apply(.peerDisconnected(link.peer))
    }

    func isConnected(_ peer: NodeID) -> Bool {
        self.links[peer] != nil
    }

    func receive(_ message: ReplicationMessage, on link: LinkHandle) {
        guard self.links[link.peer] === link else { return }
        self.apply(.received(message, from: link.peer))
    }

    func tick() {
        self.apply(.tick)
        self.retryStalledWrites()
        self.saveProgress()
    }

    func closeAllLinks() {
        for link in self.links.values { link.close() }
    }

    // MARK: Actions

    private func apply(_ event: ReplicationEvent) {
        let actions = self.engine.handle(event, now: self.now)
        for action in actions { self.perform(action) }
    }

    private func perform(_ action: ReplicationAction) {
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
        case .recordProgress(let peer, let session, let acknowledged):
            self.progress[peer, default: [:]][session] = acknowledged
            self.isProgressDirty = true
        case .report(let report):
            self.log(report)
        }
    }

    /// Reads the shipment's lines from the local file: one read for a compact run of lines,
    /// one per line otherwise. A line no longer where it was (the file was replaced) is left out.
    private func readLines(_ shipment: Shipment) -> [[UInt8]] {
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
    private func flushWrites(_ session: SessionID) {
        guard self.flushing.insert(session).inserted else { return }
        defer { self.flushing.remove(session) }
        let log = SessionLog(layout: self.configuration.layout, sessionID: session)
        while let request = self.writeQueues[session]?.first {
            do {
                try log.append(
                    lines: request.lines,
                    staleTailAge: self.configuration.staleTailAge,
                    synchronize: self.configuration.synchronizeWrites
                )
                self.writeQueues[session]?.removeFirst()
                self.stalled.remove(session)
                self.apply(.appendCompleted(token: request.token))
                // Read the lines back now: that numbers them in file order and forwards them.
                self.scanEntries(session)
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

    private func retryStalledWrites() {
        for session in self.stalled.sorted() { self.flushWrites(session) }
    }

    private func log(_ report: ReplicationReport) {
        switch report {
        case .rejectedEntry(let peer, let session, let reason):
            self.logger.warning(
                "entry rejected",
                metadata: ["peer": "\(peer?.rawValue ?? "local")", "session": "\(session)", "reason": "\(reason)"]
            )
        case .rejectedMessage(let peer, let reason):
            self.logger.warning("message rejected", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        case .orphansWritten(let session, let count):
            self.logger.warning(
                "entries written without their parents after waiting for them",
                metadata: ["session": "\(session)", "count": "\(count)"]
            )
        case .checkpointAdopted(let session, let lamportTimestamp, let snapshotID, let peer):
            self.logger.info(
                "checkpoint adopted",
                metadata: [
                    "session": "\(session)", "lamport_ts": "\(lamportTimestamp)", "snapshot_id": "\(snapshotID)",
                    "peer": "\(peer?.rawValue ?? "local")",
                ]
            )
        }
    }
}
