public import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one look at a session's `checkpoint.json` found, without waiting: see
/// ``SessionLog/checkpointState(now:settleAge:)``.
///
/// Muse rewrites `checkpoint.json` in place (truncate, then write), so a reader can catch it
/// empty or half-written. One look cannot tell that from a file that is broken for good, so the
/// file's age decides: a file that is not a checkpoint and changed within the settle age is
/// ``beingWritten(_:)`` (look again later), one unchanged for longer is ``invalid(_:)``.
public enum CheckpointState: Sendable {
    /// There is no `checkpoint.json`, or no session folder: the session has no checkpoint.
    case missing
    /// The file holds a checkpoint.
    case valid(Checkpoint)
    /// The file is not a checkpoint but was modified within the settle age: most likely a
    /// writer is rewriting it. Look again later; the watcher reports the write that finishes it.
    /// The error (code `.invalidCheckpoint`) says what is wrong with it now.
    case beingWritten(OpLogError)
    /// The file is not a checkpoint and has not changed for the settle age (a writer that
    /// crashed mid-write, or a bad file): report it. The error has code `.invalidCheckpoint`
    /// and names the file and why.
    case invalid(OpLogError)
}

extension SessionLog {
    /// How long a `checkpoint.json` that is not a checkpoint counts as being written, measured
    /// from its modification time (Muse's rewrite takes microseconds; this also covers coarse
    /// file-system timestamps).
    public static let defaultCheckpointSettleAge: Duration = .seconds(2)

    /// `ROOT/.muse/op_log/<session>/checkpoint.json`.
    public var checkpointPath: FilePath {
        self.layout.sessionPath(self.sessionID).appending(Self.checkpointFileName)
    }

    /// Reads `checkpoint.json` once and says what it holds, without sleeping or retrying: the
    /// call for async code such as the agent, which looks again on a later tick or change when
    /// the answer is ``CheckpointState/beingWritten(_:)``.
    ///
    /// A file that does not decode is ``CheckpointState/beingWritten(_:)`` when its modification
    /// time is less than `settleAge` from `now` (either way, to allow for clock steps), else
    /// ``CheckpointState/invalid(_:)``.
    /// - Throws: `OpLogError` `.unsafePath` when the session folder or `checkpoint.json` is a
    ///   symbolic link, `.io` when it cannot be opened or read (never for its content).
    /// - Complexity: one open, one `fstat`, one read of the file.
    public func checkpointState(
        now: WallClockTime = .now(),
        settleAge: Duration = SessionLog.defaultCheckpointSettleAge
    ) throws(OpLogError) -> CheckpointState {
        guard let directory = try self.layout.openSessionDirectory(self.sessionID, create: false),
            let file = try Self.readSmallFileAndModificationTime(Self.checkpointFileName, in: directory)
        else { return .missing }
        let bytes = file.bytes
        do throws(OpLogError) {
            return .valid(try Checkpoint(bytes: bytes))
        } catch {
            let problem = OpLogError(
                code: .invalidCheckpoint,
                message: "\(self.checkpointPath): \(error.message) (\(bytes.count) bytes)"
            )
            let age = now.duration(since: file.modified)
            let isRecent = age < settleAge && age > .zero - settleAge
            return isRecent ? .beingWritten(problem) : .invalid(problem)
        }
    }

    /// The session's current checkpoint, or `nil` when it has none, waiting out a rewrite.
    ///
    /// Muse rewrites `checkpoint.json` in place, so a read can catch it empty or half-written;
    /// such a file is read again (every 5 ms, for up to `patience`) before it counts as invalid.
    /// This blocks the calling thread meanwhile: it is for the CLI and tests. Async code calls
    /// ``checkpointState(now:settleAge:)`` instead and looks again later.
    /// - Throws: `OpLogError` `.invalidCheckpoint` (naming the file and why) when
    ///   `checkpoint.json` stays something other than a checkpoint for `patience`; `.unsafePath`
    ///   or `.io` as ``checkpointState(now:settleAge:)``.
    public func readCheckpoint(patience: Duration = .milliseconds(500)) throws(OpLogError) -> Checkpoint? {
        let clock = ContinuousClock()
        let deadline = clock.now + patience
        while true {
            switch try self.checkpointState() {
            case .missing:
                return nil
            case .valid(let checkpoint):
                return checkpoint
            case .beingWritten(let error), .invalid(let error):
                // Even a file that looks settled gets the full patience: its writer may have
                // stalled between the truncation and the write.
                guard clock.now < deadline else { throw error }
            }
            usleep(5_000)
        }
    }

    /// Every checkpoint recorded in the history, oldest first; lines that do not decode are
    /// skipped.
    public func checkpointHistory() throws(OpLogError) -> [Checkpoint] {
        guard let directory = try self.layout.openSessionDirectory(self.sessionID, create: false),
            let bytes = try Self.readSmallFile(Self.checkpointHistoryFileName, in: directory)
        else { return [] }
        return bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let value = try? JSONValue(parsing: line) else { return nil }
            return try? Checkpoint(bytes: PythonJSON.indented(value) + [UInt8(ascii: "\n")])
        }
    }

    /// Replaces `checkpoint.json` atomically with `checkpoint`'s exact bytes, keeping history.
    ///
    /// The bytes go to a temporary file in the session folder, which is synced, renamed over
    /// `checkpoint.json`, and the folder synced: a reader sees the old file or the new one,
    /// never a mix, and a crash leaves one of the two. Before the rename, the checkpoint being
    /// replaced (if it is valid) and then the new one are added to `checkpoint_history.jsonl`
    /// unless already there, so no checkpoint ever seen is lost.
    /// - Throws: `OpLogError` `.unsafePath` or `.io`.
    public func writeCheckpoint(_ checkpoint: Checkpoint) throws(OpLogError) {
        guard let directory = try self.layout.openSessionDirectory(self.sessionID, create: true) else {
            preconditionFailure("opening with create either succeeds or throws")
        }
        let history = try Self.readSmallFile(Self.checkpointHistoryFileName, in: directory) ?? []
        var known = Set(history.split(separator: UInt8(ascii: "\n")).map { Array($0) })
        var additions: [UInt8] = []
        if let last = history.last, last != UInt8(ascii: "\n") { additions.append(UInt8(ascii: "\n")) }
        let replacedBytes = try Self.readSmallFile(Self.checkpointFileName, in: directory)
        for bytes in [replacedBytes, checkpoint.bytes].compactMap({ $0 }) {
            // Only valid checkpoints enter the history, one compact JSON object per line.
            guard (try? Checkpoint(bytes: bytes)) != nil, let value = try? JSONValue(parsing: bytes) else { continue }
            let line = PythonJSON.compact(value)
            if known.insert(line).inserted {
                additions += line + [UInt8(ascii: "\n")]
            }
        }
        if additions.contains(where: { $0 != UInt8(ascii: "\n") }) {
            try Self.appendBytes(additions, to: Self.checkpointHistoryFileName, in: directory)
        }
        try Self.replaceAtomically(Self.checkpointFileName, in: directory, with: checkpoint.bytes)
    }

    // MARK: - Small-file helpers

    /// The largest checkpoint or history file read; checkpoints are a few hundred bytes.
    static let maximumSmallFileSize = 64 << 20

    static func readSmallFile(_ name: String, in directory: SafeDirectory) throws(OpLogError) -> [UInt8]? {
        guard let descriptor = try directory.openFile(name, flags: O_RDONLY) else { return nil }
        defer { try? descriptor.close() }
        return try Self.readAll(descriptor, path: directory.path.appending(name))
    }

    /// Everything from `descriptor`'s position to its end, at most ``maximumSmallFileSize``.
    private static func readAll(_ descriptor: FileDescriptor, path: FilePath) throws(OpLogError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor.rawValue, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw OpLogError(code: .io, message: "cannot read \(path)", cause: Errno(rawValue: errno))
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            guard bytes.count <= Self.maximumSmallFileSize else {
                throw OpLogError(code: .io, message: "\(path) is larger than \(Self.maximumSmallFileSize) bytes")
            }
        }
    }

    /// As ``readSmallFile(_:in:)``, with the file's modification time, from one descriptor.
    static func readSmallFileAndModificationTime(
        _ name: String,
        in directory: SafeDirectory
    ) throws(OpLogError) -> (bytes: [UInt8], modified: WallClockTime)? {
        guard let descriptor = try directory.openFile(name, flags: O_RDONLY) else { return nil }
        defer { try? descriptor.close() }
        var info = stat()
        guard fstat(descriptor.rawValue, &info) == 0 else {
            throw OpLogError(
                code: .io,
                message: "cannot stat \(directory.path.appending(name))",
                cause: Errno(rawValue: errno)
            )
        }
        let bytes = try Self.readAll(descriptor, path: directory.path.appending(name))
        return (bytes, WallClockTime(info.st_mtim))
    }

    static func appendBytes(_ bytes: [UInt8], to name: String, in directory: SafeDirectory) throws(OpLogError) {
        guard let descriptor = try directory.openFile(name, flags: O_WRONLY | O_APPEND | O_CREAT) else {
            preconditionFailure("opening with O_CREAT either succeeds or throws")
        }
        defer { try? descriptor.close() }
        do {
            try descriptor.writeAll(bytes)
        } catch {
            throw OpLogError(code: .io, message: "cannot append to \(directory.path.appending(name))", cause: error)
        }
        guard fdatasync(descriptor.rawValue) == 0 else {
            throw OpLogError(
                code: .io,
                message: "cannot sync \(directory.path.appending(name))",
                cause: Errno(rawValue: errno)
            )
        }
    }

    /// Writes `bytes` to a fresh temporary file, syncs it, renames it over `name`, syncs the folder.
    static func replaceAtomically(_ name: String, in directory: SafeDirectory, with bytes: [UInt8]) throws(OpLogError) {
        var random = SystemRandomNumberGenerator()
        let temporaryName = ".\(name).tmp-\(getpid())-\(String(random.next(), radix: 16))"
        guard let descriptor = try directory.openFile(temporaryName, flags: O_WRONLY | O_CREAT | O_EXCL) else {
            preconditionFailure("opening with O_CREAT either succeeds or throws")
        }
        var isRenamed = false
        defer {
            try? descriptor.close()
            if !isRenamed { unlinkat(directory.descriptor.rawValue, temporaryName, 0) }
        }
        do {
            try descriptor.writeAll(bytes)
        } catch {
            throw OpLogError(
                code: .io,
                message: "cannot write \(directory.path.appending(temporaryName))",
                cause: error
            )
        }
        guard fsync(descriptor.rawValue) == 0 else {
            throw OpLogError(
                code: .io,
                message: "cannot sync \(directory.path.appending(temporaryName))",
                cause: Errno(rawValue: errno)
            )
        }
        guard renameat(directory.descriptor.rawValue, temporaryName, directory.descriptor.rawValue, name) == 0 else {
            throw OpLogError(
                code: .io,
                message: "cannot rename into \(directory.path.appending(name))",
                cause: Errno(rawValue: errno)
            )
        }
        isRenamed = true
        try directory.synchronize()
    }
}
