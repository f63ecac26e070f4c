/// A session's `ops.jsonl` open for appending, with the write and the sync apart (a
/// replication agent syncs one batch while it checks the next): ``append(lines:staleTailAge:now:)`` puts lines in the file (one
/// `write(2)`, as ``SessionLog/append(lines:staleTailAge:synchronize:now:)``) and
/// ``synchronize()`` makes them durable, from any thread, so that the wait for the disk can
/// overlap the appender's other work.
///
/// The descriptor pins the file it opened: when the path comes to name another file (Muse or a
/// user replaced the log), ``isCurrent`` turns false and a new appender must be opened.
public final class SessionAppender: Sendable {
    private let handle: AppendHandle

    /// Opens (creating folders and file as needed) the log of `log`'s session, without
    /// following links.
    /// - Throws: `OpLogError` with code `.unsafePath` or `.io`.
    public init(opening log: SessionLog) throws(OpLogError) {
        self.handle = try AppendHandle(opening: log)
    }

    /// Whether the log's path still names the file this appender writes to.
    public var isCurrent: Bool { self.handle.isCurrent }

    /// Appends complete lines in one `write(2)`, without a sync; returns the offset just past
    /// them. An unfinished tail is handled as ``SessionLog/append(lines:staleTailAge:synchronize:now:)``
    /// does, and a failed write leaves nothing behind.
    /// - Throws: `OpLogError` with code `.tailInProgress`, `.io`, or `.invalidEntry` when a line
    ///   contains `\n` (nothing is written then).
    public func append(
        lines: [[UInt8]],
        staleTailAge: Duration = SessionLog.defaultStaleTailAge,
        now: WallClockTime = .now()
    ) throws(OpLogError) -> Int64 {
        try self.handle.append(
            lines: lines,
            staleTailAge: staleTailAge,
            synchronize: false,
            now: now,
            knownCompleteEnd: nil
        )
    }

    /// `fdatasync`: every line appended before the call survives a power loss once it returns.
    /// Blocks for as long as the disk takes; call it where blocking is allowed (a thread pool).
    /// - Throws: `OpLogError` with code `.io`; the lines are then in the file, but maybe not on
    ///   the disk.
    public func synchronize() throws(OpLogError) {
        try self.handle.synchronize()
    }

    /// The file's size now: where the next append starts unless another writer appends first.
    /// - Throws: `OpLogError` with code `.io`.
    public func size() throws(OpLogError) -> Int64 {
        try self.handle.size()
    }

    /// Cuts the file back to `lineStart` when it is still `size` bytes long and ends in an
    /// unfinished line starting exactly there: the torn end of an append whose process was
    /// killed in the middle of `write(2)` (a large write can stop short on SIGKILL). Returns
    /// whether it cut. Only that unfinished line goes (it is no entry); the file is checked
    /// again just before the cut, so bytes another writer appended meanwhile stay.
    /// - Throws: `OpLogError` with code `.io`.
    public func cutUnfinishedLine(startingAt lineStart: Int64, size: Int64) throws(OpLogError) -> Bool {
        try self.handle.cutUnfinishedLine(startingAt: lineStart, size: size)
    }

    /// Writes spaces over `range` when it still holds `expected` (no `\n` in it), and syncs:
    /// the torn start of a line that another writer's line was glued to after a crash, so that
    /// what remains of the line is the writer's entry. Returns whether it wrote; the file's
    /// size never changes.
    /// - Throws: `OpLogError` with code `.io`.
    public func blank(_ range: Range<Int64>, expecting expected: [UInt8]) throws(OpLogError) -> Bool {
        try self.handle.blank(range, expecting: expected)
    }
}
