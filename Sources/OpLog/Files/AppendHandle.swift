import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A session's `ops.jsonl`, open for appending (and reading) across many appends.
///
/// Opening walks `ROOT/.muse/op_log/<session>/` without following links, which costs several
/// system calls; a long-lived writer keeps this handle instead and checks with one `lstat` that
/// the path still names the file it holds (``isCurrent``). Holding the descriptor also pins the
/// inode, so an unchanged inode number really is the same file.
final class AppendHandle: Sendable {
    let descriptor: FileDescriptor
    let path: FilePath
    /// `path` as a C string, for the `lstat` on every append.
    private let cPath: [CChar]
    private let device: UInt64
    private let inode: UInt64

    /// Opens (creating folders and file as needed) the log of `log`'s session.
    init(opening log: SessionLog) throws(OpLogError) {
        guard let directory = try log.layout.openSessionDirectory(log.sessionID, create: true),
            let descriptor = try directory.openFile(SessionLog.opsFileName, flags: O_RDWR | O_APPEND | O_CREAT)
        else { preconditionFailure("opening with create either succeeds or throws") }
        var info = stat()
        guard fstat(descriptor.rawValue, &info) == 0 else {
            let error = Errno(rawValue: errno)
            try? descriptor.close()
            throw OpLogError(code: .io, message: "cannot stat \(log.opsPath)", cause: error)
        }
        self.descriptor = descriptor
        self.path = log.opsPath
        self.cPath = log.opsPath.withPlatformString { Array(UnsafeBufferPointer(start: $0, count: strlen($0) + 1)) }
        self.device = UInt64(info.st_dev)
        self.inode = UInt64(info.st_ino)
    }

    deinit {
        try? self.descriptor.close()
    }

    /// The open file, for reads.
    var file: OpenLogFile { OpenLogFile(descriptor: self.descriptor, path: self.path) }

    /// Whether the log's path still names this file (not replaced, removed or made a link).
    var isCurrent: Bool {
        var info = stat()
        let result = lstat(self.cPath, &info)
        return result == 0 && UInt64(info.st_dev) == self.device && UInt64(info.st_ino) == self.inode
    }

    /// Appends complete lines in one `write(2)`; see ``SessionLog/append(lines:staleTailAge:synchronize:now:)``.
    ///
    /// `knownCompleteEnd`, when given, is an offset known to end a complete line (where a reader
    /// stopped): if the file still ends there, its last byte is not read again.
    func append(
        lines: [[UInt8]],
        staleTailAge: Duration,
        synchronize: Bool,
        now: WallClockTime,
        knownCompleteEnd: Int64?
    ) throws(OpLogError) -> Int64 {
        if let index = lines.firstIndex(where: { $0.withUnsafeBufferPointer(containsNewline) }) {
            throw OpLogError(code: .invalidEntry, message: "line \(index + 1) of the batch contains a newline")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lines.reduce(1) { $0 + $1.count + 1 })
        let (_, _, size) = try self.file.identityAndSize()
        if size != knownCompleteEnd {
            let status = try self.file.status()
            if status.hasUnterminatedTail {
                let age = now.duration(since: status.modificationTime)
                guard age >= staleTailAge else {
                    throw OpLogError(
                        code: .tailInProgress,
                        message:
                            "\(self.path) ends in an unfinished line changed \(age) ago; a writer may be mid-append"
                    )
                }
                bytes.append(UInt8(ascii: "\n"))
            }
        }
        for line in lines {
            bytes.append(contentsOf: line)
            bytes.append(UInt8(ascii: "\n"))
        }
        try self.writeWhole(bytes)
        if synchronize { try self.synchronize() }
        // With O_APPEND the offset after write(2) is the end of our own bytes, whoever appends next.
        return Int64(lseek(self.descriptor.rawValue, 0, SEEK_CUR))
    }

    /// `fdatasync`: everything written through any descriptor of the file so far survives a
    /// power loss once this returns. Safe to call from another thread while appends go on.
    func synchronize() throws(OpLogError) {
        guard fdatasync(self.descriptor.rawValue) == 0 else {
            throw OpLogError(code: .io, message: "cannot sync \(self.path)", cause: Errno(rawValue: errno))
        }
    }

    /// Writes all of `bytes`, or none of them: when the disk fills (or another error stops the
    /// write) after part of the batch reached the file, that part is cut off again, so a
    /// failed append never leaves half a line for the next append (or Muse) to glue onto. The
    /// cut is made only while the file still ends with those bytes; if another writer appended
    /// after them in between, they stay, and the next append closes them as a stale tail.
    private func writeWhole(_ bytes: [UInt8]) throws(OpLogError) {
        var written = 0
        var failure: Errno?
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            while written < buffer.count {
                let count = write(self.descriptor.rawValue, base + written, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = Errno(rawValue: errno)
                    return
                }
                written += count
            }
        }
        guard let failure else { return }
        if written > 0 {
            // With O_APPEND the offset is the end of our own bytes.
            let end = lseek(self.descriptor.rawValue, 0, SEEK_CUR)
            var info = stat()
            if end >= written, fstat(self.descriptor.rawValue, &info) == 0, Int64(info.st_size) == Int64(end) {
                _ = ftruncate(self.descriptor.rawValue, off_t(end) - off_t(written))
            }
        }
        throw OpLogError(code: .io, message: "cannot append to \(self.path)", cause: failure)
    }
}
