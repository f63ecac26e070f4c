import CInotifyTools
import Foundation
public import OpLog
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Watches `ROOT/.muse/op_log/` with inotify (libinotifytools) and reports, in coalesced
/// batches, which sessions' `ops.jsonl` or `checkpoint.json` changed — including sessions
/// created while it runs.
///
/// libinotifytools keeps process-global state, so one watcher runs per process at a time; its
/// blocking reads happen on a dedicated thread, never on an event loop or the cooperative pool.
/// Changes are accumulated under a lock and handed over as one batch per wake-up, so a burst of
/// 10,000 appends costs a few reads of the log, not 10,000; nothing is dropped (a batch is the
/// union of everything since the previous one), and a kernel queue overflow becomes a request
/// to rescan every session.
public struct OpLogWatcher: Sendable {
    public let layout: OpLogLayout

    public init(layout: OpLogLayout) {
        self.layout = layout
    }

    /// Watches until the calling task is cancelled, calling `body` with each batch of changes.
    ///
    /// Creates `ROOT/.muse/op_log/` if missing. The first batch asks for a rescan, so a consumer
    /// reads every existing session once. Cancellation is noticed by the watching thread within
    /// about a second.
    /// - Throws: `OpLogError` if the folder cannot be made or watched, or another watcher is
    ///   running in this process; whatever `body` throws.
    public func run(_ body: (SessionChanges) async throws -> Void) async throws {
        try self.layout.createOpLogDirectory()
        guard InotifyToolsOwnership.tryClaim() else {
            throw OpLogError(code: .io, message: "an op log watcher is already running in this process")
        }
        defer { InotifyToolsOwnership.release() }

        let shared = WatcherShared()
        let (wakeUps, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let root = String(describing: self.layout.opLogPath)
        let thread = Thread {
            InotifyReader(opLogPath: root, shared: shared, wakeUp: { continuation.yield() }).run()
            continuation.finish()
            shared.markExited()
        }
        thread.name = "oplog-sync inotify"
        thread.start()

        var failure: (any Error)?
        do {
            try await withTaskCancellationHandler {
                for await _ in wakeUps {
                    if let error = shared.startFailure { throw error }
                    let batch = shared.state.withLock { state in
                        defer { state.pending = SessionChanges() }
                        return state.pending
                    }
                    if !batch.isEmpty { try await body(batch) }
                    if Task.isCancelled { break }
                }
                if let error = shared.startFailure { throw error }
            } onCancel: {
                shared.state.withLock { $0.isStopping = true }
            }
        } catch {
            failure = error
        }
        // Stop the thread and wait for it to release libinotifytools (within its one-second
        // read timeout) before another watcher may start.
        shared.state.withLock { $0.isStopping = true }
        await shared.waitForExit()
        if let failure { throw failure }
    }
}

/// What the watching thread and the consumer share.
struct WatcherState: Sendable {
    var pending = SessionChanges(isRescanNeeded: true)
    var isStopping = false
    var startFailure: OpLogError?
    var hasExited = false
    var exitWaiter: CheckedContinuation<Void, Never>?
}

/// The shared state, by reference: the thread and the consumer both hold it.
final class WatcherShared: Sendable {
    let state = Mutex(WatcherState())

    var startFailure: OpLogError? { self.state.withLock { $0.startFailure } }

    /// Called by the thread as it ends.
    func markExited() {
        let waiter = self.state.withLock { state in
            state.hasExited = true
            defer { state.exitWaiter = nil }
            return state.exitWaiter
        }
        waiter?.resume()
    }

    /// Returns once the thread has ended (even if the calling task is cancelled).
    func waitForExit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let hasExited = self.state.withLock { state in
                if !state.hasExited { state.exitWaiter = continuation }
                return state.hasExited
            }
            if hasExited { continuation.resume() }
        }
    }
}

/// The watching thread's work: owns libinotifytools from `initialize` to `cleanup`.
private struct InotifyReader {
    static let mask = Int32(
        IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF
    )

    let opLogPath: String
    let shared: WatcherShared
    let wakeUp: @Sendable () -> Void

    func run() {
        guard inotifytools_initialize() != 0 else {
            let error = OpLogError(code: .io, message: "cannot start inotify (error \(inotifytools_error()))")
            self.shared.state.withLock { $0.startFailure = error }
            self.wakeUp()
            return
        }
        defer { inotifytools_cleanup() }
        guard inotifytools_watch_recursively(self.opLogPath, Self.mask) != 0 else {
            let error = inotifytools_error()
            let failure = OpLogError(
                code: .io,
                message: "cannot watch \(self.opLogPath) (error \(error); see fs.inotify.max_user_watches)"
            )
            self.shared.state.withLock { $0.startFailure = failure }
            self.wakeUp()
            return
        }
        self.wakeUp()  // deliver the initial rescan
        let folderPrefix = self.opLogPath.hasSuffix("/") ? self.opLogPath : self.opLogPath + "/"
        while !self.shared.state.withLock({ $0.isStopping }) {
            // Blocks for at most one second, so a stop request is seen promptly.
            guard let event = inotifytools_next_event(1) else { continue }
            // Each event is merged into the pending batch; events that arrive while the consumer
            // is busy pile into that one batch, and the kernel itself merges repeats. (A timeout
            // of 0 would block in libinotifytools, so there is no non-blocking drain.)
            var changes = SessionChanges()
            self.classify(event, opLogFolder: folderPrefix, into: &changes)
            guard !changes.isEmpty else { continue }
            self.shared.state.withLock { state in
                for (session, kinds) in changes.sessions { state.pending.note(session, kinds) }
                if changes.isRescanNeeded { state.pending.isRescanNeeded = true }
            }
            self.wakeUp()
        }
    }

    private func classify(
        _ event: UnsafeMutablePointer<inotify_event>,
        opLogFolder: String,
        into changes: inout SessionChanges
    ) {
        let mask = event.pointee.mask
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            changes.isRescanNeeded = true
            return
        }
        if mask & UInt32(IN_IGNORED) != 0 { return }
        guard let folderPointer = inotifytools_filename_from_wd(event.pointee.wd) else { return }
        let folder = String(cString: folderPointer)
        let name = String(cString: oplog_inotify_event_name(event))
        let isDirectory = mask & UInt32(IN_ISDIR) != 0
        if folder == opLogFolder {
            // A session folder appeared or went away.
            guard isDirectory, let session = try? SessionID(validating: name) else { return }
            if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
                // Watch it; files written before the watch existed are caught by reading it now.
                _ = inotifytools_watch_recursively(folder + name, Self.mask)
                changes.note(session, [.ops, .checkpoint])
            } else {
                changes.isRescanNeeded = true
            }
            return
        }
        // An event inside a session folder ("ROOT/.muse/op_log/<session>/").
        guard folder.hasPrefix(opLogFolder) else { return }
        let sessionName = folder.dropFirst(opLogFolder.count).split(separator: "/").first.map(String.init) ?? ""
        guard let session = try? SessionID(validating: sessionName) else { return }
        if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF) != 0 {
            changes.isRescanNeeded = true
            return
        }
        switch name {
        case SessionLog.opsFileName: changes.note(session, .ops)
        case SessionLog.checkpointFileName: changes.note(session, .checkpoint)
        default: break  // temporary files, the checkpoint history
        }
    }
}
