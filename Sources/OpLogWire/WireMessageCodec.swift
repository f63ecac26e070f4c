public import NIOCore

/// Turns frame payloads into ``WireMessage``s and messages into payloads, in a pipeline after
/// a `ByteToMessageHandler(WireFrameDecoder)` and a 4-byte `LengthFieldPrepender`.
///
/// Inbound, a payload that does not decode is a protocol error: the `WireError` is fired and
/// the channel closed, and later payloads are dropped. Errors from handlers before it (a
/// framing error, an I/O error) also close the channel after being forwarded, because a byte
/// stream that lost its framing cannot be resynchronised. Outbound, a message larger than
/// `maximumFrameSize` fails its write promise with `.frameTooLarge` and nothing is written; the
/// channel stays open. Bound to one event loop.
public final class WireMessageCodec: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = WireMessage
    public typealias OutboundIn = WireMessage
    public typealias OutboundOut = ByteBuffer

    private let maximumFrameSize: Int
    /// Whether an error closed the channel; nothing more is decoded after it.
    private var hasFailed = false

    /// Creates a codec that sends payloads of at most `maximumFrameSize` bytes.
    public init(maximumFrameSize: Int = WireConfiguration.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.hasFailed else {
            return
        }
        do {
            let message = try WireMessage(decoding: self.unwrapInboundIn(data))
            context.fireChannelRead(self.wrapInboundOut(message))
        } catch {
            self.fail(context: context, error: error)
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !self.hasFailed else {
            return
        }
        self.fail(context: context, error: error)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let message = self.unwrapOutboundIn(data)
        var buffer = context.channel.allocator.buffer(capacity: 0)
        do {
            try message.encode(into: &buffer, maximumFrameSize: self.maximumFrameSize)
        } catch {
            promise?.fail(error)
            return
        }
        context.write(self.wrapOutboundOut(buffer), promise: promise)
    }

    private func fail(context: ChannelHandlerContext, error: any Error) {
        self.hasFailed = true
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension WireMessageCodec: Sendable {}
