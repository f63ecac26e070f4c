import CInotifyTools
import Logging
import OpLog
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The watching thread's work: owns libinotifytools from `initialize` to `cleanup`.
///
/// Watches the op log folder and each session folder in it (one watch each, not recursive:
/// nothing below a session folder matters), retries the session folders it could not watch,
/// and turns events into ``SessionChanges`` merged into the shared pending batch.
struct InotifyReader {
    static let mask = Int32(
        IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF
            | IN_MOVE_SELF | IN_DONT_FOLLOW
    )

    let layout: OpLogLayout
    let shared: WatcherShared
    let wakeUp: @Sendable () -> Void
    let logger: Logger
    let addWatch: WatchAdder
    var retries: WatchRetries

    /// `ROOT/.muse/op_log/`, as libinotifytools names a watched folder (with the final `/`).
    private var opLogFolder: String {
        let path = String(describing: self.layout.opLogPath)
        return path.hasSuffix("/") ? path : path + "/"
    }

    /// Runs until asked to stop or until something stops it, which it records in
    /// ``WatcherShared`` for ``OpLogWatcher/run(_:)`` to throw.
    mutating func run() {
        guard inotifytools_initialize() != 0 else {
            let error = Errno(rawValue: inotifytools_error())
            self.fail(OpLogError(code: .watchFailed, message: "cannot start inotify", cause: error))
            return
        }
        defer { inotifytools_cleanup() }
        var changes = SessionChanges()
        do throws(OpLogError) {
            try self.watchTree(into: &changes)
        } catch {
            self.fail(error)
            return
        }
        self.deliver(changes)  // the initial rescan
        while !self.shared.state.withLock({ $0.isStopping }) {
            var changes = SessionChanges()
            // Blocks for at most one second, so a stop request and due retries are seen promptly.
            if let event = inotifytools_next_event(1) {
                // Each event is merged into the pending batch; events that arrive while the
                // consumer is busy pile into that one batch, and the kernel itself merges
                // repeats. (A timeout of 0 would block in libinotifytools, so there is no
                // non-blocking drain.)
                let isRootGone = self.classify(event, into: &changes)
                if isRootGone {
                    do throws(OpLogError) {
                        try self.watchTree(into: &changes)
                    } catch {
                        self.fail(error)
                        return
                    }
                }
            } else {
                let error = inotifytools_error()
                if error != 0 && error != EINTR {
                    let failure = OpLogError(
                        code: .watchFailed,
                        message: "cannot read inotify events for \(self.layout.opLogPath)",
                        cause: Errno(rawValue: error)
                    )
                    self.fail(failure)
                    return
                }
            }
            if changes.isRescanNeeded { self.retries.makeAllDue(at: .now) }
            for session in self.retries.due(at: .now) {
                self.watchSession(session, into: &changes)
            }
            self.deliver(changes)
        }
    }

    /// Records why the thread stops and wakes the consumer to throw it.
    private func fail(_ error: OpLogError) {
        self.logger.error("op log watcher stopped", error: error, metadata: ["folder.path": "\(self.layout.opLogPath)"])
        self.shared.state.withLock { $0.failure = error }
        self.wakeUp()
    }

    /// Merges `changes` into the pending batch and wakes the consumer, unless there are none.
    private func deliver(_ changes: SessionChanges) {
        guard !changes.isEmpty else { return }
        self.shared.state.withLock { state in
            for (session, kinds) in changes.sessions { state.pending.note(session, kinds) }
            if changes.isRescanNeeded { state.pending.isRescanNeeded = true }
        }
        self.wakeUp()
    }

    /// Makes and watches the op log folder, then watches every session folder in it (those it
    /// cannot watch go to the retries); asks for a rescan.
    ///
    /// The folder is watched before it is listed, so a session made in between is seen by one
    /// or the other.
    /// - Throws: `OpLogError` `.watchFailed` when the op log folder cannot be watched; `.io` or
    ///   `.unsafePath` when it cannot be made or listed.
    private mutating func watchTree(into changes: inout SessionChanges) throws(OpLogError) {
        try self.layout.createOpLogDirectory()
        if let error = self.addWatch.add(self.opLogFolder, Self.mask) {
            var hint = ""
            if error == .noSpace { hint = " (the inotify watch limit is reached: raise fs.inotify.max_user_watches)" }
            throw OpLogError(
                code: .watchFailed,
                message: "cannot watch \(self.layout.opLogPath)\(hint)",
                cause: error
            )
        }
        self.retries.removeAll()
        let listing = try self.layout.sessionListing()
        for session in listing.sessions {
            self.watchSession(session, into: &changes)
        }
        changes.isRescanNeeded = true
    }

    /// Adds the watch on one session folder, logging a failure (or a recovery) and noting the
    /// session as changed either way: its files may have been written before the watch was in
    /// place, or while it is not.
    private mutating func watchSession(_ session: SessionID, into changes: inout SessionChanges) {
        let path = self.layout.sessionPath(session)
        let metadata: Logger.Metadata = ["session.id": "\(session)", "folder.path": "\(path)"]
        guard let error = self.addWatch.add(String(describing: path), Self.mask) else {
            if let failure = self.retries.succeeded(session) {
                var metadata = metadata
                metadata["watch.attempts"] = "\(failure.attempts + 1)"
                self.logger.info("watching session folder again", metadata: metadata)
            }
            changes.note(session, [.ops, .checkpoint])
            return
        }
        let note = self.retries.failed(session, error: error, now: .now)
        var failureMetadata = metadata
        failureMetadata["watch.attempts"] = "\(self.retries.failures[session]?.attempts ?? 1)"
        switch note {
        case .failed where error == .noSpace:
            failureMetadata["hint"] = "the inotify watch limit is reached: raise fs.inotify.max_user_watches"
            self.logger.warning(
                "cannot watch session folder; polling it until it can be",
                error: error,
                metadata: failureMetadata
            )
        case .failed:
            self.logger.warning(
                "cannot watch session folder; polling it until it can be",
                error: error,
                metadata: failureMetadata
            )
        case .reachedMaximumDelay:
            self.logger.warning(
                "still cannot watch session folder; polling it until it can be",
                error: error,
                metadata: failureMetadata
            )
        case .failedAgain:
            self.logger.debug("cannot watch session folder yet", error: error, metadata: failureMetadata)
        case .vanished:
            self.logger.info("session folder vanished before it was watched", error: error, metadata: metadata)
        }
        // Poll: the consumer reads what a missing watch would have reported.
        changes.note(session, [.ops, .checkpoint])
    }

    /// Classifies one event into `changes`; returns whether the op log folder itself went away
    /// (removed, or moved elsewhere), so the tree must be watched afresh.
    private mutating func classify(
        _ event: UnsafeMutablePointer<inotify_event>,
        into changes: inout SessionChanges
    ) -> Bool {
        let mask = event.pointee.mask
        let watch = event.pointee.wd
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            changes.isRescanNeeded = true
            return false
        }
        if mask & UInt32(IN_IGNORED) != 0 { return false }
        guard let folderPointer = inotifytools_filename_from_wd(watch) else { return false }
        let folder = String(cString: folderPointer)
        let name = String(cString: oplog_inotify_event_name(event))
        let isDirectory = mask & UInt32(IN_ISDIR) != 0
        let opLogFolder = self.opLogFolder
        if folder == opLogFolder {
            if name.isEmpty {
                // The op log folder itself: removed or moved away.
                guard mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF) != 0 else { return false }
                // A moved folder stays watched under its old name: drop that watch, or its
                // events would be taken for the new folder's.
                if mask & UInt32(IN_MOVE_SELF) != 0 { _ = inotifytools_remove_watch_by_wd(watch) }
                self.logger.warning(
                    "op log folder removed or moved while watched; watching it afresh",
                    metadata: ["folder.path": "\(self.layout.opLogPath)"]
                )
                return true
            }
            // A session folder appeared or went away. A symbolic link or a folder whose name is
            // not a session id that appears is not replicated: the rescan's listing names it, and
            // the consumer logs it once.
            let appeared = mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0
            guard isDirectory, let session = try? SessionID(validating: name) else {
                if appeared { changes.isRescanNeeded = true }
                return false
            }
            if appeared {
                // Watch it; files written before the watch existed are caught by reading it now.
                self.watchSession(session, into: &changes)
            } else {
                if mask & UInt32(IN_MOVED_FROM) != 0 {
                    // Its watch follows it to its new name, where the kernel would hand the
                    // same watch back under this old name: drop it, so a move within the op
                    // log folder is watched afresh under the new name (IN_MOVED_TO, next).
                    _ = inotifytools_remove_watch_by_filename(opLogFolder + name + "/")
                }
                _ = self.retries.succeeded(session)  // gone: nothing left to retry
                changes.isRescanNeeded = true
            }
            return false
        }
        // An event inside a session folder ("ROOT/.muse/op_log/<session>/").
        guard folder.hasPrefix(opLogFolder) else { return false }
        let sessionName = folder.dropFirst(opLogFolder.count).split(separator: "/").first.map(String.init) ?? ""
        guard let session = try? SessionID(validating: sessionName) else { return false }
        if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF) != 0 {
            changes.isRescanNeeded = true
            return false
        }
        switch name {
        case SessionLog.opsFileName: changes.note(session, .ops)
        case SessionLog.checkpointFileName: changes.note(session, .checkpoint)
        default: break  // temporary files, the checkpoint history
        }
        return false
    }
}
