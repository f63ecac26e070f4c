import DequeModule
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

/// What became of one write the core attempted for ``SessionWriters``.
enum WriteOutcome: Sendable {
    /// The lines are in the file (not yet synced).
    case written(WrittenAppend)
    /// A writer is mid-line at the end of the file: nothing was written.
    case tailInProgress
    /// The write failed: nothing of it is in the file.
    case failed(OpLogError)
}

/// The append → sync → acknowledge pipeline of every session, as a state machine with no I/O
/// (STYLE §7): the core asks it what to write next, reports what each write and each sync did,
/// and carries out the step it returns.
///
/// What it guarantees:
/// - A session has at most one batch written and waiting for its sync; later batches wait in
///   order (what arrives meanwhile goes into the next write, a group commit).
/// - Nothing is completed (and so acknowledged) before its sync is done, when syncs are on.
/// - While a session's batch waits for its sync, its file is not read: the engine numbers lines
///   in file order, and those lines are numbered first (the read is done after the sync).
/// - At most ``maximumSyncsInFlight`` batches, across all sessions, are written and waiting for
///   their sync: each holds its file open, so a thousand sessions' first batches would otherwise
///   hold a thousand descriptors while the syncs (done one at a time) catch up. A session that
///   finds no slot waits in order for one; ``takeSessionsGivenASlot()`` names those whose turn
///   came, and the core writes them.
/// - Shutdown is a phase: once ``beginShutdown()`` found nothing in flight (or the last sync in
///   flight finished), every later batch is synced in place by the caller, so none is left
///   written but unsynced when the sync service stops.
struct SessionWriters: Sendable {
    /// What the core does with a batch it wrote.
    enum Completion: Sendable, Equatable {
        /// Hand the batch to the sync service; report ``syncFinished(_:)`` when it is done.
        case sync
        /// Sync it on the calling thread (shutdown), then complete it.
        case syncInPlace
        /// Complete it at once (syncs are off).
        case complete
    }

    /// What the core does after a write attempt.
    enum AfterWrite: Sendable, Equatable {
        case completion(Completion)
        /// The session waits for a writer's line; log it (only the first time in a row).
        case stalled(isFirst: Bool)
        /// Nothing of the batch is in the file: tell the engine (it asks again later).
        case failed(token: UInt64)
    }

    /// The whole pipeline's lifecycle.
    private enum Phase: Sendable {
        /// Syncs go to the sync service.
        case running
        /// A shutdown waits for the syncs in flight; new writes still go to the service.
        case draining
        /// Nothing is in flight on the sync service any more: later writes are synced in place.
        case syncingInPlace
    }

    /// One session's state.
    private enum State: Sendable {
        /// No batch of the session waits for its sync; the queue's first batch may be written.
        case ready
        /// The queue's first batch waits for a writer to finish its line (retried later).
        case stalled
        /// A written batch waits for its sync. `isReadDeferred`: the core wanted to read the
        /// file meanwhile, and reads it once the sync is done.
        case syncing(token: UInt64, isReadDeferred: Bool)
    }

    /// A ready session's claim on one of the ``maximumSyncsInFlight`` slots, which its next
    /// write needs when it will wait for a sync.
    private enum Slot: Sendable, Equatable {
        case none
        /// In ``slotQueue``, for the next slot that frees.
        case waiting
        /// Held for the session's next write, which turns it into its sync's.
        case reserved
    }

    private struct Session: Sendable {
        var state = State.ready
        var queue = Deque<AppendRequest>()
        var slot = Slot.none
        /// The stall of the queue's first batch was reported (it is reported once, not at
        /// every retry).
        var isStallReported = false
    }

    /// How many batches may be written and waiting for their sync at once, across sessions.
    static let defaultMaximumSyncsInFlight = 64

    private var sessions: [SessionID: Session] = [:]
    private var phase = Phase.running
    /// Callers of ``AgentCore/finishWrites()`` waiting for the last sync and progress record
    /// before the shutdown finishes.
    var drainWaiters: [CheckedContinuation<Void, Never>] = []
    private let isSynchronizing: Bool
    let maximumSyncsInFlight: Int
    /// Sessions in the `.syncing` state, and sessions holding a `.reserved` slot: together at
    /// most ``maximumSyncsInFlight``.
    private var syncingCount = 0
    private var reservedCount = 0
    /// Sessions waiting for a slot, first come first served.
    private var slotQueue = Deque<SessionID>()
    /// Sessions given a slot since the core last asked (``takeSessionsGivenASlot()``).
    private var givenASlot: [SessionID] = []

    /// - Parameters:
    ///   - isSynchronizing: whether written batches are synced before they complete.
    ///   - maximumSyncsInFlight: how many written batches may wait for their sync at once.
    init(isSynchronizing: Bool, maximumSyncsInFlight: Int = Self.defaultMaximumSyncsInFlight) {
        precondition(maximumSyncsInFlight > 0, "at least one sync must be allowed in flight")
        self.isSynchronizing = isSynchronizing
        self.maximumSyncsInFlight = maximumSyncsInFlight
    }

    /// Queues a batch behind the session's others.
    mutating func enqueue(_ request: AppendRequest) {
        self.sessions[request.session, default: Session()].queue.append(request)
    }

    /// The batch to write next for the session, if it may be written now: none while one waits
    /// for its sync or a writer's line, or while every sync slot is taken (the session then
    /// waits for one, behind the sessions that waited before it).
    mutating func nextWrite(for session: SessionID) -> AppendRequest? {
        guard var entry = self.sessions[session], case .ready = entry.state, let first = entry.queue.first else {
            return nil
        }
        guard self.needsSlots else { return first }
        switch entry.slot {
        case .reserved:
            return first
        case .waiting:
            return nil
        case .none:
            if self.slotQueue.isEmpty && self.slotsInUse < self.maximumSyncsInFlight {
                entry.slot = .reserved
                self.reservedCount += 1
                self.sessions[session] = entry
                return first
            }
            entry.slot = .waiting
            self.slotQueue.append(session)
            self.sessions[session] = entry
            return nil
        }
    }

    /// The sessions given a sync slot since the last call, in the order they waited: the core
    /// writes their batches.
    mutating func takeSessionsGivenASlot() -> [SessionID] {
        defer { self.givenASlot = [] }
        return self.givenASlot
    }

    /// Whether a written batch will wait for a sync service's slot (not when syncs are off, or
    /// done in place at shutdown).
    private var needsSlots: Bool {
        guard self.isSynchronizing else { return false }
        if case .syncingInPlace = self.phase { return false }
        return true
    }

    private var slotsInUse: Int { self.syncingCount + self.reservedCount }

    /// Gives the slots that are free to the sessions waiting longest.
    private mutating func grantFreeSlots() {
        while self.slotsInUse < self.maximumSyncsInFlight, let session = self.slotQueue.popFirst() {
            guard var entry = self.sessions[session], case .waiting = entry.slot else { continue }
            entry.slot = .reserved
            self.reservedCount += 1
            self.sessions[session] = entry
            self.givenASlot.append(session)
        }
    }

    /// Gives up the session's reserved slot, if it holds one (its write did not end in a sync).
    private mutating func releaseReservation(_ entry: inout Session) {
        guard case .reserved = entry.slot else { return }
        entry.slot = .none
        self.reservedCount -= 1
    }

    /// Reports what the write of ``nextWrite(for:)`` did, and says what to do next.
    mutating func finishWrite(_ session: SessionID, _ outcome: WriteOutcome) -> AfterWrite {
        guard var entry = self.sessions[session], let request = entry.queue.first else {
            preconditionFailure("a write was reported for \(session) with nothing queued")
        }
        defer {
            self.store(entry, for: session)
            self.grantFreeSlots()
        }
        switch outcome {
        case .tailInProgress:
            let isFirst = !entry.isStallReported
            entry.isStallReported = true
            entry.state = .stalled
            self.releaseReservation(&entry)
            return .stalled(isFirst: isFirst)
        case .failed:
            entry.queue.removeFirst()
            entry.isStallReported = false
            entry.state = .ready
            self.releaseReservation(&entry)
            return .failed(token: request.token)
        case .written(let written):
            entry.queue.removeFirst()
            entry.isStallReported = false
            guard self.isSynchronizing else {
                entry.state = .ready
                return .completion(.complete)
            }
            switch self.phase {
            case .running, .draining:
                // The reserved slot becomes the sync's (a write reaches here only with one).
                precondition(entry.slot == .reserved, "a batch was written for a sync without a slot")
                entry.slot = .none
                self.reservedCount -= 1
                self.syncingCount += 1
                entry.state = .syncing(token: written.token, isReadDeferred: false)
                return .completion(.sync)
            case .syncingInPlace:
                entry.state = .ready
                self.releaseReservation(&entry)
                return .completion(.syncInPlace)
            }
        }
    }

    /// Makes the session's stalled batch writable again (a writer may have finished its line);
    /// returns whether it was stalled.
    mutating func retryStalled(_ session: SessionID) -> Bool {
        guard var entry = self.sessions[session], case .stalled = entry.state else { return false }
        entry.state = .ready
        self.sessions[session] = entry
        return true
    }

    /// Sessions whose batch waits for a writer's line, in order.
    var stalledSessions: [SessionID] {
        self.sessions.compactMap { session, entry in
            if case .stalled = entry.state { return session }
            return nil
        }.sorted()
    }

    /// Whether the core may read the session's file now. While a batch waits for its sync it may
    /// not; the read is remembered and ``syncFinished(_:)`` asks for it.
    mutating func mayRead(_ session: SessionID) -> Bool {
        guard var entry = self.sessions[session], case .syncing(let token, _) = entry.state else { return true }
        entry.state = .syncing(token: token, isReadDeferred: true)
        self.sessions[session] = entry
        return false
    }

    /// The sync of the session's batch is done; returns whether a read of the file was deferred
    /// meanwhile. The queue's next batch may be written after this.
    mutating func syncFinished(_ written: WrittenAppend) -> Bool {
        guard var entry = self.sessions[written.session], case .syncing(let token, let isReadDeferred) = entry.state,
            token == written.token
        else {
            preconditionFailure("a sync finished for \(written.session) that was not in flight")
        }
        entry.state = .ready
        self.syncingCount -= 1
        self.store(entry, for: written.session)
        self.grantFreeSlots()
        return isReadDeferred
    }

    /// Whether any batch waits for its sync.
    var isSyncInFlight: Bool { self.syncingCount > 0 }

    /// Starts the shutdown: from now on the core waits for the syncs in flight
    /// (``isSyncInFlight``) and then calls ``finishShutdown()``.
    mutating func beginShutdown() {
        if case .running = self.phase { self.phase = .draining }
    }

    /// Nothing is in flight on the sync service any more: later batches are synced in place.
    mutating func finishShutdown() {
        precondition(!self.isSyncInFlight, "the shutdown finished with a sync in flight")
        self.phase = .syncingInPlace
        // Slots no longer matter: the sessions that waited for one may write, in their order.
        self.givenASlot += self.slotQueue.filter { self.sessions[$0]?.slot == .waiting }
        for (session, var entry) in self.sessions where entry.slot != .none {
            entry.slot = .none
            self.sessions[session] = entry
        }
        self.slotQueue = []
        self.reservedCount = 0
    }

    /// Whether syncs are done in place now (the sync service is stopping or stopped).
    var isSyncingInPlace: Bool {
        if case .syncingInPlace = self.phase { return true }
        return false
    }

    private mutating func store(_ entry: Session, for session: SessionID) {
        if case .ready = entry.state, entry.queue.isEmpty, entry.slot == .none {
            self.sessions[session] = nil
        } else {
            self.sessions[session] = entry
        }
    }
}
