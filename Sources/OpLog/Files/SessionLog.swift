public import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files of one session, `ROOT/.muse/op_log/<session>/`: reading and appending `ops.jsonl`,
/// reading and replacing `checkpoint.json`.
///
/// Stateless: every call opens the files afresh, so it sees what other processes (Muse's own
/// writer among them) did in between. Nothing is written outside the session's folder, and no
/// symbolic link is followed inside the op log tree.
public struct SessionLog: Sendable, Hashable {
    public static let opsFileName = "ops.jsonl"
    public static let checkpointFileName = "checkpoint.json"
    /// Every checkpoint this library wrote or replaced, one compact JSON object per line.
    public static let checkpointHistoryFileName = "checkpoint_history.jsonl"
    /// How long an unterminated tail must stay unchanged before it counts as a crashed writer's.
    public static let defaultStaleTailAge: Duration = .seconds(10)

    public let layout: OpLogLayout
    public let sessionID: SessionID

    public init(layout: OpLogLayout, sessionID: SessionID) {
        self.layout = layout
        self.sessionID = sessionID
    }

    /// `ROOT/.muse/op_log/<session>/ops.jsonl`.
    public var opsPath: FilePath { self.layout.sessionPath(self.sessionID).appending(Self.opsFileName) }

    // MARK: - Reading

    /// Streams the entries' index records from `start` (a line boundary, 0 for the whole file)
    /// to the last complete line, without building `domain_op` values or holding the file.
    ///
    /// Lines that are not entries are skipped and reported in the summary; a missing session
    /// or file reads as empty.
    /// - Complexity: O(bytes read); memory O(longest line).
    public func scan(
        from start: Int64 = 0,
        firstLineNumber: Int = 1,
        _ body: (OpIndexRecord) throws(OpLogError) -> Void
    ) throws(OpLogError) -> ScanSummary {
        try self.readLines(from: start, firstLineNumber: firstLineNumber) { bytes, position throws(OpLogError) in
            let fields = try EntryFields.decode(bytes, keepingDomainOp: false)
            try body(
                OpIndexRecord(
                    opID: fields.opID,
                    actorID: fields.actorID,
                    lamportTimestamp: fields.lamportTimestamp,
                    parentOpIDs: fields.parentOpIDs,
                    position: position,
                    length: bytes.count
                )
            )
        }
    }

    /// Streams fully decoded entries from `start`, in file order; otherwise as ``scan(from:firstLineNumber:_:)``.
    public func forEachEntry(
        from start: Int64 = 0,
        firstLineNumber: Int = 1,
        _ body: (OpEntry, LinePosition) throws(OpLogError) -> Void
    ) throws(OpLogError) -> ScanSummary {
        try self.readLines(from: start, firstLineNumber: firstLineNumber) { bytes, position throws(OpLogError) in
            try body(try OpEntry(line: bytes), position)
        }
    }

    /// All entries in file order, with what was skipped.
    public func readAll() throws(OpLogError) -> (entries: [OpEntry], summary: ScanSummary) {
        var entries: [OpEntry] = []
        let summary = try self.forEachEntry { entry, _ in entries.append(entry) }
        return (entries, summary)
    }

    /// The shared loop: decode errors from `decode` reject the line; an error thrown by the
    /// caller's own body inside `decode` stops the pass.
    private func readLines(
        from start: Int64,
        firstLineNumber: Int,
        _ decode: (UnsafeBufferPointer<UInt8>, LinePosition) throws(OpLogError) -> Void
    ) throws(OpLogError) -> ScanSummary {
        var summary = ScanSummary()
        summary.endOffset = start
        summary.nextLineNumber = firstLineNumber
        guard let directory = try self.layout.openSessionDirectory(self.sessionID, create: false),
            let descriptor = try directory.openFile(Self.opsFileName, flags: O_RDONLY)
        else { return summary }
        defer { try? descriptor.close() }
        let reader = LineReader(descriptor: descriptor)
        let end: LineReadEnd
        do throws(LineReadFailure<OpLogError>) {
            end = try reader.read(from: start, firstLineNumber: firstLineNumber) { event throws(OpLogError) in
                summary.lineCount += 1
                switch event {
                case .oversized(let position, let length):
                    summary.reject(
                        position,
                        OpLogError(code: .invalidEntry, message: "line of \(length) bytes exceeds the \(reader.maximumLineLength)-byte limit")
                    )
                case .line(let bytes, let position):
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                        summary.blankLineCount += 1
                        return
                    }
                    do throws(OpLogError) {
                        try decode(bytes, position)
                        summary.entryCount += 1
                    } catch where error.code == .invalidJSON || error.code == .invalidEntry {
                        summary.reject(position, error)
                    }
                }
            }
        } catch {
            switch error {
            case .io(let failure), .body(let failure): throw failure
            }
        }
        summary.endOffset = end.endOffset
        summary.nextLineNumber = end.nextLineNumber
        summary.unterminatedTailLength = end.unterminatedTailLength
        return summary
    }

    /// The bytes of the log in `range`, fewer if the file ends first; empty if it is missing.
    public func readBytes(in range: Range<Int64>) throws(OpLogError) -> [UInt8] {
        guard !range.isEmpty,
            let directory = try self.layout.openSessionDirectory(self.sessionID, create: false),
            let descriptor = try directory.openFile(Self.opsFileName, flags: O_RDONLY)
        else { return [] }
        defer { try? descriptor.close() }
        var bytes = [UInt8](repeating: 0, count: range.count)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { raw in
                pread(descriptor.rawValue, raw.baseAddress.map { $0 + filled }, raw.count - filled, off_t(range.lowerBound) + off_t(filled))
            }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw OpLogError(code: .io, message: "cannot read \(self.opsPath)", cause: Errno(rawValue: errno))
            }
            if count == 0 { break }
            filled += count
        }
        return Array(bytes[0..<filled])
    }

    /// The log file's identity and size now, or `nil` when it does not exist.
    public func fileStatus() throws(OpLogError) -> LogFileStatus? {
        guard let directory = try self.layout.openSessionDirectory(self.sessionID, create: false),
            let descriptor = try directory.openFile(Self.opsFileName, flags: O_RDONLY)
        else { return nil }
        defer { try? descriptor.close() }
        return try LogFileStatus(descriptor: descriptor, path: self.opsPath)
    }
}

/// Identity, size and tail of a log file at one moment.
public struct LogFileStatus: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modificationTime: WallClockTime
    /// Whether the last byte is something other than `\n` (an unfinished line).
    public var hasUnterminatedTail: Bool

    init(descriptor: FileDescriptor, path: FilePath) throws(OpLogError) {
        var info = stat()
        guard fstat(descriptor.rawValue, &info) == 0 else {
            throw OpLogError(code: .io, message: "cannot stat \(path)", cause: Errno(rawValue: errno))
        }
        self.device = UInt64(info.st_dev)
        self.inode = UInt64(info.st_ino)
        self.size = Int64(info.st_size)
        self.modificationTime = WallClockTime(info.st_mtim)
        self.hasUnterminatedTail = false
        if self.size > 0 {
            var last: UInt8 = 0
            let count = pread(descriptor.rawValue, &last, 1, off_t(self.size - 1))
            guard count == 1 else {
                throw OpLogError(code: .io, message: "cannot read \(path)", cause: Errno(rawValue: errno))
            }
            self.hasUnterminatedTail = last != UInt8(ascii: "\n")
        }
    }
}
