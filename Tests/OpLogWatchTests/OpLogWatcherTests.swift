import Foundation
import InMemoryLogging
import Logging
import OpLog
import Synchronization
import SystemPackage
import Testing

@testable import OpLogWatch

/// The watcher against real files and real inotify. Every wait is bounded by a deadline that
/// fails the test; nothing sleeps to synchronise. libinotifytools is process-global, so the
/// suite runs one test at a time.
@Suite("inotify watcher", .serialized)
struct OpLogWatcherTests {
    /// Runs a watcher on a fresh root while `body` runs, handing it the stream of batches;
    /// each of `sessionsBefore` gets one entry before the watcher starts.
    func withWatcher(
        logs: WatchedLogs = WatchedLogs(),
        retryPolicy: WatchRetryPolicy = WatchRetryPolicy(),
        addWatch: WatchAdder = .inotifyTools,
        sessionsBefore: [SessionID] = [],
        _ body: (_ root: String, _ batches: Batches) async throws -> Void
    ) async throws {
        let root = NSTemporaryDirectory() + "/oplog-watch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        for session in sessionsBefore {
            var log = OpLog(root: FilePath(root), sessionID: session)
            try log.append(actorID: "a", domain: "music", domainOp: .null)
        }
        let batches = Batches()
        let watcher = OpLogWatcher(
            layout: OpLogLayout(root: FilePath(root)),
            logger: logs.logger,
            retryPolicy: retryPolicy,
            addWatch: addWatch
        )
        // Cancelled and awaited below, whatever the body does.
        let watching = Task { try await watcher.run { batches.add($0) } }
        var failure: (any Error)?
        do {
            // The first batch asks for a rescan: the watch is in place once it arrives.
            let first = try await batches.next(within: .seconds(60)) { $0.isRescanNeeded }
            #expect(first.isRescanNeeded)
            try await body(root, batches)
        } catch {
            failure = error
        }
        watching.cancel()
        try await watching.value
        if let failure { throw failure }
    }

    @Test func reportsAppendsCheckpointsAndSessionsCreatedWhileRunning() async throws {
        try await self.withWatcher { root, batches in
            let s1 = try SessionID(validating: "s1")
            var log = OpLog(root: FilePath(root), sessionID: s1)
            try log.append(actorID: "a", domain: "music", domainOp: .null)
            _ = try await batches.next(within: .seconds(60)) { $0.sessions[s1]?.contains(.ops) == true }

            // A session made while watching, then written to.
            let s2 = try SessionID(validating: "s2")
            var second = OpLog(root: FilePath(root), sessionID: s2)
            try second.append(actorID: "b", domain: "music", domainOp: .null)
            _ = try await batches.next(within: .seconds(60)) { $0.sessions[s2]?.contains(.ops) == true }
            try second.append(actorID: "b", domain: "music", domainOp: .null)
            _ = try await batches.next(within: .seconds(60)) { $0.sessions[s2]?.contains(.ops) == true }

            // A checkpoint replaced by rename (ours) and one rewritten in place (Muse's way).
            _ = try log.checkpoint(snapshotID: "snap-1")
            _ = try await batches.next(within: .seconds(60)) { $0.sessions[s1]?.contains(.checkpoint) == true }
            let path = "\(root)/.muse/op_log/s2/checkpoint.json"
            try Data("{\n  \"session_id\": \"s2\"\n}\n".utf8).write(to: URL(fileURLWithPath: path))
            _ = try await batches.next(within: .seconds(60)) { $0.sessions[s2]?.contains(.checkpoint) == true }

            // Other files in a session folder, and folders that are not sessions, are not news.
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(root)/.muse/op_log/s1/notes.txt"))
            try FileManager.default.createDirectory(atPath: "\(root)/.muse/op_log/not a session", withIntermediateDirectories: true)
            try log.append(actorID: "a", domain: "music", domainOp: .null)
            let batch = try await batches.next(within: .seconds(60)) { $0.sessions[s1]?.contains(.ops) == true }
            #expect(batch.sessions.keys.allSatisfy { $0 == s1 || $0 == s2 })
        }
    }

    /// 10,000 appends in a burst arrive as a few coalesced batches, each read with one pass.
    @Test func burstsAreCoalesced() async throws {
        try await self.withWatcher { root, batches in
            let session = try SessionID(validating: "burst")
            let log = SessionLog(layout: OpLogLayout(root: FilePath(root)), sessionID: session)
            var tail = SessionTail(log: log)
            let lines = (0..<10_000).map { index in
                Array(#"{"op_id":"u\#(index)","actor_id":"a","lamport_ts":\#(index + 1),"parent_op_ids":[],"domain":"m","domain_op":{}}"#.utf8)
            }
            // A foreign writer (as Muse's would): one write(2) per line on an O_APPEND descriptor.
            try log.append(lines: [lines[0]])
            let descriptor = open("\(root)/.muse/op_log/burst/ops.jsonl", O_WRONLY | O_APPEND)
            try #require(descriptor >= 0)
            for line in lines.dropFirst() {
                let bytes = line + [UInt8(ascii: "\n")]
                #expect(bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == bytes.count)
            }
            close(descriptor)
            var read = 0
            var batchCount = 0
            while read < lines.count {
                _ = try await batches.next(within: .seconds(30)) { $0.sessions[session] != nil }
                batchCount += 1
                read += try tail.readNew().entries.count
            }
            #expect(read == lines.count)
            #expect(batchCount < lines.count / 10, "\(batchCount) batches for \(lines.count) appends")
        }
    }

    @Test func onlyOneWatcherRunsPerProcess() async throws {
        try await self.withWatcher { root, _ in
            let second = OpLogWatcher(layout: OpLogLayout(root: FilePath(root)), logger: Logger(label: "test.watch", factory: { _ in InMemoryLogHandler() }))
            await #expect(throws: OpLogError.self) { try await second.run { _ in } }
        }
    }
}

/// Batches from a running watcher, in the order it reports them, each awaited as it comes.
final class Batches: Sendable {
    private let stream: AsyncStream<SessionChanges>
    private let continuation: AsyncStream<SessionChanges>.Continuation

    init() {
        (self.stream, self.continuation) = AsyncStream.makeStream(of: SessionChanges.self)
    }

    /// Called by the watcher's body.
    func add(_ batch: SessionChanges) {
        self.continuation.yield(batch)
    }

    /// The first batch not yet taken that satisfies `predicate`, once the watcher reports it
    /// (the ones before it are dropped); fails after `timeout`.
    func next(
        within timeout: Duration,
        where predicate: @escaping @Sendable (SessionChanges) -> Bool
    ) async throws -> SessionChanges {
        guard let batch = try await firstElement(of: self.stream, within: timeout, where: predicate) else {
            Issue.record("no matching batch within \(timeout)")
            throw CancellationError()
        }
        return batch
    }
}

/// The first element of `stream` that satisfies `predicate`, or nil when `timeout` passes (or
/// the stream ends) before one comes. A stream whose wait ran out is finished: it was cancelled.
func firstElement<Element: Sendable>(
    of stream: AsyncStream<Element>,
    within timeout: Duration,
    where predicate: @escaping @Sendable (Element) -> Bool
) async throws -> Element? {
    try await withThrowingTaskGroup(of: Element?.self) { group in
        group.addTask {
            for await element in stream where predicate(element) { return element }
            return nil
        }
        group.addTask {
            try await Task.sleep(for: timeout)  // the deadline, not a wait for the watcher
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
}
