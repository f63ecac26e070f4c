import CoreMetrics
import DequeModule
import Logging
import OpLog
import OpLogReplication
import OpLogWatch
import OpLogWire

/// Owns the merge engine and the files: every event goes through here, one at a time, and every
/// action the engine returns is carried out before the next event is handled.
///
/// Events raised while actions are carried out (a write completed, lines read back) are queued
/// and handled after the current action list, never by re-entering the engine
/// (``apply(_:)``). File writes happen inline, so no write is ever half done; the `fdatasync`
/// of peers' lines runs on a thread pool (``runSyncs()``) while the actor goes on, and a
/// shutdown waits for it (``finishWrites()``), so what was acknowledged is durable.
actor AgentCore {
    let configuration: AgentConfiguration
    let nodeID: NodeID
    let logger: Logger
    var engine: ReplicationEngine
    var events = EventQueue()
    var links = LinkRegistry()
    var writers: SessionWriters
    /// Work handed to the thread pool: syncs and progress records.
    let background: BackgroundWork
    var progress = ProgressBook()
    /// The journals that must survive a restart, and the entry index.
    var records: StateRecords
    var files = LocalFiles()
    var status: StatusKeeping
    /// The connections refused before admission, for the status snapshot (written by the
    /// links' TLS handshakes, on event loops).
    let admissions: AdmissionBook

    /// A core that knows nothing yet: ``start()`` restores what the state folder recorded.
    ///
    /// - Parameters:
    ///   - configuration: the node's settings.
    ///   - nodeID: this node's id, as its peers know it.
    ///   - listen: the address the node accepts links on, as bound (for the status snapshot).
    ///   - stateFolder: the node's state folder, opened (``StateFolder/init(opening:opLogFolder:)``).
    ///   - logger: where the core logs, with the node's id in its metadata.
    ///   - statusBoard: where the core publishes the node's status.
    ///   - admissions: the refusals of not-yet-admitted connections, published with the status.
    ///   - metricsFactory: where the node's metrics are made (``NodeMetrics``).
    init(
        configuration: AgentConfiguration,
        nodeID: NodeID,
        listen: PeerAddress,
        stateFolder: StateFolder,
        logger: Logger,
        statusBoard: StatusBoard,
        admissions: AdmissionBook = AdmissionBook(maximumPending: 64, logInterval: .seconds(60)),
        metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance
    ) {
        self.admissions = admissions
        self.configuration = configuration
        self.nodeID = nodeID
        self.logger = logger
        let metrics = NodeMetrics(factory: metricsFactory)
        self.status = StatusKeeping(
            board: statusBoard,
            listen: listen,
            peers: PeerBook(configured: configuration.peers.compactMap(\.address)),
            metrics: metrics
        )
        var engineConfiguration = configuration.engine
        engineConfiguration.localNode = nodeID
        self.engine = ReplicationEngine(configuration: engineConfiguration)
        self.writers = SessionWriters(isSynchronizing: configuration.synchronizeWrites)
        self.background = BackgroundWork(
            progressStore: ProgressStore(folder: stateFolder),
            fsyncSeconds: metrics.fsyncSeconds
        )
        self.records = StateRecords(
            journals: StateJournals(folder: stateFolder),
            index: IndexBook(entryIndex: EntryIndex(folder: stateFolder)),
            intents: AppendIntents(folder: stateFolder)
        )
    }

    /// The engine's clock: time since the core was made.
    var now: Duration { ContinuousClock.now - self.events.startTime }

    var statistics: ReplicationEngine.Statistics { self.engine.statistics }

    // MARK: Events and actions

    /// Hands `event` to the engine and carries out what it returns; events raised meanwhile
    /// (by this event's actions) are queued and handled in order after them.
    func apply(_ event: ReplicationEvent) {
        self.events.pending.append(event)
        self.handleEvents()
    }

    /// Asks for the session's queued batches to be written once the events being handled (and
    /// those they raise) are done: a batch the engine asks for while it completes another is
    /// written only after every action of that completion.
    func requestWrites(_ session: SessionID) {
        self.events.request(.write(session))
        self.handleEvents()
    }

    /// Asks for the session's new lines to be read, one piece at a time, each piece's entries
    /// handled before the next piece is read or anything else is written. So the session's tail
    /// never stands past lines the engine has not numbered when an action records where it
    /// stands (the entry index's resume point).
    func requestRead(_ session: SessionID) {
        self.events.request(.read(session))
        self.handleEvents()
    }

    /// Runs `body`, then handles the events and steps it raised, in order.
    func holdingEvents(_ body: () -> Void) {
        let wasHandling = self.events.isHandling
        self.events.isHandling = true
        body()
        self.events.isHandling = wasHandling
        self.handleEvents()
    }

    /// Handles queued events until none is left, then takes the next step (a read or a write,
    /// in the order asked for), whose events are handled before the step after it; returns
    /// when both queues are empty. Does nothing when called while events are being handled: the
    /// caller's loop takes what was queued.
    private func handleEvents() {
        guard !self.events.isHandling else { return }
        self.events.isHandling = true
        defer { self.events.isHandling = false }
        var next = 0
        while true {
            if next < self.events.pending.count {
                let event = self.events.pending[next]
                next += 1
                let actions = self.engine.handle(event, now: self.now)
                // A tick that did nothing leaves the status as it was (see `publishStatusIfDue`).
                if case .tick = event, actions.isEmpty {} else { self.status.isStale = true }
                for action in actions { self.perform(action) }
                continue
            }
            self.events.pending.removeAll(keepingCapacity: true)
            next = 0
            guard let step = self.events.steps.popFirst() else { return }
            self.status.isStale = true
            switch step {
            case .read(let session):
                if self.scanPiece(session) { self.events.steps.prepend(.read(session)) }
            case .write(let session):
                self.flushWrites(session)
            }
        }
    }

    func perform(_ action: ReplicationAction) {
        switch action {
        case .send(let message, let peer):
            self.links.link(to: peer)?.enqueue(.replication(message))
        case .ship(let shipment):
            // The link's writer reads the lines when it takes the shipment.
            self.links.link(to: shipment.peer)?.outbox.enqueue(shipment)
        case .append(let request):
            self.writers.enqueue(request)
            self.requestWrites(request.session)
        case .writeCheckpoint(let session, let checkpoint):
            self.writeCheckpoint(checkpoint, session: session)
        case .recordRemoteCheckpoint(let session, let checkpoint):
            self.records.journals.recordRemoteCheckpoint(checkpoint, session: session, logger: self.logger)
        case .recordArrivals(let session, let arrivals):
            self.records.journals.recordArrivals(
                arrivals,
                session: session,
                synchronize: self.configuration.synchronizeWrites,
                logger: self.logger
            )
        case .recordOrigins(let session, let firstSequence, let origins):
            self.records.journals.recordOrigins(
                origins,
                firstSequence: firstSequence,
                session: session,
                logger: self.logger
            )
        case .recordIndex(let session, let firstSequence, let entries, let lastLineDigest):
            self.files.noteNumbered(entries, session: session)
            self.noteDurable(session, firstSequence: firstSequence, count: entries.count)
            self.records.journals.entriesNumbered(
                entries,
                firstSequence: firstSequence,
                session: session,
                synchronize: self.configuration.synchronizeWrites,
                logger: self.logger
            )
            self.recordIndex(
                session: session,
                firstSequence: firstSequence,
                entries: entries,
                lastLineDigest: lastLineDigest
            )
        case .recordProgress(let peer, let session, let acknowledged):
            self.progress.record(peer: peer, session: session, acknowledged: acknowledged)
        case .resetSession(let session):
            self.resetSession(session)
        case .report(let report):
            self.log(report)
        }
    }
}
