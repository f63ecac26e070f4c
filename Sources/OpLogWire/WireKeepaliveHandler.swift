public import NIOCore

/// Keeps a connection alive and detects a silent peer, driven by NIOCore's `IdleStateHandler`
/// earlier in the pipeline.
///
/// - On `IdleStateHandler.IdleStateEvent.write` (nothing written for the keepalive interval) it
///   writes and flushes a ``WireMessage/ping``.
/// - On an inbound ``WireMessage/ping`` it answers ``WireMessage/pong`` itself; pings and pongs
///   are consumed here and never reach the channel's owner. The pong is flushed at the end of
///   the read burst.
/// - On `IdleStateHandler.IdleStateEvent.read` (nothing read for the idle timeout) it fires a
///   `WireError` with code `.peerSilent` and closes the channel.
///
/// Every other message and event passes through unchanged. Bound to one event loop.
public final class WireKeepaliveHandler: ChannelInboundHandler {
    public typealias InboundIn = WireMessage
    public typealias InboundOut = WireMessage
    public typealias OutboundOut = WireMessage

    private let idleTimeout: Duration
    /// A pong was written during the current read burst and awaits a flush.
    private var needsFlush = false

    /// Creates a keepalive handler; `idleTimeout` is the `IdleStateHandler`'s read timeout,
    /// quoted in the `.peerSilent` error.
    public init(idleTimeout: Duration = WireConfiguration().idleTimeout) {
        self.idleTimeout = idleTimeout
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .ping:
            context.write(self.wrapOutboundOut(.pong), promise: nil)
            self.needsFlush = true
        case .pong:
            break
        case .hello, .replication:
            context.fireChannelRead(data)
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idleEvent = event as? IdleStateHandler.IdleStateEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch idleEvent {
        case .write:
            context.writeAndFlush(self.wrapOutboundOut(.ping), promise: nil)
        case .read:
            let error = WireError(code: .peerSilent, message: "peer sent nothing for \(self.idleTimeout)")
            context.fireErrorCaught(error)
            context.close(promise: nil)
        case .all:
            context.fireUserInboundEventTriggered(event)
        }
    }
}

@available(*, unavailable)
extension WireKeepaliveHandler: Sendable {}
