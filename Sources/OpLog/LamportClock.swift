/// The next Lamport timestamp for a session, kept above every timestamp in its file.
///
/// Each call to ``next(for:)`` first reads only the lines appended since the previous call (by
/// anyone: this process, Muse's writer, the replication agent), so the timestamp it returns is
/// greater than every `lamport_ts` in the file at that moment (`max + 1`, DESIGN §3.6) and than
/// every timestamp it returned before. A file that was replaced or truncated is read again from
/// the start (see ``LogCursor``).
public struct LamportClock: Sendable {
    /// The greatest `lamport_ts` an entry may carry: 2^53 − 1, the greatest integer that every
    /// JSON reader (JavaScript's and Python's among them) reads exactly. A line with a greater
    /// one is not an entry (DESIGN §7), so one injected entry cannot push a session's clock to
    /// where the next timestamp overflows.
    public static let maximumTimestamp = 9_007_199_254_740_991

    private var cursor = LogCursor()
    /// The highest timestamp seen in the file.
    public private(set) var highestSeen = 0
    /// The highest timestamp handed out.
    public private(set) var highestIssued = 0

    public init() {}

    /// Offset just past the last complete line read: the file has no unfinished tail if it ends here.
    var scannedOffset: Int64 { self.cursor.offset }

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
    ///
    /// - Throws: `OpLogError` with code `.clockExhausted` when the file already holds an entry
    ///   with ``maximumTimestamp``, or an error of reading the file.
    public mutating func candidate(for log: SessionLog) throws(OpLogError) -> Int {
        try self.refresh(from: log)
        return try self.following(session: log.sessionID.rawValue)
    }

    /// As ``candidate(for:)``, reading through a file already open.
    mutating func candidate(from file: OpenLogFile, session: String) throws(OpLogError) -> Int {
        try self.refresh(from: file, isInodePinned: true)
        return try self.following(session: session)
    }

    /// The timestamp after every one seen and issued, if there is one.
    private func following(session: String) throws(OpLogError) -> Int {
        let highest = max(self.highestSeen, self.highestIssued)
        guard highest < Self.maximumTimestamp else {
            throw OpLogError(
                code: .clockExhausted,
                message:
                    "session \(SessionID.quoted(session)) holds an entry with lamport_ts \(highest), the greatest allowed (2^53 − 1): no entry can follow it"
            )
        }
        return highest + 1
    }

    /// Records that `timestamp` was used, so later timestamps are above it.
    public mutating func markIssued(_ timestamp: Int) {
        self.highestIssued = max(self.highestIssued, timestamp)
    }

    /// Records that this process appended `line` (with `lamportTimestamp`) and the file then
    /// ended at `endOffset`. When nothing else was appended in between, the clock moves past the
    /// line without reading it back; otherwise the next refresh reads the gap as usual.
    public mutating func noteAppended(line: [UInt8], lamportTimestamp: Int, endOffset: Int64) {
        if self.cursor.noteAppended(line: line, endOffset: endOffset) {
            self.highestSeen = max(self.highestSeen, lamportTimestamp)
        }
    }

    /// Reads what was appended since the last look, or everything if the file changed identity,
    /// shrank, or no longer holds the last entry read where it was.
    public mutating func refresh(from log: SessionLog) throws(OpLogError) {
        let isPresent = try log.withOpenFile { file throws(OpLogError) in
            try self.refresh(from: file, isInodePinned: false)
            return true
        }
        if isPresent == nil {
            self.cursor.reset()
            self.highestSeen = 0
        }
    }

    /// As ``refresh(from:)``, reading through a file already open; see
    /// ``LogCursor/prepare(_:isInodePinned:)`` for `isInodePinned`.
    mutating func refresh(from file: OpenLogFile, isInodePinned: Bool) throws(OpLogError) {
        let (wasReset, hasNewBytes) = try self.cursor.prepare(file, isInodePinned: isInodePinned)
        if wasReset { self.highestSeen = 0 }
        guard hasNewBytes else { return }
        var highest = self.highestSeen
        var lastEntry: (offset: Int64, length: Int)?
        let summary = try file.scan(from: self.cursor.offset, firstLineNumber: self.cursor.nextLineNumber) { record in
            highest = max(highest, record.lamportTimestamp)
            lastEntry = (record.position.offset, record.length)
        }
        self.highestSeen = highest
        try self.cursor.commit(summary, lastEntry: lastEntry, file: file)
    }
}
