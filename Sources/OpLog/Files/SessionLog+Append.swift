import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        if let index = lines.firstIndex(where: { $0.contains(UInt8(ascii: "\n")) }) {
            throw OpLogError(code: .invalidEntry, message: "line \(index + 1) of the batch contains a newline")
        }
        guard let directory = try self.layout.openSessionDirectory(self.sessionID, create: true),
            let descriptor = try directory.openFile(Self.opsFileName, flags: O_RDWR | O_APPEND | O_CREAT)
        else { preconditionFailure("opening with create either succeeds or throws") }
        defer { try? descriptor.close() }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(lines.reduce(1) { $0 + $1.count + 1 })
        let status = try LogFileStatus(descriptor: descriptor, path: self.opsPath)
        if status.hasUnterminatedTail {
            let age = now.duration(since: status.modificationTime)
            guard age >= staleTailAge else {
                throw OpLogError(
                    code: .tailInProgress,
                    message: "\(self.opsPath) ends in an unfinished line changed \(age) ago; a writer may be mid-append"
                )
            }
            bytes.append(UInt8(ascii: "\n"))
        }
        for line in lines {
            bytes.append(contentsOf: line)
            bytes.append(UInt8(ascii: "\n"))
        }
        do {
            try descriptor.writeAll(bytes)
        } catch {
            throw OpLogError(code: .io, message: "cannot append to \(self.opsPath)", cause: error)
        }
        if synchronize {
            guard fdatasync(descriptor.rawValue) == 0 else {
                throw OpLogError(code: .io, message: "cannot sync \(self.opsPath)", cause: Errno(rawValue: errno))
            }
        }
        // With O_APPEND the offset after write(2) is the end of our own bytes, whoever appends next.
        let end = lseek(descriptor.rawValue, 0, SEEK_CUR)
        return Int64(end)
    }
}
