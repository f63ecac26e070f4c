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
        let next = writers.nextWrite(for: self.session)
        let first = try #require(next)
        #expect(first.token == 1)
        do {
            let result = writers.finishWrite(self.session, .written(try self.written(first, in: root))) == .completion(.complete)
            #expect(result)
        }
        let next2 = writers.nextWrite(for: self.session)
        let second = try #require(next2)
        #expect(second.token == 2)
        do {
            let result = writers.finishWrite(self.session, .written(try self.written(second, in: root))) == .completion(.complete)
            #expect(result)
        }
        let next3 = writers.nextWrite(for: self.session)
        #expect(next3 == nil)
        #expect(!writers.isSyncInFlight)
    }

    @Test func oneSyncInFlightPerSessionHoldsBackLaterBatchesAndReads() throws {
        let root = try self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root.string) }
        var writers = SessionWriters(isSynchronizing: true)
        writers.enqueue(self.request(1))
        writers.enqueue(self.request(2))
        writers.enqueue(self.request(3, session: self.other))
        let next = writers.nextWrite(for: self.session)
        let first = try self.written(try #require(next), in: root)
        do {
            let result = writers.finishWrite(self.session, .written(first)) == .completion(.sync)
            #expect(result)
        }
        #expect(writers.isSyncInFlight)
        // The second batch of the session waits; another session does not.
        let next2 = writers.nextWrite(for: self.session)
        #expect(next2 == nil)
        let next3 = writers.nextWrite(for: self.other)
        #expect(next3?.token == 3)
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
        let next4 = writers.nextWrite(for: self.session)
        #expect(next4?.token == 2)
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
        let next = writers.nextWrite(for: self.session)
        #expect(next == nil)
        #expect(writers.stalledSessions == [self.session])
        do {
            let result = writers.retryStalled(self.session)
            #expect(result)
        }
        do {
            let result = writers.retryStalled(self.session)
            #expect(!result)
        }
        let next2 = writers.nextWrite(for: self.session)
        #expect(next2?.token == 1)
        do {
            let result = writers.finishWrite(self.session, .tailInProgress) == .stalled(isFirst: false)
            #expect(result)
        }
        do {
            let result = writers.retryStalled(self.session)
            #expect(result)
        }
        let next3 = writers.nextWrite(for: self.session)
        let first = try self.written(try #require(next3), in: root)
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
        let next = writers.nextWrite(for: self.session)
        #expect(next?.token == 2)
    }

    @Test func shutdownWaitsForTheSyncInFlightThenSyncsInPlace() throws {
        let root = try self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root.string) }
        var writers = SessionWriters(isSynchronizing: true)
        writers.enqueue(self.request(1))
        let next = writers.nextWrite(for: self.session)
        let first = try self.written(try #require(next), in: root)
        do {
            let result = writers.finishWrite(self.session, .written(first)) == .completion(.sync)
            #expect(result)
        }
        writers.beginShutdown()
        #expect(!writers.isSyncingInPlace)
        // Draining: a batch of another session still goes to the sync service.
        writers.enqueue(self.request(2, session: self.other))
        let next2 = writers.nextWrite(for: self.other)
        let second = try self.written(try #require(next2), in: root)
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
        let next3 = writers.nextWrite(for: self.session)
        let third = try self.written(try #require(next3), in: root)
        do {
            let result = writers.finishWrite(self.session, .written(third)) == .completion(.syncInPlace)
            #expect(result)
        }
        #expect(!writers.isSyncInFlight)
    }

    /// Writes the session's next batch for a sync; fails the test unless the pipeline lets it.
    private func writeForSync(
        _ writers: inout SessionWriters,
        _ session: SessionID,
        in root: FilePath,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> WrittenAppend {
        let next = writers.nextWrite(for: session)
        let request = try #require(next, sourceLocation: sourceLocation)
        let written = try self.written(request, in: root)
        let result = writers.finishWrite(session, .written(written)) == .completion(.sync)
        #expect(result, sourceLocation: sourceLocation)
        return written
    }

    private func sessions(_ count: Int) throws -> [SessionID] {
        try (1...count).map { try SessionID(validating: "live-\($0)") }
    }

    @Test func writtenBatchesWaitingForTheirSyncAreCappedAcrossSessionsAndServedInOrder() throws {
        let root = try self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root.string) }
        var writers = SessionWriters(isSynchronizing: true, maximumSyncsInFlight: 2)
        let live = try self.sessions(5)
        for (index, session) in live.enumerated() { writers.enqueue(self.request(UInt64(index + 1), session: session)) }
        let first = try self.writeForSync(&writers, live[0], in: root)
        let second = try self.writeForSync(&writers, live[1], in: root)
        // Both slots are taken: the third and fourth session wait, in the order they asked.
        let next = writers.nextWrite(for: live[2])
        #expect(next == nil)
        let next2 = writers.nextWrite(for: live[3])
        #expect(next2 == nil)
        let next3 = writers.nextWrite(for: live[2])
        #expect(next3 == nil)
        let given = writers.takeSessionsGivenASlot()
        #expect(given.isEmpty)
        let wasReadDeferred = writers.syncFinished(first)
        #expect(wasReadDeferred == false)
        let given2 = writers.takeSessionsGivenASlot()
        #expect(given2 == [live[2]])
        let given3 = writers.takeSessionsGivenASlot()
        #expect(given3.isEmpty)
        // The fifth session comes late: the freed slot is the third's, and the fourth is ahead.
        let next4 = writers.nextWrite(for: live[4])
        #expect(next4 == nil)
        let next5 = writers.nextWrite(for: live[3])
        #expect(next5 == nil)
        let third = try self.writeForSync(&writers, live[2], in: root)
        let wasReadDeferred2 = writers.syncFinished(second)
        #expect(wasReadDeferred2 == false)
        let given4 = writers.takeSessionsGivenASlot()
        #expect(given4 == [live[3]])
        let fourth = try self.writeForSync(&writers, live[3], in: root)
        let wasReadDeferred3 = writers.syncFinished(third)
        #expect(wasReadDeferred3 == false)
        let wasReadDeferred4 = writers.syncFinished(fourth)
        #expect(wasReadDeferred4 == false)
        let given5 = writers.takeSessionsGivenASlot()
        #expect(given5 == [live[4]])
        let fifth = try self.writeForSync(&writers, live[4], in: root)
        let wasReadDeferred5 = writers.syncFinished(fifth)
        #expect(wasReadDeferred5 == false)
        #expect(!writers.isSyncInFlight)
        let given6 = writers.takeSessionsGivenASlot()
        #expect(given6.isEmpty)
        // Nothing is left: a new batch of the first session takes a slot at once.
        writers.enqueue(self.request(6, session: live[0]))
        let next6 = writers.nextWrite(for: live[0])
        #expect(next6?.token == 6)
    }

    @Test func aSlotIsGivenUpByAWriteThatStallsOrFails() throws {
        let root = try self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root.string) }
        var writers = SessionWriters(isSynchronizing: true, maximumSyncsInFlight: 1)
        let live = try self.sessions(4)
        for (index, session) in live.enumerated() { writers.enqueue(self.request(UInt64(index + 1), session: session)) }
        let first = try self.writeForSync(&writers, live[0], in: root)
        for session in live.dropFirst() {
            let next = writers.nextWrite(for: session)
            #expect(next == nil)
        }
        let wasReadDeferred = writers.syncFinished(first)
        #expect(wasReadDeferred == false)
        let given = writers.takeSessionsGivenASlot()
        #expect(given == [live[1]])
        // The second session's writer is mid-line: its slot goes to the third.
        let next2 = writers.nextWrite(for: live[1])
        #expect(next2?.token == 2)
        let afterWrite = writers.finishWrite(live[1], .tailInProgress)
        #expect(afterWrite == .stalled(isFirst: true))
        let given2 = writers.takeSessionsGivenASlot()
        #expect(given2 == [live[2]])
        // The third's write fails: its slot goes to the fourth.
        let next3 = writers.nextWrite(for: live[2])
        #expect(next3?.token == 3)
        let failure = OpLogError(code: .io, message: "disk full")
        let afterWrite2 = writers.finishWrite(live[2], .failed(failure))
        #expect(afterWrite2 == .failed(token: 3))
        let given3 = writers.takeSessionsGivenASlot()
        #expect(given3 == [live[3]])
        let fourth = try self.writeForSync(&writers, live[3], in: root)
        // The stalled session, retried, waits for the slot like any other.
        let wasStalled = writers.retryStalled(live[1])
        #expect(wasStalled)
        let next4 = writers.nextWrite(for: live[1])
        #expect(next4 == nil)
        let wasReadDeferred2 = writers.syncFinished(fourth)
        #expect(wasReadDeferred2 == false)
        let given4 = writers.takeSessionsGivenASlot()
        #expect(given4 == [live[1]])
        let next5 = writers.nextWrite(for: live[1])
        #expect(next5?.token == 2)
    }

    @Test func sessionsWaitingForASlotAtShutdownAreWrittenAndSyncedInPlace() throws {
        let root = try self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root.string) }
        var writers = SessionWriters(isSynchronizing: true, maximumSyncsInFlight: 1)
        let live = try self.sessions(3)
        for (index, session) in live.enumerated() { writers.enqueue(self.request(UInt64(index + 1), session: session)) }
        let first = try self.writeForSync(&writers, live[0], in: root)
        let next = writers.nextWrite(for: live[1])
        #expect(next == nil)
        let next2 = writers.nextWrite(for: live[2])
        #expect(next2 == nil)
        writers.beginShutdown()
        let wasReadDeferred = writers.syncFinished(first)
        #expect(wasReadDeferred == false)
        let given = writers.takeSessionsGivenASlot()
        #expect(given == [live[1]])
        #expect(!writers.isSyncInFlight)
        writers.finishShutdown()
        // The second already had its turn; the third is let go now.
        let given2 = writers.takeSessionsGivenASlot()
        #expect(given2 == [live[2]])
        for (index, session) in live.enumerated().dropFirst() {
            let next3 = writers.nextWrite(for: session)
            let request = try #require(next3)
            #expect(request.token == UInt64(index + 1))
            let written = try self.written(request, in: root)
            let afterWrite = writers.finishWrite(session, .written(written))
            #expect(afterWrite == .completion(.syncInPlace))
        }
        #expect(!writers.isSyncInFlight)
    }
}
