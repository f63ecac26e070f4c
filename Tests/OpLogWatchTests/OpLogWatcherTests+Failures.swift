import Foundation
import InMemoryLogging
import Logging
import OpLog
import Synchronization
import SystemPackage
import Testing

@testable import OpLogWatch

/// Watches that cannot be added are logged and retried, and a watcher that cannot go on throws.
/// In the serialized suite: libinotifytools is process-global. The failures are injected
/// through ``WatchAdder`` (exhausting `fs.inotify.max_user_watches` for real would be global to
/// the machine).
extension OpLogWatcherTests {
    /// A session folder that exists at start but cannot be watched (ENOSPC) is logged with the
    /// limit to raise, polled meanwhile, and watched once the watch can be added.
    @Test func aSessionFolderThatCannotBeWatchedIsLoggedPolledAndRetried() async throws {
        let logs = WatchedLogs()
        let watches = FailingWatches()
        watches.fail(suffix: "/op_log/stuck", with: .noSpace)
        let session = try SessionID(validating: "stuck")
        try await self.withWatcher(
            logs: logs,
            retryPolicy: WatchRetryPolicy(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(40)),
            addWatch: watches.adder,
            sessionsBefore: [session]
        ) { root, batches in
            let warning = try await logs.next(within: .seconds(60)) {
                $0.level == .warning && $0.metadata["session.id"] == "stuck"
            }
            #expect("\(warning.message)".contains("cannot watch session folder"))
            #expect(warning.metadata["hint"].map { "\($0)" }?.contains("max_user_watches") == true)
            #expect((warning.error as? Errno) == .noSpace)

            // Not watched, yet what is written is still reported (polled).
            var log = OpLog(root: FilePath(root), sessionID: session)
            try log.append(actorID: "a", domain: "music", domainOp: .null)
            _ = try await batches.next(within: .seconds(60)) { $0.sessions[session]?.contains(.ops) == true }
            #expect(watches.attempts(suffix: "/op_log/stuck") >= 2, "retried")

            // The limit is raised: the next attempt watches it, and says so.
            watches.heal(suffix: "/op_log/stuck")
            let recovered = try await logs.next(within: .seconds(60)) {
                $0.level == .info && $0.metadata["session.id"] == "stuck"
            }
            #expect("\(recovered.message)".contains("watching session folder again"))
            let attemptsWhenWatched = watches.attempts(suffix: "/op_log/stuck")
            try log.append(actorID: "a", domain: "music", domainOp: .null)
            _ = try await batches.next(within: .seconds(60)) { $0.sessions[session]?.contains(.ops) == true }
            #expect(watches.attempts(suffix: "/op_log/stuck") == attemptsWhenWatched, "no more attempts once watched")
        }
    }

    /// A session made while the watcher runs whose watch fails (EACCES) is retried too, and a
    /// folder whose name is not a session id that appears asks for a rescan (whose listing names
    /// it for the consumer to log).
    @Test func aNewSessionFolderThatCannotBeWatchedIsRetried() async throws {
        let logs = WatchedLogs()
        let watches = FailingWatches()
        watches.fail(suffix: "/op_log/late", with: .permissionDenied)
        let session = try SessionID(validating: "late")
        try await self.withWatcher(
            logs: logs,
            retryPolicy: WatchRetryPolicy(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(40)),
            addWatch: watches.adder
        ) { root, batches in
            var log = OpLog(root: FilePath(root), sessionID: session)
            try log.append(actorID: "a", domain: "music", domainOp: .null)
            let warning = try await logs.next(within: .seconds(60)) {
                $0.level == .warning && $0.metadata["session.id"] == "late"
            }
            #expect((warning.error as? Errno) == .permissionDenied)
            #expect(warning.metadata["hint"] == nil)
            watches.heal(suffix: "/op_log/late")
            _ = try await logs.next(within: .seconds(60)) { $0.level == .info && $0.metadata["session.id"] == "late" }
            try log.append(actorID: "a", domain: "music", domainOp: .null)
            _ = try await batches.next(within: .seconds(60)) { $0.sessions[session]?.contains(.ops) == true }

            try FileManager.default.createDirectory(
                atPath: "\(root)/.muse/op_log/has space",
                withIntermediateDirectories: true
            )
            // Not a session: the batch asks for a rescan, whose listing names it (the consumer
            // logs it once, AgentCore.changedSessions).
            _ = try await batches.next(within: .seconds(60)) { $0.isRescanNeeded }
            let listing = try OpLogLayout(root: FilePath(root)).sessionListing()
            #expect(listing.skipped.map(\.name) == ["has space"])
        }
    }

    /// An op log folder that cannot be watched stops the watcher with a typed error.
    @Test func anOpLogFolderThatCannotBeWatchedIsThrown() async throws {
        let root = NSTemporaryDirectory() + "/oplog-watch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let watches = FailingWatches()
        watches.fail(suffix: "/op_log/", with: .noSpace)
        let logs = WatchedLogs()
        let watcher = OpLogWatcher(
            layout: OpLogLayout(root: FilePath(root)),
            logger: logs.logger,
            retryPolicy: WatchRetryPolicy(),
            addWatch: watches.adder
        )
        await #expect {
            try await watcher.run { _ in Issue.record("no batch from a watcher that could not start") }
        } throws: { error in
            guard let error = error as? OpLogError else { return false }
            return error.code == .watchFailed && error.message.contains("max_user_watches")
        }
        #expect(logs.entries.contains { $0.level == .error })
        // libinotifytools is free again for the next watcher.
        let next = OpLogWatcher(
            layout: OpLogLayout(root: FilePath(root)),
            logger: logs.logger
        )
        let watching = Task { try await next.run { _ in } }
        watching.cancel()
        try await watching.value
    }

    /// The op log folder removed while watched is made and watched again, and a rescan asked.
    @Test func anOpLogFolderRemovedWhileWatchedIsWatchedAgain() async throws {
        let logs = WatchedLogs()
        try await self.withWatcher(logs: logs) { root, batches in
            let session = try SessionID(validating: "s")
            do {
                // Appended through a handle closed before the folder goes: an open file in it
                // would delay the folder's own delete event until it is closed.
                var log = OpLog(root: FilePath(root), sessionID: session)
                try log.append(actorID: "a", domain: "music", domainOp: .null)
            }
            _ = try await batches.next(within: .seconds(60)) { $0.sessions[session]?.contains(.ops) == true }

            try FileManager.default.removeItem(atPath: "\(root)/.muse/op_log")
            _ = try await logs.next(within: .seconds(60)) {
                $0.level == .warning && "\($0.message)".contains("op log folder removed")
            }
            _ = try await batches.next(within: .seconds(60)) { $0.isRescanNeeded }
            var again = OpLog(root: FilePath(root), sessionID: session)
            try again.append(actorID: "a", domain: "music", domainOp: .null)
            _ = try await batches.next(within: .seconds(60)) { $0.sessions[session]?.contains(.ops) == true }
        }
    }
}

/// Watch additions that fail on purpose for paths ending in a given suffix, until healed.
final class FailingWatches: Sendable {
    private struct State {
        var failing: [String: Errno] = [:]
        var attempts: [String: Int] = [:]
    }

    private let state = Mutex(State())

    /// Makes every watch of a path ending in `suffix` fail with `error`.
    func fail(suffix: String, with error: Errno) {
        self.state.withLock { $0.failing[suffix] = error }
    }

    /// Lets watches of paths ending in `suffix` succeed again.
    func heal(suffix: String) {
        _ = self.state.withLock { $0.failing.removeValue(forKey: suffix) }
    }

    /// How many watches of paths ending in `suffix` were attempted.
    func attempts(suffix: String) -> Int {
        self.state.withLock { $0.attempts[suffix] ?? 0 }
    }

    var adder: WatchAdder {
        WatchAdder { path, mask in
            let failure = self.state.withLock { state -> Errno? in
                for (suffix, error) in state.failing where path.hasSuffix(suffix) {
                    state.attempts[suffix, default: 0] += 1
                    return error
                }
                for suffix in state.attempts.keys where path.hasSuffix(suffix) {
                    state.attempts[suffix, default: 0] += 1
                }
                return nil
            }
            return failure ?? WatchAdder.inotifyTools.add(path, mask)
        }
    }
}

/// A watcher's log: every entry kept (``InMemoryLogHandler``), and each one signalled as it is
/// logged, so that a test awaits the one it expects instead of polling for it.
final class WatchedLogs: Sendable {
    let handler = InMemoryLogHandler()
    private let logged: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (self.logged, self.continuation) = AsyncStream.makeStream(of: Void.self)
    }

    /// A logger that writes here.
    var logger: Logger {
        let handler = self.handler
        let signal = LoggedSignal(continuation: self.continuation)
        return Logger(label: "test.watch") { _ in MultiplexLogHandler([handler, signal]) }
    }

    var entries: [InMemoryLogHandler.Entry] { self.handler.entries }

    /// The first entry logged that satisfies `predicate`, already or once it is; fails after
    /// `timeout`.
    func next(
        within timeout: Duration,
        where predicate: @escaping @Sendable (InMemoryLogHandler.Entry) -> Bool
    ) async throws -> InMemoryLogHandler.Entry {
        let handler = self.handler
        // Checked again at each entry logged; the signals are buffered, so none logged between
        // this first look and the wait is missed.
        if let found = handler.entries.first(where: predicate) { return found }
        let signalled: Void? = try await firstElement(of: self.logged, within: timeout) { _ in
            handler.entries.contains(where: predicate)
        }
        guard signalled != nil, let found = handler.entries.first(where: predicate) else {
            Issue.record("no matching log entry within \(timeout): \(handler.entries)")
            throw CancellationError()
        }
        return found
    }
}

/// A log handler that writes nothing and signals each entry.
private struct LoggedSignal: LogHandler {
    let continuation: AsyncStream<Void>.Continuation
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        self.continuation.yield()
    }
}
