/// Limits and timers of one wire connection.
///
/// With the defaults each side sends a ping after 5 s without writing, so a live peer is heard
/// from at least every 5 s even when there is nothing to replicate, and 20 s of silence (four
/// missed pings) means the peer or the path is gone.
public struct WireConfiguration: Sendable, Hashable {
    /// The default ``maximumFrameSize``: 32 MiB.
    public static let defaultMaximumFrameSize = 32 * 1024 * 1024
    /// The smallest ``maximumFrameSize`` accepted: 1 KiB, enough for any hello.
    public static let minimumFrameSize = 1024
    /// The default ``maximumHelloSize``: 4 KiB (DESIGN §7).
    public static let defaultMaximumHelloSize = 4096

    /// The largest frame payload accepted from the peer or sent to it, in bytes, not counting
    /// the 4-byte length field; at most buffered per connection. Range: ``minimumFrameSize``
    /// to 4 GiB − 1.
    public var maximumFrameSize: Int
    /// The largest first frame (the hello) accepted before the peer is admitted, in bytes. Range:
    /// ``minimumFrameSize`` to ``maximumFrameSize`` (a larger value is capped at it).
    public var maximumHelloSize: Int = WireConfiguration.defaultMaximumHelloSize
    /// After this long without writing, a ping is sent. Must be positive.
    public var keepaliveInterval: Duration
    /// After this long without reading anything, the connection is closed with
    /// `WireError` `.peerSilent`. Must be positive; make it several ``keepaliveInterval``s of
    /// the peer.
    public var idleTimeout: Duration

    /// Creates a configuration.
    ///
    /// - Parameters:
    ///   - maximumFrameSize: `Int`, default 32 MiB (33 554 432).
    ///   - keepaliveInterval: `Duration`, default 5 s.
    ///   - idleTimeout: `Duration`, default 20 s.
    public init(
        maximumFrameSize: Int = WireConfiguration.defaultMaximumFrameSize,
        keepaliveInterval: Duration = .seconds(5),
        idleTimeout: Duration = .seconds(20)
    ) {
        self.maximumFrameSize = maximumFrameSize
        self.keepaliveInterval = keepaliveInterval
        self.idleTimeout = idleTimeout
    }

    /// Checks every value against its documented range.
    ///
    /// - Throws: `WireError` with code `.invalidConfiguration`, naming the value.
    public func validate() throws(WireError) {
        guard (Self.minimumFrameSize...Int(UInt32.max)).contains(self.maximumFrameSize) else {
            throw WireError(
                code: .invalidConfiguration,
                message: "maximum frame size \(self.maximumFrameSize) is not between \(Self.minimumFrameSize) "
                    + "and \(UInt32.max) bytes"
            )
        }
        guard self.maximumHelloSize >= Self.minimumFrameSize else {
            throw WireError(
                code: .invalidConfiguration,
                message: "maximum hello size \(self.maximumHelloSize) is less than \(Self.minimumFrameSize) bytes"
            )
        }
        guard self.keepaliveInterval > .zero else {
            throw WireError(
                code: .invalidConfiguration,
                message: "keepalive interval \(self.keepaliveInterval) is not positive"
            )
        }
        guard self.idleTimeout > .zero else {
            throw WireError(code: .invalidConfiguration, message: "idle timeout \(self.idleTimeout) is not positive")
        }
    }
}
