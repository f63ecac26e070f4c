/// Reads a session's new complete entries as they are appended, one batch per call.
///
/// Each ``readNew()`` returns the entries appended since the previous call, in file order,
/// never an unfinished last line. When the file was replaced or truncated, the batch starts
/// again from the beginning of the new file and says so (``Batch/wasReset``): the caller must
/// then treat every entry as possibly known (deduplicate by op id), never re-ship blindly.
public struct SessionTail: Sendable {
    /// What one ``readNew()`` found.
    public struct Batch: Sendable {
        /// New entries, in file order.
        public var entries: [OpEntry] = []
        /// The byte offset of each entry's line in the file, parallel to ``entries``.
        public var offsets: [Int64] = []
        /// What the pass skipped (lines that are not entries) and where it stopped.
        public var summary: ScanSummary
        /// Whether the file was replaced or truncated since the previous call, so `entries`
        /// start from the top of the file.
        public var wasReset = false
        /// Whether the read stopped at its byte limit with more complete lines to come.
        public var hasMore: Bool { self.summary.isPartial }
    }

    public let log: SessionLog
    private var cursor = LogCursor()

    public init(log: SessionLog) {
        self.log = log
    }

    /// A tail that resumes where an earlier one stood (see
    /// ``LogCursor/init(offset:nextLineNumber:lastEntry:)``): lines before `offset` are not
    /// read again unless the file turns out to be another one.
    public init(log: SessionLog, resumingAt cursor: LogCursor) {
        self.log = log
        self.cursor = cursor
    }

    /// Offset just past the last complete line read.
    public var offset: Int64 { self.cursor.offset }

    /// The number the next complete line will have (1-based).
    public var nextLineNumber: Int { self.cursor.nextLineNumber }

    /// The device and inode of the file the last read found, if any read did.
    public var fileIdentity: (device: UInt64, inode: UInt64)? { self.cursor.fileIdentity }

    /// Records that this process appended `lines` (whole, in one write) ending the file at
    /// `endOffset`. When the tail had read everything before that write, it moves past the
    /// lines without reading them back, and returns `true`: the caller already knows them.
    /// Otherwise (another writer's lines came first) it returns `false` and the next
    /// ``readNew(maximumBytes:)`` reads them with the rest.
    public mutating func noteAppended(lines: [[UInt8]], endOffset: Int64) -> Bool {
        self.cursor.noteAppended(lines: lines, endOffset: endOffset)
    }

    /// The entries appended since the last call: all of them, or with `maximumBytes` those in
    /// the first lines of about that many bytes (``Batch/hasMore`` then says to call again), so
    /// that a large log is taken in pieces of bounded memory.
    ///
    /// - Complexity: O(bytes read); memory O(the entries returned).
    public mutating func readNew(maximumBytes: Int64 = .max) throws(OpLogError) -> Batch {
        let batch = try self.log.withOpenFile { file throws(OpLogError) -> Batch in
            let (wasReset, hasNewBytes) = try self.cursor.prepare(file, isInodePinned: false)
            var batch = Batch(
                summary: ScanSummary(endOffset: self.cursor.offset, nextLineNumber: self.cursor.nextLineNumber)
            )
            batch.wasReset = wasReset
            guard hasNewBytes else { return batch }
            var lastEntry: (offset: Int64, length: Int)?
            var entries: [OpEntry] = []
            var offsets: [Int64] = []
            batch.summary = try file.readLines(
                from: self.cursor.offset,
                firstLineNumber: self.cursor.nextLineNumber,
                byteLimit: maximumBytes
            ) {
                bytes,
                position throws(OpLogError) in
                entries.append(try OpEntry(line: bytes))
                offsets.append(position.offset)
                lastEntry = (position.offset, bytes.count)
            }
            batch.entries = entries
            batch.offsets = offsets
            try self.cursor.commit(batch.summary, lastEntry: lastEntry, file: file)
            return batch
        }
        if let batch { return batch }
        // No file (yet, or any more): start from the top when it appears.
        let wasReset = self.cursor.offset > 0
        self.cursor.reset()
        var empty = Batch(summary: ScanSummary())
        empty.wasReset = wasReset
        return empty
    }
}
