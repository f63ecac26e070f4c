import FuzzSupport
import NIOCore
import OpLogWire

enum MessageProperties {
    /// What `WireMessage(decoding:)` documents it may throw.
    static let decodingCodes: Set<WireError.Code> = [
        .unknownMessageType, .truncatedField, .lengthOutOfBounds, .countOutOfBounds, .trailingBytes, .badMagic,
        .invalidField, .protocolVersionMismatch, .invalidNodeID,
    ]

    static func check(_ payload: [UInt8]) {
        let message: WireMessage
        do {
            message = try WireMessage(decoding: ByteBuffer(bytes: payload))
        } catch {
            require(Self.decodingCodes.contains(error.code), "decoding threw an undocumented \(error)")
            return
        }
        var encoded = ByteBuffer()
        do {
            try message.encode(into: &encoded)
        } catch {
            failProperty("a decoded \(message) does not encode: \(error)")
        }
        let bytes = Array(encoded.readableBytesView)
        require(bytes == payload, "\(message) re-encodes to \(hex(bytes)), not to its payload \(hex(payload))")
        require(
            message.encodedLength == payload.count,
            "encodedLength \(message.encodedLength) of \(payload.count) bytes"
        )
        do {
            let again = try WireMessage(decoding: encoded)
            require(again == message, "\(message) decodes again as \(again)")
        } catch {
            failProperty("the encoding of \(message) does not decode: \(error)")
        }
        // One byte short of the limit: refused, nothing written.
        if payload.count > 1 {
            var short = ByteBuffer()
            do {
                try message.encode(into: &short, maximumFrameSize: payload.count - 1)
                failProperty("\(payload.count) bytes encoded under a limit of \(payload.count - 1)")
            } catch {
                require(error.code == .frameTooLarge, "encoding over the limit threw \(error)")
                require(short.readableBytes == 0, "encoding over the limit wrote \(short.readableBytes) bytes")
            }
        }
    }
}
