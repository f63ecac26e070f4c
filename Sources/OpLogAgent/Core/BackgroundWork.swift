import DequeModule
import Metrics
import OpLog
import OpLogReplication

/// The work the core hands to NIO's thread pool, as queues its services take it from: syncs
/// of peers' lines (``AgentCore/runSyncs()``) and progress records
/// (``AgentCore/runProgressSaves()``).
struct BackgroundWork: Sendable {
    typealias ProgressMarks = [NodeID: [SessionID: ProgressStore.Mark]]

    /// Where written batches go to be synced.
    let syncRequests: AsyncStream<WrittenAppend>.Continuation
    let syncs: AsyncStream<WrittenAppend>
    /// Progress records on their way to disk, in order, and where they are written.
    let progressRequests: AsyncStream<ProgressMarks>.Continuation
    let progressSaves: AsyncStream<ProgressMarks>
    let progressStore: ProgressStore
    /// `oplog_sync_fsync_seconds`, recorded by ``AgentCore/runSyncs()`` off the actor.
    let fsyncSeconds: Timer

    init(progressStore: ProgressStore, fsyncSeconds: Timer) {
        self.progressStore = progressStore
        self.fsyncSeconds = fsyncSeconds
        (self.syncs, self.syncRequests) = AsyncStream.makeStream(of: WrittenAppend.self)
        (self.progressSaves, self.progressRequests) = AsyncStream.makeStream(of: ProgressMarks.self)
    }
}

/// Events waiting for the engine, and whether the core is handling them (see
/// ``AgentCore/apply(_:)``).
struct EventQueue: Sendable {
    /// I/O the core does between events, one step at a time.
    enum Step: Sendable, Equatable {
        /// Read one piece of the session's new lines.
        case read(SessionID)
        /// Write the session's queued batches.
        case write(SessionID)
    }

    /// Where the engine's clock starts.
    let startTime = ContinuousClock.now
    var pending: [ReplicationEvent] = []
    /// Steps to take once the pending events are handled, in order.
    var steps = Deque<Step>()
    var isHandling = false

    /// Queues `step` unless it waits already.
    mutating func request(_ step: Step) {
        if !self.steps.contains(step) { self.steps.append(step) }
    }
}
