/// How far a reader has read a session's `ops.jsonl`, and whether the file is still the one it
/// read: the shared core of every incremental reader (the Lamport clock, the watcher's tail).
///
/// A reader calls ``prepare(_:isInodePinned:)``, reads complete lines from ``offset``, then
/// ``commit(_:lastEntry:file:)``. A file that was replaced or truncated (another inode, a
/// smaller size, or other bytes where the last entry read was) sends the cursor back to the
/// start, and ``prepare(_:isInodePinned:)`` says so.
public struct LogCursor: Sendable {
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

    static let fingerprintLength = 4096

    /// Offset just past the last complete line read.
    public private(set) var offset: Int64 = 0
    /// The number the next complete line will have.
    public private(set) var nextLineNumber = 1
    private var identity: FileIdentity?
    private var fingerprint: Fingerprint?

    public init() {}

    /// A cursor that resumes just past what an earlier read reached, as recorded by the caller:
    /// the next read starts at `offset` with line number `nextLineNumber`. `lastEntry` is the
    /// start and bytes (without `\n`) of the last entry before `offset`, as the caller knows
    /// them; the first read checks the file still holds them there, and starts over from the top
    /// (a reset) when it does not, as for a file replaced between two reads.
    public init(offset: Int64, nextLineNumber: Int, lastEntry: (offset: Int64, bytes: [UInt8])?) {
        self.offset = offset
        self.nextLineNumber = nextLineNumber
        if let lastEntry {
            let length = min(lastEntry.bytes.count, Self.fingerprintLength)
            self.fingerprint = Fingerprint(
                range: lastEntry.offset..<(lastEntry.offset + Int64(length)),
                bytes: Array(lastEntry.bytes.prefix(length))
            )
        }
    }

    /// The device and inode of the file the last read found, if any read did.
    public var fileIdentity: (device: UInt64, inode: UInt64)? {
        self.identity.map { ($0.device, $0.inode) }
    }

    /// Checks the file against what was read; returns whether the cursor went back to the start
    /// (the file was replaced or truncated) and whether there may be new bytes to read.
    ///
    /// `isInodePinned` says the caller held the file open since the last commit, so the inode
    /// number cannot have been reused by a replacement; an unchanged size then means nothing new.
    mutating func prepare(
        _ file: OpenLogFile,
        isInodePinned: Bool
    ) throws(OpLogError) -> (wasReset: Bool, hasNewBytes: Bool) {
        let (device, inode, size) = try file.identityAndSize()
        let current = FileIdentity(device: device, inode: inode)
        var wasReset = false
        if let known = self.identity, known != current || size < self.offset {
            self.reset()
            wasReset = true
        }
        self.identity = current
        if isInodePinned && size == self.offset { return (wasReset, false) }
        if let fingerprint = self.fingerprint, try file.readBytes(in: fingerprint.range) != fingerprint.bytes {
            self.reset()
            self.identity = current
            wasReset = true
        }
        return (wasReset, size > self.offset)
    }

    /// Records a read that ended as `summary` says; `lastEntry` is where the last entry read
    /// starts and how long it is, if any was read.
    mutating func commit(
        _ summary: ScanSummary,
        lastEntry: (offset: Int64, length: Int)?,
        file: OpenLogFile
    ) throws(OpLogError) {
        self.offset = summary.endOffset
        self.nextLineNumber = summary.nextLineNumber
        if let lastEntry {
            let range = lastEntry.offset..<(lastEntry.offset + Int64(min(lastEntry.length, Self.fingerprintLength)))
            self.fingerprint = Fingerprint(range: range, bytes: try file.readBytes(in: range))
        }
    }

    /// Records that this process appended `line`, ending the file at `endOffset`: when nothing
    /// else was appended in between, the cursor moves past it without reading it back.
    /// Returns whether it did.
    mutating func noteAppended(line: [UInt8], endOffset: Int64) -> Bool {
        self.noteAppended(lines: [line], endOffset: endOffset)
    }

    /// Records that this process appended `lines` in one write, ending the file at
    /// `endOffset`: when nothing else was appended between the last read and that write, the
    /// cursor moves past them without reading them back. Returns whether it did.
    mutating func noteAppended(lines: [[UInt8]], endOffset: Int64) -> Bool {
        guard let last = lines.last else { return false }
        let total = lines.reduce(Int64(0)) { $0 + Int64($1.count) + 1 }
        guard endOffset - total == self.offset else { return false }
        let lastStart = endOffset - Int64(last.count) - 1
        self.offset = endOffset
        self.nextLineNumber += lines.count
        let length = min(last.count, Self.fingerprintLength)
        self.fingerprint = Fingerprint(
            range: lastStart..<(lastStart + Int64(length)),
            bytes: Array(last.prefix(length))
        )
        return true
    }

    /// Back to the start of an unknown file.
    mutating func reset() {
        self.offset = 0
        self.nextLineNumber = 1
        self.identity = nil
        self.fingerprint = nil
    }
}
