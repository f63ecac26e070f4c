/// The next Lamport timestamp for a session, kept above every timestamp in its file.
///
/// Each call to ``next(for:)`` first reads only the lines appended since the previous call (by
/// anyone: this process, Muse's writer, the replication agent), so the timestamp it returns is
/// greater than every `lamport_ts` in the file at that moment (`max + 1`, DESIGN §3.6) and than
/// every timestamp it returned before. A file that was replaced or truncated (another inode, a
/// smaller size, or other bytes where the last entry read was) is read again from the start.
public struct LamportClock: Sendable {
    private struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64
    }

    /// The start of the last entry read (up to 4 KiB of it), to notice a file replaced under a
    /// reused inode: entries differ in their first bytes (the op id comes first).
    private struct Fingerprint {
        var range: Range<Int64>
        var bytes: [UInt8]
    }

    private static let fingerprintLength = 4096

    /// Offset just past the last complete line read: the file has no unfinished tail if it ends here.
    private(set) var scannedOffset: Int64 = 0
    private var nextLineNumber = 1
    private var fileIdentity: FileIdentity?
    private var fingerprint: Fingerprint?
    /// The highest timestamp seen in the file.
    public private(set) var highestSeen = 0
    /// The highest timestamp handed out.
    public private(set) var highestIssued = 0

    public init() {}

    /// Catches up with the file and returns the next timestamp.
    ///
    /// - Complexity: O(bytes appended since the last call), one open of the file.
    public mutating func next(for log: SessionLog) throws(OpLogError) -> Int {
        let timestamp = try self.candidate(for: log)
        self.markIssued(timestamp)
        return timestamp
    }

    /// Catches up with the file and returns the timestamp ``next(for:)`` would hand out,
    /// without handing it out: for a write that may still fail.
    public mutating func candidate(for log: SessionLog) throws(OpLogError) -> Int {
        try self.refresh(from: log)
        return max(self.highestSeen, self.highestIssued) + 1
    }

    /// As ``candidate(for:)``, reading through a file already open.
    mutating func candidate(from file: OpenLogFile) throws(OpLogError) -> Int {
        try self.refresh(from: file, isInodePinned: true)
        return max(self.highestSeen, self.highestIssued) + 1
    }

    /// Records that `timestamp` was used, so later timestamps are above it.
    public mutating func markIssued(_ timestamp: Int) {
        self.highestIssued = max(self.highestIssued, timestamp)
    }

    /// Records that this process appended `line` (with `lamportTimestamp`) and the file then
    /// ended at `endOffset`. When nothing else was appended in between, the clock moves past the
    /// line without reading it back; otherwise the next refresh reads the gap as usual.
    public mutating func noteAppended(line: [UInt8], lamportTimestamp: Int, endOffset: Int64) {
        let lineStart = endOffset - Int64(line.count) - 1
        guard lineStart == self.scannedOffset else { return }
        self.scannedOffset = endOffset
        self.nextLineNumber += 1
        self.highestSeen = max(self.highestSeen, lamportTimestamp)
        let length = min(line.count, Self.fingerprintLength)
        self.fingerprint = Fingerprint(
            range: lineStart..<(lineStart + Int64(length)),
            bytes: Array(line.prefix(length))
        )
    }

    /// Reads what was appended since the last look, or everything if the file changed identity,
    /// shrank, or no longer holds the last entry read where it was.
    public mutating func refresh(from log: SessionLog) throws(OpLogError) {
        let isPresent = try log.withOpenFile { file throws(OpLogError) in
            try self.refresh(from: file, isInodePinned: false)
            return true
        }
        if isPresent == nil { self.resetFile() }
    }

    /// As ``refresh(from:)``, reading through a file already open.
    ///
    /// `isInodePinned` says the caller held the file open since the last refresh, so the inode
    /// number cannot have been reused by a replacement file; then an unchanged size means an
    /// unchanged append-only file and nothing is read.
    mutating func refresh(from file: OpenLogFile, isInodePinned: Bool) throws(OpLogError) {
        let (device, inode, size) = try file.identityAndSize()
        let identity = FileIdentity(device: device, inode: inode)
        if let known = self.fileIdentity, known != identity || size < self.scannedOffset {
            self.resetFile()
        }
        self.fileIdentity = identity
        if isInodePinned && size == self.scannedOffset { return }
        if let fingerprint = self.fingerprint, try file.readBytes(in: fingerprint.range) != fingerprint.bytes {
            self.resetFile()
        }
        var highest = self.highestSeen
        var lastEntry: Range<Int64>?
        let summary = try file.scan(from: self.scannedOffset, firstLineNumber: self.nextLineNumber) { record in
            highest = max(highest, record.lamportTimestamp)
            let length = Int64(min(record.length, Self.fingerprintLength))
            lastEntry = record.position.offset..<(record.position.offset + length)
        }
        self.highestSeen = highest
        self.scannedOffset = summary.endOffset
        self.nextLineNumber = summary.nextLineNumber
        if let lastEntry {
            self.fingerprint = Fingerprint(range: lastEntry, bytes: try file.readBytes(in: lastEntry))
        }
    }

    private mutating func resetFile() {
        self.scannedOffset = 0
        self.nextLineNumber = 1
        self.fileIdentity = nil
        self.fingerprint = nil
        self.highestSeen = 0
    }
}
