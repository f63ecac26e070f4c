import Foundation
import OpLog
import OpLogReplication
import SystemPackage

/// A cache of what the engine knows of each session's `ops.jsonl`, kept in the state folder so
/// that a restart restores the entries instead of reading and verifying every line again.
///
/// One append-only binary file per session, `index/<session>.idx`: a header naming the log file
/// it describes (device and inode), then one record per run of sequence numbers the engine gave
/// out (``ReplicationAction/recordIndex(session:firstSequence:entries:lastLineDigest:)``), each
/// with a checksum. A torn or damaged record (a crash mid-write) ends the index there, and
/// ``load(_:)`` cuts it off, as ``OriginJournal`` does. Nothing is synced: after a crash the
/// index may lack its last records (their lines are read from the file again), and the checks
/// on start (``Record/resumeOffset`` within the file, the last indexed line's digest) keep a
/// record whose lines did not reach the disk from being believed.
///
/// Layout, integers little-endian, `varint` = unsigned LEB128:
/// ```
/// header  "OPLOGIX2" device:u64 inode:u64 checksum:u64          checksum of the 24 bytes before it
/// record  length:u32 body checksum:u64                           checksum of body (length bytes)
/// body    firstSequence count resumeOffset resumeLineNumber      varints
///         lastOffset lastLength lastLineDigest:u64               the record's last entry
///         entry × count
/// entry   gap length lamport:varint keyHash:u64 contentHash:u64 opID
///                                                                gap: bytes between the previous
///                                                                entry's `\n` and this line
/// opID    0x00 digest:32 bytes                                   "sha256:" + 64 lowercase hex
///         0x01 length:varint bytes                               any other id, verbatim
/// ```
/// A checksum is ``IndexedEntry/lineDigest(of:)`` of the bytes it covers. An entry of a
/// content-addressed id costs about 58 bytes. An index of another layout (version 1, before
/// `contentHash`) is not read: the session is indexed from its file again.
struct EntryIndex: Sendable {
    /// One run of entries, and where the log's reader stood after it.
    struct Record: Sendable {
        var firstSequence: UInt64
        var entries: [IndexedEntry]
        /// Offset just past the last line the reader had read (a line boundary at or after the
        /// last entry's `\n`: lines after it that are not entries were read too).
        var resumeOffset: Int64
        /// The number of the line at ``resumeOffset``.
        var resumeLineNumber: Int
        /// ``IndexedEntry/lineDigest(of:)`` of the last entry's line.
        var lastLineDigest: UInt64
    }

    /// A record as ``load(_:)`` found it, its entries still encoded.
    struct StoredRecord: Sendable {
        var firstSequence: UInt64
        var count: Int
        var resumeOffset: Int64
        var resumeLineNumber: Int
        var lastEntry: EntryLocation
        var lastLineDigest: UInt64
        /// Where its entries are in the file.
        var entryBytes: Range<Int>
    }

    /// A session's index as read from disk.
    struct Contents: Sendable {
        var device: UInt64
        var inode: UInt64
        /// The records, in sequence order from 1, each starting where the previous ended.
        var records: [StoredRecord]
        var path: FilePath

        /// The record's entries, read from the file again, or `nil` if they cannot be read or do
        /// not decode (a damaged record that kept a valid checksum, a file changed since).
        func entries(of record: StoredRecord) -> [IndexedEntry]? {
            guard let descriptor = try? FileDescriptor.open(self.path, .readOnly) else { return nil }
            defer { try? descriptor.close() }
            guard let bytes = EntryIndex.read(descriptor, record.entryBytes) else { return nil }
            var reader = IndexReader(bytes[...])
            var entries: [IndexedEntry] = []
            entries.reserveCapacity(record.count)
            var previousEnd: Int64 = 0
            for _ in 0..<record.count {
                guard let gap = reader.varint(), let length = reader.varint(), length <= UInt64(Int32.max),
                    let lamport = reader.varint(), let keyHash = reader.fixed(), let contentHash = reader.fixed(),
                    let opID = reader.opID()
                else { return nil }
                let (offset, overflow) = previousEnd.addingReportingOverflow(Int64(truncatingIfNeeded: gap))
                guard !overflow, offset >= 0 else { return nil }
                let location = EntryLocation(offset: offset, length: Int32(length))
                let key = ReconciliationBound(lamport: lamport, hash: keyHash)
                entries.append(IndexedEntry(opID: opID, location: location, key: key, contentHash: contentHash))
                previousEnd = offset + Int64(length) + 1
            }
            guard reader.isAtEnd else { return nil }
            return entries
        }
    }

    /// Every entry of an index's records, decoded one record at a time as they are iterated;
    /// a record that does not decode ends them. Its ``underestimatedCount`` is the records'
    /// total, so a consumer can size its tables once.
    struct Entries: Sequence {
        let contents: Contents

        var underestimatedCount: Int { self.contents.records.reduce(0) { $0 + $1.count } }

        struct Iterator: IteratorProtocol {
            let contents: Contents
            var nextRecord = 0
            var current: IndexingIterator<[IndexedEntry]> = [].makeIterator()

            mutating func next() -> IndexedEntry? {
                while true {
                    if let entry = self.current.next() { return entry }
                    guard self.nextRecord < self.contents.records.count,
                        let entries = self.contents.entries(of: self.contents.records[self.nextRecord])
                    else { return nil }
                    self.nextRecord += 1
                    self.current = entries.makeIterator()
                }
            }
        }

        func makeIterator() -> Iterator { Iterator(contents: self.contents) }
    }

    /// What ``load(_:)`` found.
    enum Loaded: Sendable {
        case missing
        /// The file is there but its header is not an index's.
        case unreadable
        case found(Contents)
    }

    static let magic = Array("OPLOGIX2".utf8)
    static let suffix = ".idx"
    static let headerLength = 32

    /// The state folder holding `index/`.
    let folder: StateFolder

    /// The index in `folder`; nothing is read or written until asked.
    init(folder: StateFolder) {
        self.folder = folder
    }

    /// Where the session's index is.
    func path(_ session: SessionID) -> FilePath {
        self.folder.path(of: .index(session))
    }

    /// The sessions that have an index file, in order; none when the folder cannot be listed
    /// (the index is a cache).
    func sessions() -> [SessionID] {
        (try? self.folder.sessions(in: .index)) ?? []
    }

    /// Reads the session's index, one record at a time (a large index is never held whole); a
    /// torn or damaged record ends it, and is cut off the file so that records appended later
    /// are readable.
    ///
    /// - Complexity: O(file size): one read and one checksum per record; memory O(largest
    ///   record).
    func load(_ session: SessionID) -> Loaded {
        let path = self.path(session)
        guard let descriptor = try? FileDescriptor.open(path, .readOnly) else { return .missing }
        defer { try? descriptor.close() }
        // Reads below are at absolute offsets, so the seek to the end only measures the size.
        guard let end = try? descriptor.seek(offset: 0, from: .end) else { return .unreadable }
        let size = Int(end)
        guard let bytes = Self.read(descriptor, 0..<Self.headerLength), Array(bytes[0..<8]) == Self.magic else {
            return .unreadable
        }
        var header = IndexReader(bytes[8...])
        guard let device = header.fixed(), let inode = header.fixed(), let checksum = header.fixed(),
            checksum == IndexedEntry.lineDigest(of: bytes[0..<24])
        else { return .unreadable }
        var records: [StoredRecord] = []
        var position = Self.headerLength
        var nextSequence: UInt64 = 1
        while let record = Self.record(in: descriptor, size: size, at: position, firstSequence: nextSequence) {
            records.append(record)
            position = record.entryBytes.upperBound + 8
            nextSequence += UInt64(record.count)
        }
        if position < size {
            // A record torn by a crash: cut it off, or every record appended after it would be
            // unreadable too.
            try? self.folder.truncate(.index(session), to: Int64(position), action: "cut the torn record off")
        }
        return .found(Contents(device: device, inode: inode, records: records, path: path))
    }

    /// The bytes of the file in `range`, or `nil` if they cannot all be read.
    static func read(_ descriptor: FileDescriptor, _ range: Range<Int>) -> [UInt8]? {
        var filled = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: range.count) { buffer, count in
            while filled < range.count {
                let rest = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[filled...]))
                let read = try? descriptor.read(fromAbsoluteOffset: Int64(range.lowerBound + filled), into: rest)
                guard let read, read > 0 else { break }
                filled += read
            }
            count = filled
        }
        return filled == range.count ? bytes : nil
    }

    /// The record at `position` if it is whole, its checksum matches and it continues the
    /// sequence at `firstSequence`.
    private static func record(
        in descriptor: FileDescriptor,
        size: Int,
        at position: Int,
        firstSequence: UInt64
    ) -> StoredRecord? {
        guard size - position >= 12, let framing = Self.read(descriptor, position..<(position + 4)) else { return nil }
        var lengthReader = IndexReader(framing[...])
        guard let length = lengthReader.fixed32(), size - position - 12 >= Int(length),
            let framed = Self.read(descriptor, (position + 4)..<(position + 12 + Int(length)))
        else { return nil }
        let body = framed[0..<Int(length)]
        var trailer = IndexReader(framed[Int(length)...])
        guard let checksum = trailer.fixed(), checksum == IndexedEntry.lineDigest(of: body) else { return nil }
        var reader = IndexReader(body)
        guard let first = reader.varint(), first == firstSequence,
            let count = reader.varint(), count > 0, count <= UInt64(length),
            let resumeOffset = reader.varint(), resumeOffset <= UInt64(Int64.max),
            let resumeLineNumber = reader.varint(), resumeLineNumber <= UInt64(Int.max),
            let lastOffset = reader.varint(), let lastLength = reader.varint(), lastLength <= UInt64(Int32.max),
            case let (lastEnd, overflow) = lastOffset.addingReportingOverflow(lastLength), !overflow,
            lastEnd < resumeOffset,
            let lastLineDigest = reader.fixed()
        else { return nil }
        return StoredRecord(
            firstSequence: first,
            count: Int(count),
            resumeOffset: Int64(resumeOffset),
            resumeLineNumber: Int(resumeLineNumber),
            lastEntry: EntryLocation(offset: Int64(lastOffset), length: Int32(lastLength)),
            lastLineDigest: lastLineDigest,
            entryBytes: (position + 4 + reader.position)..<(position + 4 + Int(length))
        )
    }

    /// Starts the session's index afresh for the log file with this identity, replacing any
    /// whole (``StateFolder/replace(_:with:synchronize:permissions:action:)``), not synced: after a crash
    /// the file may be missing or empty, which ``load(_:)`` reports as ``Loaded/missing`` or
    /// ``Loaded/unreadable``.
    ///
    /// - Throws: ``AgentError`` `.io`.
    func create(_ session: SessionID, device: UInt64, inode: UInt64) throws(AgentError) {
        var header = IndexWriter()
        header.bytes += Self.magic
        header.fixed(device)
        header.fixed(inode)
        let checksum = IndexedEntry.lineDigest(of: header.bytes)
        header.fixed(checksum)
        try self.folder.replace(
            .index(session),
            with: header.bytes,
            synchronize: false,
            action: "start the entry index"
        )
    }

    /// Appends one record to the session's index (started with ``create(_:device:inode:)``), in
    /// one write, not synced.
    ///
    /// - Throws: ``AgentError`` `.io` when the file cannot be written (or is missing), or
    ///   `.invalidRecord` when the entries are not in file order (nothing is written then).
    func append(_ record: Record, session: SessionID) throws(AgentError) {
        guard let last = record.entries.last else { return }
        var body = IndexWriter()
        body.varint(record.firstSequence)
        body.varint(UInt64(record.entries.count))
        body.varint(UInt64(record.resumeOffset))
        body.varint(UInt64(record.resumeLineNumber))
        body.varint(UInt64(last.location.offset))
        body.varint(UInt64(last.location.length))
        body.fixed(record.lastLineDigest)
        var previousEnd: Int64 = 0
        for entry in record.entries {
            guard entry.location.offset >= previousEnd, entry.location.length >= 0 else {
                throw AgentError(
                    code: .invalidRecord,
                    message: "entries to index in \(self.path(session)) are not in file order"
                )
            }
            body.varint(UInt64(entry.location.offset - previousEnd))
            body.varint(UInt64(entry.location.length))
            body.varint(entry.key.lamport)
            body.fixed(entry.key.hash)
            body.fixed(entry.contentHash)
            body.opID(entry.opID)
            previousEnd = entry.location.offset + Int64(entry.location.length) + 1
        }
        var framed = IndexWriter()
        framed.bytes.reserveCapacity(body.bytes.count + 12)
        framed.fixed32(UInt32(body.bytes.count))
        framed.bytes += body.bytes
        framed.fixed(IndexedEntry.lineDigest(of: body.bytes))
        try self.folder.append(
            framed.bytes,
            to: .index(session),
            synchronize: false,
            creating: false,
            action: "append to the entry index"
        )
    }

    /// Cuts the session's index after its first `recordCount` records (of `contents`), or
    /// removes it when that leaves none.
    func keep(_ recordCount: Int, of contents: Contents, session: SessionID) {
        guard recordCount > 0 else {
            self.remove(session)
            return
        }
        let end = contents.records[recordCount - 1].entryBytes.upperBound + 8
        try? self.folder.truncate(.index(session), to: Int64(end), action: "cut the entry index")
    }

    /// Removes the session's index, if any.
    func remove(_ session: SessionID) {
        try? self.folder.remove(.index(session))
    }
}
