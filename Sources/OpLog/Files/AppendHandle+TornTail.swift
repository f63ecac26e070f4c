import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The torn end of an append: what a process killed in the middle of `write(2)` leaves.
extension AppendHandle {
    /// The file's size now.
    func size() throws(OpLogError) -> Int64 {
        try self.file.identityAndSize().size
    }

    /// Cuts the file back to `lineStart` when it is still `size` bytes long and ends in an
    /// unfinished line that starts exactly there (the byte before it is `\n`, or it is the
    /// file's start, and no `\n` follows). Returns whether it cut. Only an unfinished line is
    /// ever removed, and no line ending in `\n` is an entry, so no entry can be lost; the file
    /// is checked again just before the cut, so a writer's new bytes are not cut with it.
    /// - Throws: `OpLogError` with code `.io`.
    func cutUnfinishedLine(startingAt lineStart: Int64, size: Int64) throws(OpLogError) -> Bool {
        guard lineStart >= 0, lineStart < size, try self.size() == size else { return false }
        let from = max(lineStart - 1, 0)
        let bytes = try self.file.readBytes(in: from..<size)
        guard bytes.count == Int(size - from) else { return false }
        let tail = lineStart == 0 ? bytes[...] : bytes.dropFirst()
        guard lineStart == 0 || bytes.first == UInt8(ascii: "\n"), !tail.contains(UInt8(ascii: "\n")) else {
            return false
        }
        guard try self.size() == size else { return false }
        guard ftruncate(self.descriptor.rawValue, off_t(lineStart)) == 0 else {
            throw OpLogError(code: .io, message: "cannot cut \(self.path)", cause: Errno(rawValue: errno))
        }
        return true
    }

    /// Writes spaces over the bytes in `range` when they still are `expected`, and syncs: the
    /// torn start of a line another writer's line was glued to, so that what is left of the
    /// line is that writer's entry (JSON allows leading spaces). Returns whether it wrote. The
    /// file's size does not change, so appends by others go on meanwhile; a range that holds
    /// anything else (the file was replaced or rewritten) is left alone.
    /// - Throws: `OpLogError` with code `.io`.
    func blank(_ range: Range<Int64>, expecting expected: [UInt8]) throws(OpLogError) -> Bool {
        guard !range.isEmpty, range.count == expected.count, !expected.contains(UInt8(ascii: "\n")),
            try self.file.readBytes(in: range) == expected
        else { return false }
        // The append descriptor has O_APPEND, which makes Linux's pwrite(2) append wherever it
        // is told to write: the same file is opened again without it (through /proc, so by the
        // descriptor, not by a path that could have changed), and checked to be the same file.
        let descriptor = open("/proc/self/fd/\(self.descriptor.rawValue)", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw OpLogError(code: .io, message: "cannot open \(self.path) to write", cause: Errno(rawValue: errno))
        }
        defer { close(descriptor) }
        var mine = stat()
        var reopened = stat()
        guard fstat(self.descriptor.rawValue, &mine) == 0, fstat(descriptor, &reopened) == 0,
            mine.st_dev == reopened.st_dev, mine.st_ino == reopened.st_ino
        else { return false }
        let spaces = [UInt8](repeating: UInt8(ascii: " "), count: expected.count)
        var written = 0
        while written < spaces.count {
            let count = spaces.withUnsafeBytes { raw in
                pwrite(
                    descriptor,
                    raw.baseAddress.map { $0 + written },
                    raw.count - written,
                    off_t(range.lowerBound) + off_t(written)
                )
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw OpLogError(code: .io, message: "cannot write to \(self.path)", cause: Errno(rawValue: errno))
            }
            written += count
        }
        try self.synchronize()
        return true
    }
}
