public import NIOCore

/// Splits the inbound byte stream into frame payloads: a 4-byte big-endian length, then that
/// many bytes.
///
/// The length field is checked against `maximumFrameSize` as soon as its four bytes are in,
/// before any of the frame is buffered, so a peer announcing a 4 GiB frame costs four bytes of
/// memory and one `.frameTooLarge` error. (NIOExtras' `LengthFieldBasedFrameDecoder` has no
/// maximum, hence this decoder; outbound, NIOExtras' `LengthFieldPrepender` adds the length.)
/// Use it in `ByteToMessageHandler(_:maximumBufferSize:)` with a buffer limit of
/// `maximumFrameSize + 4`, as ``WirePipeline`` does: after each read the buffer holds at most
/// one incomplete frame. Payloads are slices of the read buffer, not copies.
///
/// Made with a ``WireFrameLimit``, the limit can change while the connection runs: small until
/// the peer's hello has been checked, then the normal maximum.
public struct WireFrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer

    private let limit: WireFrameLimit?
    private let fixedMaximum: Int

    /// The largest payload accepted now, in bytes, not counting the length field.
    public var maximumFrameSize: Int { self.limit?.maximumFrameSize ?? self.fixedMaximum }

    /// Creates a decoder accepting payloads of up to `maximumFrameSize` bytes.
    public init(maximumFrameSize: Int = WireConfiguration.defaultMaximumFrameSize) {
        self.limit = nil
        self.fixedMaximum = maximumFrameSize
    }

    /// Creates a decoder accepting payloads of up to `limit`'s current maximum, read at every
    /// length field.
    public init(limit: WireFrameLimit) {
        self.limit = limit
        self.fixedMaximum = limit.raised
    }

    /// Returns the next payload, or `nil` until all of it has arrived.
    ///
    /// - Parameter buffer: The bytes received so far.
    /// - Returns: The payload, a slice of `buffer`, or `nil` when more bytes are needed.
    /// - Throws: `WireError` with code `.frameTooLarge` when the length field exceeds
    ///   ``maximumFrameSize``.
    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return nil
        }
        // Int(UInt32) cannot overflow on the 64-bit platforms we support.
        let payloadLength = Int(length)
        let maximum = self.maximumFrameSize
        guard payloadLength <= maximum else {
            throw WireError(
                code: .frameTooLarge,
                message: "peer announced a frame of \(payloadLength) bytes, more than the maximum \(maximum)"
            )
        }
        guard buffer.readableBytes >= WireFormat.lengthFieldSize + payloadLength else {
            return nil
        }
        buffer.moveReaderIndex(forwardBy: WireFormat.lengthFieldSize)
        return buffer.readSlice(length: payloadLength)
    }

    /// Returns the remaining complete payloads when the connection ends.
    ///
    /// - Parameters:
    ///   - buffer: The bytes received and not yet decoded.
    ///   - seenEOF: Whether the peer closed its side.
    /// - Returns: The next complete payload, or `nil` when none is left.
    /// - Throws: `WireError` with code `.truncatedFrame` when the connection ends inside a
    ///   frame, or `.frameTooLarge` as ``decode(buffer:)`` does.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let payload = try self.decode(buffer: &buffer) {
            return payload
        }
        guard buffer.readableBytes == 0 else {
            throw WireError(
                code: .truncatedFrame,
                message: "connection ended inside a frame, \(buffer.readableBytes) bytes into it"
            )
        }
        return nil
    }
}
