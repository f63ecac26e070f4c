import Foundation
import OpLog
import OpLogReplication
import SystemPackage
import Testing

@testable import OpLogAgent

/// The entry index's file: what goes in comes back, and a torn or damaged tail is cut off at
/// load without losing the records before it.
@Suite struct EntryIndexTests {
    private let session = try! SessionID(validating: "live-1")

    private func stateDirectory() throws -> FilePath {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oplog-index-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return FilePath(path)
    }

    /// Three entries per record from `offset`: a content id, an opaque id with non-ASCII text,
    /// and a content id after a gap (a rejected line before it).
    private func record(first: UInt64, offset: Int64) throws -> EntryIndex.Record {
        let ids = [
            try OpID(validating: "sha256:" + String(repeating: "0123456789abcdef", count: 4)),
            try OpID(validating: "uuid-\(first)-caf\u{E9}-東京"),
            try OpID(validating: "sha256:" + String(repeating: "f", count: 63) + "\(first % 10)"),
        ]
        var entries: [IndexedEntry] = []
        var position = offset
        for (index, id) in ids.enumerated() {
            if index == 2 { position += 17 }
            let length = Int32(200 + index)
            let key = ReconciliationBound(lamport: first + UInt64(index) + 1_000_000, hash: UInt64.max - UInt64(index))
            entries.append(
                IndexedEntry(
                    opID: id,
                    location: EntryLocation(offset: position, length: length),
                    key: key,
                    contentHash: 0xC0FF_EE00_0000_0000 | first &+ UInt64(index)
                )
            )
            position += Int64(length) + 1
        }
        return EntryIndex.Record(
            firstSequence: first,
            entries: entries,
            resumeOffset: position + 5,
            resumeLineNumber: Int(first) + 4,
            lastLineDigest: 0xDEAD_BEEF_0000 + first
        )
    }

    private func written(_ state: FilePath, count: Int) throws -> (EntryIndex, [EntryIndex.Record]) {
        let index = EntryIndex(folder: StateFolder(openedAt: state))
        try index.create(self.session, device: 42, inode: 1 << 40)
        var records: [EntryIndex.Record] = []
        var offset: Int64 = 0
        for number in 0..<count {
            let record = try self.record(first: UInt64(number * 3 + 1), offset: offset)
            try index.append(record, session: self.session)
            records.append(record)
            offset = record.resumeOffset
        }
        return (index, records)
    }

    private func contents(_ index: EntryIndex) throws -> EntryIndex.Contents {
        guard case .found(let contents) = index.load(self.session) else {
            Issue.record("no index found")
            throw CancellationError()
        }
        return contents
    }

    private func fileSize(_ index: EntryIndex) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: index.path(self.session).string)
        return (attributes[.size] as? Int) ?? -1
    }

    private func append(_ bytes: [UInt8], to index: EntryIndex) throws {
        let handle = try #require(FileHandle(forWritingAtPath: index.path(self.session).string))
        handle.seekToEndOfFile()
        handle.write(Data(bytes))
        handle.closeFile()
    }

    @Test func recordsRoundTripWithExactOpIDsLocationsAndKeys() throws {
        let state = try self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: state.string) }
        let (index, records) = try self.written(state, count: 3)
        #expect(index.sessions() == [self.session])
        let contents = try self.contents(index)
        #expect(contents.device == 42 && contents.inode == 1 << 40)
        #expect(contents.records.count == 3)
        for (stored, record) in zip(contents.records, records) {
            #expect(stored.firstSequence == record.firstSequence)
            #expect(stored.count == record.entries.count)
            #expect(stored.resumeOffset == record.resumeOffset)
            #expect(stored.resumeLineNumber == record.resumeLineNumber)
            #expect(stored.lastLineDigest == record.lastLineDigest)
            #expect(stored.lastEntry == record.entries.last?.location)
            #expect(contents.entries(of: stored) == record.entries)
        }
        let perEntry = try self.fileSize(index) / 9
        #expect(perEntry < 80, "compact: \(perEntry) bytes per entry")
    }

    @Test func aTornLastRecordIsCutOffAndLaterRecordsAreReadAgain() throws {
        let state = try self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: state.string) }
        let (index, records) = try self.written(state, count: 2)
        let whole = try self.fileSize(index)
        try self.append([0xFF, 0x01, 0x00, 0x00, 0x07, 0x07], to: index)
        #expect(try self.contents(index).records.count == 2)
        #expect(try self.fileSize(index) == whole, "the torn bytes are cut off")

        let third = try self.record(first: 7, offset: records[1].resumeOffset)
        try index.append(third, session: self.session)
        let contents = try self.contents(index)
        #expect(contents.records.count == 3)
        #expect(contents.records.last.flatMap(contents.entries(of:)) == third.entries)
    }

    @Test(arguments: [
        (name: "a flipped bit in a record's entries", fromEnd: 20),
        (name: "a flipped bit in a record's checksum", fromEnd: 3),
        (name: "a flipped bit in a record's length", fromEnd: 0),
    ])
    func aDamagedRecordEndsTheIndexThere(name: String, fromEnd: Int) throws {
        let state = try self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: state.string) }
        let (index, _) = try self.written(state, count: 2)
        let path = index.path(self.session).string
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let secondStart = try self.contents(index).records[0].entryBytes.upperBound + 8
        let position = fromEnd == 0 ? secondStart + 1 : bytes.count - fromEnd
        bytes[position] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let contents = try self.contents(index)
        #expect(contents.records.count == 1, "\(name): the record before it stays")
        #expect(try self.fileSize(index) == secondStart)
    }

    @Test func aRecordOutOfSequenceEndsTheIndex() throws {
        let state = try self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: state.string) }
        let (index, records) = try self.written(state, count: 1)
        // Sequence numbers 4… follow 1…3; 10… would leave a gap.
        try index.append(try self.record(first: 10, offset: records[0].resumeOffset), session: self.session)
        #expect(try self.contents(index).records.count == 1)
    }

    @Test func aFileWithoutAValidHeaderIsUnreadable() throws {
        let state = try self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: state.string) }
        let (index, _) = try self.written(state, count: 1)
        let path = index.path(self.session).string
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[9] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        guard case .unreadable = index.load(self.session) else {
            Issue.record("a damaged header must read as unreadable")
            return
        }
        index.remove(self.session)
        guard case .missing = index.load(self.session) else {
            Issue.record("a removed index must read as missing")
            return
        }
    }

    @Test func entriesOutOfFileOrderAreRefused() throws {
        let state = try self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: state.string) }
        let (index, _) = try self.written(state, count: 0)
        var record = try self.record(first: 1, offset: 1000)
        record.entries.swapAt(0, 2)
        #expect(throws: AgentError.self) { try index.append(record, session: self.session) }
        #expect(try self.contents(index).records.isEmpty)
    }

    /// A content id is kept as its 32 digest bytes (tag 0), byte for byte what its digits spell;
    /// any other id, one that only looks like a content id included, verbatim (tag 1); both read
    /// back as the same id.
    @Test(arguments: [
        ("sha256:" + String(repeating: "0123456789abcdef", count: 4), true),
        ("sha256:" + String(repeating: "f", count: 63) + "0", true),
        ("sha256:" + String(repeating: "0123456789ABCDEF", count: 4), false),
        ("sha256:" + String(repeating: "a", count: 63), false),
        ("sha256:" + String(repeating: "a", count: 63) + "g", false),
        ("sha257:" + String(repeating: "a", count: 64), false),
        ("caf\u{E9}-" + String(repeating: "a", count: 64), false),
    ])
    func opIDsAreStoredAsTheirDigestOrVerbatim(_ text: String, isDigest: Bool) throws {
        let id = try OpID(validating: text)
        var writer = IndexWriter()
        writer.opID(id)
        if isDigest {
            let digits = Array(text.utf8.dropFirst(7))
            let expected = stride(from: 0, to: 64, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
            #expect(writer.bytes == [0] + expected)
        } else {
            #expect(writer.bytes == [1, UInt8(text.utf8.count)] + Array(text.utf8))
        }
        var reader = IndexReader(writer.bytes[...])
        #expect(reader.opID() == id)
        #expect(reader.isAtEnd)
    }
}
