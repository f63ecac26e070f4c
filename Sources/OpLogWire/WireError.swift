/// An error raised by the `OpLogWire` library: a malformed or oversized frame, a rejected hello,
/// a silent peer, or an unusable configuration.
///
/// Every error has a stable ``code`` to match on, a human-readable ``message`` carrying the
/// context needed to act on it (message kind, field, byte counts, node ids), an optional
/// underlying cause and the place it was thrown. Its `description` is a single line. A peer
/// can cause every code except ``Code/invalidConfiguration``; none of them is a crash.
public struct WireError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable, matchable value.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case frameTooLarge
            case truncatedFrame
            case unknownMessageType
            case truncatedField
            case lengthOutOfBounds
            case countOutOfBounds
            case trailingBytes
            case badMagic
            case invalidField
            case protocolVersionMismatch
            case invalidNodeID
            case ownNodeID
            case peerSilent
            case invalidConfiguration
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// A frame whose length field exceeds the configured maximum, detected on the length
        /// field before any of the frame is buffered; or an outgoing message that would.
        public static let frameTooLarge = Code(.frameTooLarge)
        /// The connection ended inside a frame.
        public static let truncatedFrame = Code(.truncatedFrame)
        /// A payload whose type byte names no message of this protocol version.
        public static let unknownMessageType = Code(.unknownMessageType)
        /// The frame ends inside a fixed-width field (type byte, magic, integer, length prefix).
        public static let truncatedField = Code(.truncatedField)
        /// A length prefix announces more bytes than remain in the frame.
        public static let lengthOutOfBounds = Code(.lengthOutOfBounds)
        /// An element count announces more elements than the rest of the frame could hold.
        public static let countOutOfBounds = Code(.countOutOfBounds)
        /// Bytes left in the frame after the last field of its message.
        public static let trailingBytes = Code(.trailingBytes)
        /// A hello that does not start with the magic `OPLS`: the peer is not an oplog-sync node.
        public static let badMagic = Code(.badMagic)
        /// A field whose bytes are not a value of its type (a string that is not UTF-8, reserved
        /// flag bits set).
        public static let invalidField = Code(.invalidField)
        /// The peer speaks another protocol version.
        public static let protocolVersionMismatch = Code(.protocolVersionMismatch)
        /// The peer's node id is not one `NodeID(validating:)` accepts (empty, longer than
        /// ``Hello/maximumNodeIDLength`` bytes, a byte outside `!`…`~`), or not UTF-8.
        public static let invalidNodeID = Code(.invalidNodeID)
        /// The peer has this node's own id: a connection to ourselves, or two nodes sharing an id.
        public static let ownNodeID = Code(.ownNodeID)
        /// The peer sent nothing for the idle timeout; the channel was closed.
        public static let peerSilent = Code(.peerSilent)
        /// A ``WireConfiguration`` value out of its documented range.
        public static let invalidConfiguration = Code(.invalidConfiguration)

        public var description: String {
            switch self.wrapped {
            case .frameTooLarge: "frame too large"
            case .truncatedFrame: "truncated frame"
            case .unknownMessageType: "unknown message type"
            case .truncatedField: "truncated field"
            case .lengthOutOfBounds: "length out of bounds"
            case .countOutOfBounds: "count out of bounds"
            case .trailingBytes: "trailing bytes"
            case .badMagic: "bad magic"
            case .invalidField: "invalid field"
            case .protocolVersionMismatch: "protocol version mismatch"
            case .invalidNodeID: "invalid node id"
            case .ownNodeID: "own node id"
            case .peerSilent: "peer silent"
            case .invalidConfiguration: "invalid configuration"
            }
        }
    }

    /// Where an error was thrown, for diagnostics.
    public struct Location: Sendable, CustomStringConvertible {
        public var file: String
        public var line: Int

        public init(file: String = #fileID, line: Int = #line) {
            self.file = file
            self.line = line
        }

        public var description: String { "\(self.file):\(self.line)" }
    }

    /// The stable error code.
    public var code: Code
    /// A message for humans, with the context needed to act on it.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?
    /// Where the error was thrown.
    public var location: Location

    public init(
        code: Code,
        message: String,
        cause: (any Error & Sendable)? = nil,
        location: Location = Location()
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = location
    }

    /// One line: the message, then the cause when there is one.
    public var description: String {
        if let cause = self.cause {
            return "\(self.message): \(cause)"
        }
        return self.message
    }

    /// A multi-line description including code, cause and throw site.
    public func detailedDescription() -> String {
        var lines = ["WireError: \(self.code)", "  message: \(self.message)"]
        if let cause = self.cause {
            lines.append("  cause: \(cause)")
        }
        lines.append("  location: \(self.location)")
        return lines.joined(separator: "\n")
    }
}
