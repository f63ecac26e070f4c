#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a growing file from its start and hands out its complete lines only: what a file holds
/// after its last `\n` may be a writer mid-append, so it waits for the next read.
///
/// Confined to one thread.
final class LineTail {
    private let descriptor: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    /// Bytes of an unfinished line at the start of `buffer`.
    private var carried = 0

    /// Takes over `descriptor` (opened for reading, at offset 0); closes it when released.
    init(descriptor: Int32, chunkSize: Int = 1 << 20) {
        self.descriptor = descriptor
        self.buffer = .allocate(byteCount: chunkSize, alignment: 64)
    }

    deinit {
        self.buffer.deallocate()
        closeDescriptor(self.descriptor)
    }

    /// Opens `path` for reading.
    /// - Throws: ``BenchmarkError`` when it cannot be opened.
    static func reading(_ path: String) throws(BenchmarkError) -> LineTail {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BenchmarkError.systemCall("cannot open \(path)") }
        return LineTail(descriptor: descriptor)
    }

    /// `fdatasync(2)` of the file read.
    func synchronize() {
        _ = fdatasync(self.descriptor)
    }

    /// Reads up to the end of the file and calls `body` once per `read(2)` that completed lines,
    /// with those lines (each ending in `\n`); returns the bytes read.
    /// - Throws: ``BenchmarkError`` when a read fails, or what `body` throws.
    @discardableResult
    func readCompleteLines(
        _ body: (UnsafeRawBufferPointer) throws(BenchmarkError) -> Void
    ) throws(BenchmarkError) -> Int {
        var total = 0
        while true {
            if self.carried == self.buffer.count { self.grow() }
            guard let base = self.buffer.baseAddress else { preconditionFailure("the buffer is never empty") }
            let count = read(self.descriptor, base + self.carried, self.buffer.count - self.carried)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw BenchmarkError.systemCall("read") }
            guard count > 0 else { return total }
            total += count
            let filled = self.carried + count
            let bytes = UnsafeRawBufferPointer(start: base, count: filled)
            // Only the bytes just read can hold a new line end; the carried ones hold none.
            guard let lastNewline = bytes[self.carried...].lastIndex(of: 0x0A) else {
                self.carried = filled
                continue
            }
            let complete = lastNewline + 1
            try body(UnsafeRawBufferPointer(start: base, count: complete))
            self.carried = filled - complete
            if self.carried > 0 { memmove(base, base + complete, self.carried) }
        }
    }

    private func grow() {
        let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: self.buffer.count * 2, alignment: 64)
        larger.copyMemory(from: UnsafeRawBufferPointer(self.buffer))
        self.buffer.deallocate()
        self.buffer = larger
    }
}
