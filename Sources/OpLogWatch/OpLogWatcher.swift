import CInotifyTools
import Foundation
public import Logging
public import OpLog
import Synchronization
import SystemPackage

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
///
/// Nothing fails silently. A session folder that cannot be watched (`ENOSPC` when
/// `fs.inotify.max_user_watches` is used up, `EACCES`, …) is logged as a warning and tried
/// again with backoff (``WatchRetryPolicy``); until then it is reported as changed at every
/// attempt, so what is written to it is still read, late by at most the retry delay. A folder
/// that vanished before it was watched is logged and forgotten (its return is an event of its
/// own). A folder whose name is not a session id is logged as not replicated. What stops the
/// watcher is thrown from ``run(_:)``.
public struct OpLogWatcher: Sendable {
    public let layout: OpLogLayout
    /// Where the watcher's warnings go: unwatchable folders, retries, folders not replicated.
    public let logger: Logger
    public let retryPolicy: WatchRetryPolicy
    /// Adds one watch; a seam for tests, libinotifytools otherwise.
    let addWatch: WatchAdder

    /// A watcher of `layout`'s op log folder that logs to `logger` (metadata keys
    /// `session.id`, `folder.path`, `watch.attempts`; errors under `error:`).
    public init(layout: OpLogLayout, logger: Logger, retryPolicy: WatchRetryPolicy = WatchRetryPolicy()) {
        self.init(layout: layout, logger: logger, retryPolicy: retryPolicy, addWatch: .inotifyTools)
    }

    /// A watcher that logs nowhere; prefer ``init(layout:logger:retryPolicy:)``.
    @available(*, deprecated, message: "pass a Logger: init(layout:logger:) — the watcher logs watches it cannot add")
    public init(layout: OpLogLayout) {
        self.init(layout: layout, logger: Logger(label: "oplog-sync.watch", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// A watcher whose watches are added by `addWatch` (tests make it fail).
    init(layout: OpLogLayout, logger: Logger, retryPolicy: WatchRetryPolicy, addWatch: WatchAdder) {
        self.layout = layout
        self.logger = logger
        self.retryPolicy = retryPolicy
        self.addWatch = addWatch
    }

    /// Watches until the calling task is cancelled, calling `body` with each batch of changes.
    ///
    /// Creates `ROOT/.muse/op_log/` if missing. The first batch asks for a rescan, so a consumer
    /// reads every existing session once. If the op log folder itself is removed or moved while
    /// watched, it is made and watched again and a rescan is asked for (the kernel reports a
    /// removed folder once no file in it is held open any more). Returns (without
    /// throwing) once the calling task is cancelled; cancellation is noticed by the watching
    /// thread within about a second.
    /// - Throws: `OpLogError` with code `.watchFailed` when inotify cannot start, the op log
    ///   folder cannot be watched (at start or again after it was replaced), reading events
    ///   fails, or another watcher is running in this process; `.io` or `.unsafePath` when the
    ///   folder cannot be made or listed. Whatever `body` throws, as is. Any of these means the
    ///   watcher has stopped: the caller should stop too, not carry on unwatched.
    public func run(_ body: (SessionChanges) async throws -> Void) async throws {
        try self.layout.createOpLogDirectory()
        guard InotifyToolsOwnership.tryClaim() else {
            throw OpLogError(code: .watchFailed, message: "an op log watcher is already running in this process")
        }
        defer { InotifyToolsOwnership.release() }

        let shared = WatcherShared()
        let (wakeUps, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let reader = InotifyReader(
            layout: self.layout,
            shared: shared,
            wakeUp: { continuation.yield() },
            logger: self.logger,
            addWatch: self.addWatch,
            retries: WatchRetries(policy: self.retryPolicy)
        )
        let thread = Thread {
            var reader = reader
            reader.run()
            continuation.finish()
            shared.markExited()
        }
        thread.name = "oplog-sync inotify"
        thread.start()

        var failure: (any Error)?
        do {
            try await withTaskCancellationHandler {
                for await _ in wakeUps {
                    if let error = shared.failure { throw error }
                    let batch = shared.state.withLock { state in
                        defer { state.pending = SessionChanges() }
                        return state.pending
                    }
                    if !batch.isEmpty { try await body(batch) }
                    if Task.isCancelled { break }
                }
                if let error = shared.failure { throw error }
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

/// Adds one inotify watch on a path: libinotifytools, or a stand-in in tests.
struct WatchAdder: Sendable {
    /// Watches `path` for the events in `mask`; `nil` on success, else why not.
    var add: @Sendable (_ path: String, _ mask: Int32) -> Errno?

    /// `inotifytools_watch_file`, which also records the path for `inotifytools_filename_from_wd`.
    static let inotifyTools = WatchAdder { path, mask in
        inotifytools_watch_file(path, mask) != 0 ? nil : Errno(rawValue: inotifytools_error())
    }
}

/// What the watching thread and the consumer share.
struct WatcherState: Sendable {
    var pending = SessionChanges(isRescanNeeded: true)
    var isStopping = false
    /// Why the thread stopped on its own, if it did.
    var failure: OpLogError?
    var hasExited = false
    var exitWaiter: CheckedContinuation<Void, Never>?
}

/// The shared state, by reference: the thread and the consumer both hold it.
final class WatcherShared: Sendable {
    let state = Mutex(WatcherState())

    var failure: OpLogError? { self.state.withLock { $0.failure } }

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
