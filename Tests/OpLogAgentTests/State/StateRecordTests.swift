import Foundation
import OpLog
import OpLogReplication
import SystemPackage
import Testing

@testable import OpLogAgent

/// The records a read-only replica keeps in its state folder so that a restart still forwards
/// what it received: arrivals by op id, and the greatest peer checkpoint.
@Suite struct StateRecordTests {
    private let session = try! SessionID(validating: "live-1")

    private func stateDirectory() throws -> FilePath {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oplog-state-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return FilePath(path)
    }

    private func opID(_ digit: Character) -> OpID {
        try! OpID(validating: "sha256:" + String(repeating: digit, count: 64))
    }

    @Test func arrivalsRoundTripAcrossRecordsAndSkipATornLastLine() throws {
        let state = try self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: state.string) }
        var journal = ArrivalJournal(folder: StateFolder(openedAt: state))
        let first = [Arrival(opID: self.opID("a"), peer: NodeID("studio")), Arrival(opID: self.opID("b"), peer: NodeID("ñode/東京"))]
        try journal.record(first, session: self.session, synchronize: true)
        try journal.record([Arrival(opID: self.opID("c"), peer: NodeID("laptop"))], session: self.session, synchronize: false)
        #expect(try journal.load() == [self.session: first + [Arrival(opID: self.opID("c"), peer: NodeID("laptop"))]])

        // A crash mid-record leaves a torn last line: the complete ones still count.
        let path = state.appending("arrivals").appending("live-1.jsonl").string
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"["sha256:dd"#.utf8))
        handle.closeFile()
        #expect(try journal.load()[self.session]?.count == 3)

        journal.removeAll()
        #expect(try journal.load().isEmpty)
    }

    @Test func theOriginJournalDoesNotReadArrivals() throws {
        let state = try self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: state.string) }
        var arrivals = ArrivalJournal(folder: StateFolder(openedAt: state))
        try arrivals.record([Arrival(opID: self.opID("a"), peer: NodeID("studio"))], session: self.session, synchronize: false)
        let origins = OriginJournal(folder: StateFolder(openedAt: state))
        try origins.append([NodeID("studio"), nil][...], session: self.session)
        try origins.synchronize()
        #expect(try origins.load() == [self.session: [NodeID("studio"), nil]])
    }

    /// A record torn by a crash is cut off when the journal is loaded, so records appended
    /// after the restart are read back too.
    @Test func aTornOriginRecordIsCutOffOnLoad() throws {
        let state = try self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: state.string) }
        let origins = OriginJournal(folder: StateFolder(openedAt: state))
        try origins.append([NodeID("studio"), NodeID("studio"), nil][...], session: self.session)
        let path = state.appending("origins").appending("live-1.jsonl").string
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"[4,"lap"#.utf8))
        handle.closeFile()
        #expect(try origins.load() == [self.session: [NodeID("studio"), NodeID("studio"), nil]])
        try origins.append([NodeID("laptop")][...], session: self.session)
        #expect(try origins.load() == [self.session: [NodeID("studio"), NodeID("studio"), nil, NodeID("laptop")]])
    }

    @Test func remoteCheckpointsKeepTheirExactBytes() throws {
        let state = try self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: state.string) }
        let record = RemoteCheckpointRecord(folder: StateFolder(openedAt: state))
        #expect(try record.load().isEmpty)
        let checkpoint = try Checkpoint(
            bytes: Array(#"{"session_id": "live-1", "snapshot_id": "caf\u00e9 é/", "lamport_ts": 7, "op_count": 3, "created_at": "2026-11-26T00:00:00+00:00", "extra": [1.50]}"#.utf8)
        )
        try record.save([self.session: checkpoint])
        let loaded = try record.load()
        #expect(loaded[self.session]?.bytes == checkpoint.bytes)
    }
}
