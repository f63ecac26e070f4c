extension SessionLog {
    /// Appends complete lines to the session log, in the order given, creating the session's
    /// folder and file if needed.
    ///
    /// All lines go out in one `write(2)` on an `O_APPEND` descriptor, each followed by `\n`, so
    /// concurrent writers (Muse's Python writer included) never interleave bytes with them. An
    /// unterminated tail that has not changed for `staleTailAge` (a crashed writer) is closed
    /// with `\n` first; a younger one (a writer mid-append) makes the call throw
    /// `.tailInProgress` before anything is written.
    /// - Parameters:
    ///   - lines: the lines' bytes, without `\n`; each must be a single line.
    ///   - staleTailAge: how long a tail must be unchanged to count as abandoned.
    ///   - synchronize: `fdatasync` before returning, so the lines survive a power loss.
    ///   - now: the current wall-clock time, compared with the file's modification time.
    /// - Returns: the offset just past the written bytes.
    /// - Throws: `OpLogError` with code `.tailInProgress`, `.unsafePath` or `.io`; `.invalidEntry`
    ///   if a line contains `\n` (nothing is written then).
    /// - Complexity: O(bytes written), one `write(2)` (plus one `fdatasync` when asked).
    @discardableResult
    public func append(
        lines: [[UInt8]],
        staleTailAge: Duration = SessionLog.defaultStaleTailAge,
        synchronize: Bool = false,
        now: WallClockTime = .now()
    ) throws(OpLogError) -> Int64 {
        try AppendHandle(opening: self).append(
            lines: lines,
            staleTailAge: staleTailAge,
            synchronize: synchronize,
            now: now,
            knownCompleteEnd: nil
        )
    }
}
