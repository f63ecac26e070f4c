public import NIOCore
import NIOExtras

/// Sets up a channel pipeline to carry ``WireMessage``s.
public enum WirePipeline {
    /// Adds the wire handlers to `pipeline`, after any handlers already in it (TLS, for
    /// example).
    ///
    /// In order, from the network inwards: an `IdleStateHandler` (read timeout
    /// `idleTimeout`, write timeout `keepaliveInterval`; it sees raw bytes, so a large frame
    /// arriving slowly counts as activity), a `ByteToMessageHandler(WireFrameDecoder)` holding at
    /// most one frame, a 4-byte big-endian `LengthFieldPrepender`, a ``WireMessageCodec`` and a
    /// ``WireKeepaliveHandler``. The channel then reads and writes ``WireMessage``s, for example
    /// as `NIOAsyncChannel<WireMessage, WireMessage>(wrappingChannelSynchronously:)` added after
    /// this call; it never sees pings or pongs, and its inbound stream ends with a `WireError`
    /// when the peer breaks the protocol or falls silent.
    ///
    /// With a `frameLimit` (typically starting at ``WireConfiguration/maximumHelloSize``), the
    /// decoder accepts frames up to its current value, which the caller raises once it has
    /// checked the peer's hello; without one, up to ``WireConfiguration/maximumFrameSize``. The
    /// buffer limit is that maximum in either case.
    /// - Parameters:
    ///   - pipeline: The pipeline's synchronous operations, on its event loop.
    ///   - configuration: Limits and timers; checked first.
    ///   - frameLimit: The decoder's changing limit, if any.
    /// - Throws: `WireError` with code `.invalidConfiguration` (nothing is added), or the
    ///   pipeline's error when a handler cannot be added.
    public static func configure(
        _ pipeline: ChannelPipeline.SynchronousOperations,
        configuration: WireConfiguration,
        frameLimit: WireFrameLimit? = nil
    ) throws {
        try configuration.validate()
        let maximumFrameSize = configuration.maximumFrameSize
        let limit = frameLimit ?? WireFrameLimit(initial: maximumFrameSize, raised: maximumFrameSize)
        try pipeline.addHandlers([
            IdleStateHandler(
                readTimeout: TimeAmount(configuration.idleTimeout),
                writeTimeout: TimeAmount(configuration.keepaliveInterval)
            ),
            ByteToMessageHandler(
                WireFrameDecoder(limit: limit),
                maximumBufferSize: maximumFrameSize + WireFormat.lengthFieldSize
            ),
            LengthFieldPrepender(lengthFieldBitLength: .fourBytes, lengthFieldEndianness: .big),
            WireMessageCodec(maximumFrameSize: maximumFrameSize),
            WireKeepaliveHandler(idleTimeout: configuration.idleTimeout),
        ])
    }
}
