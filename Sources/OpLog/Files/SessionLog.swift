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

    /// Opens `ops.jsonl` for reading and calls `body` with it; returns `nil` without calling it
    /// when the session or the file does not exist. One open serves several reads.
    func withOpenFile<Result>(
        _ body: (OpenLogFile) throws(OpLogError) -> Result
    ) throws(OpLogError) -> Result? {
        guard let directory = try self.layout.openSessionDirectory(self.sessionID, create: false),
            let descriptor = try directory.openFile(Self.opsFileName, flags: O_RDONLY)
        else { return nil }
        defer { try? descriptor.close() }
        return try body(OpenLogFile(descriptor: descriptor, path: self.opsPath))
    }

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
        try self.withOpenFile { file throws(OpLogError) in
            try file.scan(from: start, firstLineNumber: firstLineNumber, body)
        } ?? ScanSummary(endOffset: start, nextLineNumber: firstLineNumber)
    }

    /// Streams fully decoded entries from `start`, in file order; otherwise as
    /// ``scan(from:firstLineNumber:_:)``.
    public func forEachEntry(
        from start: Int64 = 0,
        firstLineNumber: Int = 1,
        _ body: (OpEntry, LinePosition) throws(OpLogError) -> Void
    ) throws(OpLogError) -> ScanSummary {
        try self.withOpenFile { file throws(OpLogError) in
            try file.readLines(from: start, firstLineNumber: firstLineNumber) { bytes, position throws(OpLogError) in
                try body(try OpEntry(line: bytes), position)
            }
        } ?? ScanSummary(endOffset: start, nextLineNumber: firstLineNumber)
    }

    /// All entries in file order, with what was skipped.
    public func readAll() throws(OpLogError) -> (entries: [OpEntry], summary: ScanSummary) {
        var entries: [OpEntry] = []
        let summary = try self.forEachEntry { entry, _ in entries.append(entry) }
        return (entries, summary)
    }

    /// The bytes of the log in `range`, fewer if the file ends first; empty if it is missing.
    public func readBytes(in range: Range<Int64>) throws(OpLogError) -> [UInt8] {
        try self.withOpenFile { file throws(OpLogError) in try file.readBytes(in: range) } ?? []
    }

    /// The log file's identity and size now, or `nil` when it does not exist.
    public func fileStatus() throws(OpLogError) -> LogFileStatus? {
        try self.withOpenFile { file throws(OpLogError) in try file.status() }
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
