import NIOCore

/// Reads the fields of one frame payload, checking every length and count against the bytes
/// left before it reads or allocates.
///
/// Every failure is a `WireError` naming the message kind and the field, so any byte sequence
/// yields either values or an error.
struct WirePayloadReader {
    private var buffer: ByteBuffer
    /// What is being read, for error messages: "frame" until the type byte is known.
    var messageKind = "frame"

    init(_ payload: ByteBuffer) {
        self.buffer = payload
    }

    /// Reads a big-endian integer.
    mutating func readInteger<Integer: FixedWidthInteger>(
        _ field: @autoclosure () -> String,
        as: Integer.Type = Integer.self
    ) throws(WireError) -> Integer {
        guard let value = self.buffer.readInteger(endianness: .big, as: Integer.self) else {
            throw self.truncated(field(), needed: MemoryLayout<Integer>.size)
        }
        return value
    }

    /// Reads `expected.count` bytes and returns whether they equal `expected`.
    mutating func readMagic(_ field: @autoclosure () -> String, expected: [UInt8]) throws(WireError) -> Bool {
        guard let bytes = self.buffer.readBytes(length: expected.count) else {
            throw self.truncated(field(), needed: expected.count)
        }
        return bytes == expected
    }

    /// Reads a length-prefixed byte array.
    mutating func readBytes(_ field: @autoclosure () -> String) throws(WireError) -> [UInt8] {
        let length = try self.readLength(field())
        guard let bytes = self.buffer.readBytes(length: length) else {
            preconditionFailure("readLength checked \(length) against the readable bytes")
        }
        return bytes
    }

    /// Reads a length-prefixed string; its bytes must be valid UTF-8.
    mutating func readString(_ field: @autoclosure () -> String) throws(WireError) -> String {
        let length = try self.readLength(field())
        let view = self.buffer.readableBytesView.prefix(length)
        guard let string = String(validating: view, as: UTF8.self) else {
            throw WireError(code: .invalidField, message: "\(self.messageKind): \(field()) is not valid UTF-8")
        }
        self.buffer.moveReaderIndex(forwardBy: length)
        return string
    }

    /// Reads a UInt32 element count, each element taking at least `minimumElementSize` bytes.
    ///
    /// The count is checked against what the rest of the frame can hold, so the caller may
    /// reserve that many elements.
    mutating func readCount(_ field: @autoclosure () -> String, minimumElementSize: Int) throws(WireError) -> Int {
        let count = Int(try self.readInteger(field(), as: UInt32.self))
        let capacity = self.buffer.readableBytes / minimumElementSize
        guard count <= capacity else {
            throw WireError(
                code: .countOutOfBounds,
                message: "\(self.messageKind): \(field()) is \(count), but the \(self.buffer.readableBytes) bytes left "
                    + "in the frame hold at most \(capacity)"
            )
        }
        return count
    }

    /// Checks that the whole payload was read.
    func finish() throws(WireError) {
        guard self.buffer.readableBytes == 0 else {
            throw WireError(
                code: .trailingBytes,
                message: "\(self.messageKind): \(self.buffer.readableBytes) bytes after the last field"
            )
        }
    }

    private mutating func readLength(_ field: @autoclosure () -> String) throws(WireError) -> Int {
        let length = Int(try self.readInteger("\(field()) length", as: UInt32.self))
        guard length <= self.buffer.readableBytes else {
            throw WireError(
                code: .lengthOutOfBounds,
                message: "\(self.messageKind): \(field()) announces \(length) bytes, but only "
                    + "\(self.buffer.readableBytes) are left in the frame"
            )
        }
        return length
    }

    private func truncated(_ field: String, needed: Int) -> WireError {
        WireError(
            code: .truncatedField,
            message: "\(self.messageKind): the frame ends inside \(field) (\(needed) bytes needed, "
                + "\(self.buffer.readableBytes) left)"
        )
    }
}
