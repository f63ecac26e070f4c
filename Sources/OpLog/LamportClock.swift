/// The next Lamport timestamp for a session, kept above every timestamp in its file.
///
/// Each call to ``next(for:)`` first reads only the lines appended since the previous call (by
/// anyone: this process, Muse's writer, the replication agent), so the timestamp it returns is
/// greater than every `lamport_ts` in the file at that moment (`max + 1`, DESIGN §3.6) and than
/// every timestamp it returned before. A file that was replaced or truncated (another inode, a
/// smaller size, or different bytes just before the point already read) is read again from the
/// start.
public struct LamportClock: Sendable {
    private var scannedOffset: Int64 = 0
    private var nextLineNumber = 1
    private var fileIdentity: (device: UInt64, inode: UInt64)?
    /// The start of the last entry read (up to 4 KiB of it), to notice a file replaced under a
    /// reused inode: entries differ in their first bytes (the op id comes first).
    private var fingerprint: (range: Range<Int64>, bytes: [UInt8])?
    private static let fingerprintLength: Int64 = 4096
    /// The highest timestamp seen in the file.
    public private(set) var highestSeen = 0
    /// The highest timestamp handed out.
    public private(set) var highestIssued = 0

    public init() {}

    /// Catches up with the file and returns the next timestamp.
    ///
    /// - Complexity: O(bytes appended since the last call).
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

    /// Records that `timestamp` was used, so later timestamps are above it.
    public mutating func markIssued(_ timestamp: Int) {
        self.highestIssued = max(self.highestIssued, timestamp)
    }

    /// Reads what was appended since the last look, or everything if the file changed identity
    /// or shrank.
    public mutating func refresh(from log: SessionLog) throws(OpLogError) {
        guard let status = try log.fileStatus() else {
            self.resetFile()
            return
        }
        if let identity = self.fileIdentity,
            identity.device != status.device || identity.inode != status.inode || status.size < self.scannedOffset
        {
            self.resetFile()
        }
        if let fingerprint = self.fingerprint, try log.readBytes(in: fingerprint.range) != fingerprint.bytes {
            self.resetFile()
        }
        self.fileIdentity = (status.device, status.inode)
        var highest = self.highestSeen
        var lastEntry: Range<Int64>?
        let summary = try log.scan(from: self.scannedOffset, firstLineNumber: self.nextLineNumber) { record in
            highest = max(highest, record.lamportTimestamp)
            lastEntry = record.position.offset..<(record.position.offset + min(Int64(record.length), Self.fingerprintLength))
        }
        self.highestSeen = highest
        self.scannedOffset = summary.endOffset
        self.nextLineNumber = summary.nextLineNumber
        if let lastEntry {
            self.fingerprint = (lastEntry, try log.readBytes(in: lastEntry))
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
