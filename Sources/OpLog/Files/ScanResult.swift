/// The identity, clock and parents of one entry, read without building its `domain_op`: what
/// replication and verification need from a large log, held per entry in a few dozen bytes.
public struct OpIndexRecord: Sendable, Hashable {
    public var opID: OpID
    public var actorID: String
    public var lamportTimestamp: Int
    public var parentOpIDs: [OpID]
    /// Where the line is in the file.
    public var position: LinePosition
    /// The line's length in bytes, without its `\n`.
    public var length: Int

    /// The key of the canonical order.
    public var canonicalKey: CanonicalKey {
        CanonicalKey(lamportTimestamp: self.lamportTimestamp, actorID: self.actorID, opID: self.opID)
    }
}

/// A line that is not an entry: skipped, counted and reported, never fatal.
public struct RejectedLine: Sendable, CustomStringConvertible {
    public var position: LinePosition
    /// Why it was rejected (`.invalidJSON` or `.invalidEntry`, or a line over the length limit).
    public var reason: OpLogError

    public var description: String { "line \(self.position.lineNumber): \(self.reason.message)" }
}

/// What a pass over a session log found besides its entries.
public struct ScanSummary: Sendable {
    /// The most rejected lines kept in ``rejectedLines``; ``rejectedLineCount`` counts them all.
    public static let maximumReportedRejections = 1000

    /// Complete lines read (entries, blanks and rejected lines).
    public var lineCount = 0
    /// Valid entries read.
    public var entryCount = 0
    /// Lines holding only whitespace, skipped silently as Muse skips them.
    public var blankLineCount = 0
    /// Every rejected line, counted.
    public var rejectedLineCount = 0
    /// The first ``maximumReportedRejections`` rejected lines, with their line numbers.
    public var rejectedLines: [RejectedLine] = []
    /// Offset just past the last complete line: where the next pass should start.
    public var endOffset: Int64 = 0
    /// The line number the next complete line will have.
    public var nextLineNumber = 1
    /// Bytes after the last `\n`, not yet an entry (a writer mid-append, or a crashed one).
    /// Always 0 in a partial pass.
    public var unterminatedTailLength: Int64 = 0
    /// The pass stopped at its byte limit, at a line end: complete lines may follow
    /// ``endOffset``.
    public var isPartial = false

    /// Whether the file ends in a line without its `\n`.
    public var hasUnterminatedTail: Bool { self.unterminatedTailLength > 0 }

    public init() {}

    init(endOffset: Int64, nextLineNumber: Int) {
        self.endOffset = endOffset
        self.nextLineNumber = nextLineNumber
    }

    mutating func reject(_ position: LinePosition, _ reason: OpLogError) {
        self.rejectedLineCount += 1
        if self.rejectedLines.count < Self.maximumReportedRejections {
            self.rejectedLines.append(RejectedLine(position: position, reason: reason))
        }
    }
}
