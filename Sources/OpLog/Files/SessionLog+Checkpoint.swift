import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SessionLog {
    /// The session's current checkpoint, or `nil` when it has none.
    ///
    /// Muse rewrites `checkpoint.json` in place, so a read can catch it empty or half-written;
    /// such a file is read again (every 5 ms, for up to `patience`) before it counts as invalid.
    /// - Throws: `OpLogError` `.invalidCheckpoint` when `checkpoint.json` stays something other
    ///   than a checkpoint for `patience`.
    public func readCheckpoint(patience: Duration = .milliseconds(500)) throws(OpLogError) -> Checkpoint? {
        let clock = ContinuousClock()
        let deadline = clock.now + patience
        while true {
            guard let directory = try self.layout.openSessionDirectory(self.sessionID, create: false),
                let bytes = try Self.readSmallFile(Self.checkpointFileName, in: directory)
            else { return nil }
            do throws(OpLogError) {
                return try Checkpoint(bytes: bytes)
            } catch {
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
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor.rawValue, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw OpLogError(
                    code: .io,
                    message: "cannot read \(directory.path.appending(name))",
                    cause: Errno(rawValue: errno)
                )
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            guard bytes.count <= Self.maximumSmallFileSize else {
                throw OpLogError(
                    code: .io,
                    message: "\(directory.path.appending(name)) is larger than \(Self.maximumSmallFileSize) bytes"
                )
            }
        }
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
