package import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a line sits in its file.
public struct LinePosition: Sendable, Hashable {
    /// 1-based line number, counting every `\n`-terminated line from the start of the file.
    public var lineNumber: Int
    /// Byte offset of the line's first byte.
    public var offset: Int64
}

/// One complete line met while reading, or one too long to hold.
package enum LineEvent {
    /// The bytes of a line, without its `\n`; valid only during the callback.
    case line(UnsafeBufferPointer<UInt8>, LinePosition)
    /// A line longer than the reader's limit; its bytes were skipped.
    case oversized(LinePosition, length: Int64)
}

/// What a pass over a file found after its last complete line.
package struct LineReadEnd {
    /// Offset just past the last complete line's `\n`.
    package var endOffset: Int64
    /// The number the next complete line will have.
    package var nextLineNumber: Int
    /// Bytes after the last `\n`: a line still being written, or a crashed writer's remains.
    package var unterminatedTailLength: Int64
    /// The pass stopped at its byte limit: complete lines may follow `endOffset`.
    package var isPartial = false
}

/// Reads the complete, `\n`-terminated lines of a file in bounded memory.
///
/// Memory is one buffer of ``chunkSize`` bytes, grown only to hold a single line up to
/// ``maximumLineLength``; a longer line is reported as oversized and skipped, never held. Lines
/// end at `\n` only (a `\r` stays part of the line, as JSON whitespace).
package struct LineReader {
    static let chunkSize = 1 << 20
    package static let defaultMaximumLineLength = 16 << 20

    let descriptor: FileDescriptor
    var maximumLineLength = Self.defaultMaximumLineLength

    /// A reader of `descriptor`'s lines, skipping (as oversized) any longer than
    /// `maximumLineLength` bytes.
    package init(descriptor: FileDescriptor, maximumLineLength: Int = Self.defaultMaximumLineLength) {
        self.descriptor = descriptor
        self.maximumLineLength = maximumLineLength
    }

    /// Reads from `start` to the end of the file as it is now, calling `body` for each line;
    /// with `byteLimit`, stops at the end of the first buffer that takes it past that many bytes
    /// (at a line end, and never inside an oversized line), so a caller can take a large file in
    /// bounded pieces.
    package func read<Failure: Error>(
        from start: Int64,
        firstLineNumber: Int,
        byteLimit: Int64 = .max,
        _ body: (LineEvent) throws(Failure) -> Void
    ) throws(LineReadFailure<Failure>) -> LineReadEnd {
        // Size the buffer to what there is to read (small for a refresh that catches up a few
        // lines), at most one chunk; it grows only to hold one long line. Its bytes are written by
        // read(2) before they are looked at, so it is not zero-filled.
        var info = stat()
        let remaining =
            fstat(self.descriptor.rawValue, &info) == 0 ? Int64(info.st_size) - start : Int64(Self.chunkSize)
        var buffer = Self.uninitializedBuffer(count: Int(min(max(remaining + 1, 4096), Int64(Self.chunkSize))))
        var filled = 0  // valid bytes in buffer
        var bufferOffset = start  // file offset of buffer[0]
        var lineNumber = firstLineNumber
        var discarding: (position: LinePosition, length: Int64)?  // inside an oversized line

        while true {
            if filled == buffer.count {
                if discarding == nil && buffer.count < self.maximumLineLength {
                    var grown = Self.uninitializedBuffer(count: min(2 * buffer.count, self.maximumLineLength))
                    grown.withUnsafeMutableBytes { target in
                        buffer.withUnsafeBytes { source in target.copyMemory(from: source) }
                    }
                    buffer = grown
                } else {
                    // The pending line is too long to hold: skip it until its end.
                    if discarding == nil {
                        discarding = (LinePosition(lineNumber: lineNumber, offset: bufferOffset), 0)
                    }
                    discarding?.length += Int64(filled)
                    bufferOffset += Int64(filled)
                    filled = 0
                }
            }
            let readOffset = bufferOffset + Int64(filled)
            let count = buffer.withUnsafeMutableBytes { raw in
                pread(
                    self.descriptor.rawValue,
                    raw.baseAddress.map { $0 + filled },
                    raw.count - filled,
                    off_t(readOffset)
                )
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(OpLogError(code: .io, message: "cannot read the log", cause: Errno(rawValue: errno)))
            }
            if count == 0 {
                let tail = Int64(filled) + (discarding?.length ?? 0)
                return LineReadEnd(
                    endOffset: discarding?.position.offset ?? bufferOffset,
                    nextLineNumber: lineNumber,
                    unterminatedTailLength: tail
                )
            }
            let scanFrom = filled
            filled += count
            var lineStart = 0
            do throws(Failure) {
                try buffer.withUnsafeBufferPointer { (bytes: UnsafeBufferPointer<UInt8>) throws(Failure) in
                    guard let base = bytes.baseAddress else { preconditionFailure("the read buffer is never empty") }
                    var index = scanFrom
                    while index < filled {
                        guard let found = memchr(base + index, 0x0A, filled - index) else { break }
                        let newline = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                        if let skipped = discarding {
                            try body(.oversized(skipped.position, length: skipped.length + Int64(newline)))
                            discarding = nil
                        } else {
                            let position = LinePosition(lineNumber: lineNumber, offset: bufferOffset + Int64(lineStart))
                            try body(.line(UnsafeBufferPointer(rebasing: bytes[lineStart..<newline]), position))
                        }
                        lineNumber += 1
                        lineStart = newline + 1
                        index = newline + 1
                    }
                }
            } catch {
                throw .body(error)
            }
            // Keep the unfinished line at the front of the buffer.
            if lineStart > 0 {
                let pending = filled - lineStart
                buffer.withUnsafeMutableBytes { raw in
                    guard pending > 0, let base = raw.baseAddress else { return }
                    memmove(base, base + lineStart, pending)
                }
                bufferOffset += Int64(lineStart)
                filled = pending
            }
            if discarding == nil && bufferOffset - start >= byteLimit {
                return LineReadEnd(
                    endOffset: bufferOffset,
                    nextLineNumber: lineNumber,
                    unterminatedTailLength: 0,
                    isPartial: true
                )
            }
        }
    }
}

extension LineReader {
    /// A byte array of `count` bytes whose contents are unspecified (not zero-filled).
    static func uninitializedBuffer(count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { _, initializedCount in initializedCount = count }
    }
}

/// Why a ``LineReader`` pass stopped early.
package enum LineReadFailure<Body: Error>: Error {
    case io(OpLogError)
    case body(Body)
}
