import Foundation
import OpLog
import SystemPackage
import Testing

@testable import OpLogAgent
@testable import OpLogReplication

/// The append → sync → acknowledge pipeline, driven as the core drives it, with real appenders
/// on a temporary log (the machine itself does no I/O).
@Suite struct SessionWritersTests {
    private let session = try! SessionID(validating: "live-1")
    private let other = try! SessionID(validating: "live-2")

    private func request(_ token: UInt64, session: SessionID? = nil) -> AppendRequest {
        AppendRequest(token: token, session: session ?? self.session, lines: [Array("{\"n\":\(token)}".utf8)])
    }

    private func written(_ request: AppendRequest, in root: FilePath) throws -> WrittenAppend {
        let log = SessionLog(layout: OpLogLayout(root: root), sessionID: request.session)
        return WrittenAppend(
            session: request.session,
            token: request.token,
            appender: try SessionAppender(opening: log),
            firstOffset: 0,
            isInPlace: true
        )
    }

    private func temporaryRoot() throws -> FilePath {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oplog-writers-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return FilePath(path)
    }

    @Test func withoutSyncsEachBatchCompletesAtOnceInOrder() throws {
        let root = try self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root.string) }
        var writers = SessionWriters(isSynchronizing: false)
        writers.enqueue(self.request(1))
        writers.enqueue(self.request(2))
        let first = try #require(writers.nextWrite(for: self.session))
        #expect(first.token == 1)
        do {
            let result = writers.finishWrite(self.session, .written(try self.written(first, in: root))) == .completion(.complete)
            #expect(result)
        }
        let second = try #require(writers.nextWrite(for: self.session))
        #expect(second.token == 2)
        do {
            let result = writers.finishWrite(self.session, .written(try self.written(second, in: root))) == .completion(.complete)
            #expect(result)
        }
        #expect(writers.nextWrite(for: self.session) == nil)
        #expect(!writers.isSyncInFlight)
    }

    @Test func oneSyncInFlightPerSessionHoldsBackLaterBatchesAndReads() throws {
        let root = try self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root.string) }
        var writers = SessionWriters(isSynchronizing: true)
        writers.enqueue(self.request(1))
        writers.enqueue(self.request(2))
        writers.enqueue(self.request(3, session: self.other))
        let first = try self.written(try #require(writers.nextWrite(for: self.session)), in: root)
        do {
            let result = writers.finishWrite(self.session, .written(first)) == .completion(.sync)
            #expect(result)
        }
        #expect(writers.isSyncInFlight)
        // The second batch of the session waits; another session does not.
        #expect(writers.nextWrite(for: self.session) == nil)
        #expect(writers.nextWrite(for: self.other)?.token == 3)
        // A read of the file waits for the sync, and is asked for once it is done.
        do {
            let result = writers.mayRead(self.session)
            #expect(!result)
        }
        do {
            let result = writers.mayRead(self.other)
            #expect(result)
        }
        do {
            let result = writers.syncFinished(first)
            #expect(result)
        }
        do {
            let result = writers.mayRead(self.session)
            #expect(result)
        }
        #expect(writers.nextWrite(for: self.session)?.token == 2)
    }

    @Test func aStalledBatchIsReportedOnceAndRetried() throws {
        let root = try self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root.string) }
        var writers = SessionWriters(isSynchronizing: false)
        writers.enqueue(self.request(1))
        do {
            let result = writers.finishWrite(self.session, .tailInProgress) == .stalled(isFirst: true)
            #expect(result)
        }
        #expect(writers.nextWrite(for: self.session) == nil)
        #expect(writers.stalledSessions == [self.session])
        do {
            let result = writers.retryStalled(self.session)
            #expect(result)
        }
        do {
            let result = writers.retryStalled(self.session)
            #expect(!result)
        }
        #expect(writers.nextWrite(for: self.session)?.token == 1)
        do {
            let result = writers.finishWrite(self.session, .tailInProgress) == .stalled(isFirst: false)
            #expect(result)
        }
        do {
            let result = writers.retryStalled(self.session)
            #expect(result)
        }
        let first = try self.written(try #require(writers.nextWrite(for: self.session)), in: root)
        do {
            let result = writers.finishWrite(self.session, .written(first)) == .completion(.complete)
            #expect(result)
        }
        #expect(writers.stalledSessions.isEmpty)
    }

    @Test func aFailedWriteIsDroppedAndTheNextGoesOn() throws {
        var writers = SessionWriters(isSynchronizing: true)
        writers.enqueue(self.request(1))
        writers.enqueue(self.request(2))
        let failure = OpLogError(code: .io, message: "disk full")
        do {
            let result = writers.finishWrite(self.session, .failed(failure)) == .failed(token: 1)
            #expect(result)
        }
        #expect(writers.nextWrite(for: self.session)?.token == 2)
    }

    @Test func shutdownWaitsForTheSyncInFlightThenSyncsInPlace() throws {
        let root = try self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root.string) }
        var writers = SessionWriters(isSynchronizing: true)
        writers.enqueue(self.request(1))
        let first = try self.written(try #require(writers.nextWrite(for: self.session)), in: root)
        do {
            let result = writers.finishWrite(self.session, .written(first)) == .completion(.sync)
            #expect(result)
        }
        writers.beginShutdown()
        #expect(!writers.isSyncingInPlace)
        // Draining: a batch of another session still goes to the sync service.
        writers.enqueue(self.request(2, session: self.other))
        let second = try self.written(try #require(writers.nextWrite(for: self.other)), in: root)
        do {
            let result = writers.finishWrite(self.other, .written(second)) == .completion(.sync)
            #expect(result)
        }
        do {
            let result = writers.syncFinished(first)
            #expect(!result)
        }
        #expect(writers.isSyncInFlight)
        do {
            let result = writers.syncFinished(second)
            #expect(!result)
        }
        #expect(!writers.isSyncInFlight)
        writers.finishShutdown()
        #expect(writers.isSyncingInPlace)
        writers.enqueue(self.request(3))
        let third = try self.written(try #require(writers.nextWrite(for: self.session)), in: root)
        do {
            let result = writers.finishWrite(self.session, .written(third)) == .completion(.syncInPlace)
            #expect(result)
        }
        #expect(!writers.isSyncInFlight)
    }
}
