public import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The floors: the least work the kernel and the hardware allow for the same job, measured in
/// the same run as our code so that ratios, not timings, are what a run reports.
public enum Floor {
    /// Appends each line with its own `write(2)` on one `O_APPEND` descriptor, as a writer that
    /// keeps its file open and does nothing else would.
    ///
    /// - Parameters:
    ///   - lines: each line's bytes including its `\n`.
    ///   - path: the file, created if missing.
    /// - Throws: `Errno` when the file cannot be opened or a write falls short.
    public static func appendLines(_ lines: [[UInt8]], to path: FilePath) throws {
        let file = try AppendFile(path)
        defer { file.close() }
        for line in lines {
            try file.write(line)
        }
    }

    /// Reads the file with `read(2)` into one buffer of `chunkSize` bytes and finds every `\n`
    /// with `memchr`: the cheapest pass that splits a file into its lines.
    ///
    /// - Returns: the number of complete lines and the bytes read.
    /// - Throws: `Errno` when the file cannot be opened or read.
    public static func countLines(at path: FilePath, chunkSize: Int = 1 << 20) throws -> (lines: Int, bytes: Int) {
        let fd = path.withPlatformString { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        defer { closeDescriptor(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { buffer.deallocate() }
        guard let base = buffer.baseAddress else { return (0, 0) }
        var lines = 0
        var bytes = 0
        while true {
            let count = read(fd, base, chunkSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw Errno(rawValue: errno)
            }
            if count == 0 { return (lines, bytes) }
            bytes += count
            var cursor = base
            var remaining = count
            while remaining > 0, let found = memchr(cursor, 0x0A, remaining) {
                lines += 1
                let next = found + 1
                remaining -= cursor.distance(to: next)
                cursor = next
            }
        }
    }

    /// A raw `O_WRONLY | O_APPEND | O_CREAT` descriptor: one `write(2)` per ``write(_:)``.
    public struct AppendFile {
        private let fd: Int32

        public init(_ path: FilePath) throws {
            self.fd = path.withPlatformString { open($0, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644) }
            guard self.fd >= 0 else { throw Errno(rawValue: errno) }
        }

        /// Writes `bytes` with one `write(2)`; a short write is an error (it does not happen
        /// for regular files of this size).
        public func write(_ bytes: [UInt8]) throws {
            let written = bytes.withUnsafeBytes { writeDescriptor(self.fd, $0) }
            guard written == bytes.count else { throw Errno(rawValue: errno) }
        }

        public func close() {
            closeDescriptor(self.fd)
        }
    }
}

/// `close(2)`, under a name the methods named `close` do not shadow.
private func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}

/// One `write(2)` of `bytes`.
private func writeDescriptor(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
    write(fd, bytes.baseAddress, bytes.count)
}
