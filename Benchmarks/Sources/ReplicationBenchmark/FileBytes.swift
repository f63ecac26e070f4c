#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and single-`write(2)` appends, with nothing in between.
enum FileBytes {
    /// The whole file.
    /// - Throws: ``BenchmarkError`` when it cannot be opened or read.
    static func contents(of path: String) throws(BenchmarkError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BenchmarkError.systemCall("cannot open \(path)") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw BenchmarkError.systemCall("cannot read \(path)") }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<count])
        }
    }

    /// The file's size, or `nil` while it does not exist.
    static func size(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    /// An `O_WRONLY | O_APPEND | O_CREAT` descriptor, as a Muse writer appends.
    struct Appender {
        let descriptor: Int32

        /// Opens (creating) `path` for appending.
        /// - Throws: ``BenchmarkError`` when it cannot be opened.
        init(_ path: String) throws(BenchmarkError) {
            self.descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard self.descriptor >= 0 else { throw BenchmarkError.systemCall("cannot open \(path)") }
        }

        /// Appends `bytes` with one `write(2)`; a short write is an error.
        /// - Throws: ``BenchmarkError`` when the write fails or falls short.
        func append(_ bytes: UnsafeRawBufferPointer) throws(BenchmarkError) {
            let written = write(self.descriptor, bytes.baseAddress, bytes.count)
            guard written == bytes.count else { throw BenchmarkError.systemCall("append of \(bytes.count) bytes") }
        }

        /// Appends `bytes` with one `write(2)`; a short write is an error.
        /// - Throws: ``BenchmarkError`` when the write fails or falls short.
        func append(_ bytes: [UInt8]) throws(BenchmarkError) {
            let written = bytes.withUnsafeBytes { write(self.descriptor, $0.baseAddress, $0.count) }
            guard written == bytes.count else { throw BenchmarkError.systemCall("append of \(bytes.count) bytes") }
        }

        func close() {
            closeDescriptor(self.descriptor)
        }
    }
}

/// `close(2)`, under a name the methods named `close` do not shadow.
func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}
