import NIOCore
import NIOTLS

/// Sits behind a link's TLS handler and completes ``completed`` when the handshake has: from
/// then on the peer's certificate is verified (``LinkTLS/verifiedPeer(of:)`` names it), so the
/// link can say in its hello what it takes from that peer before either side has read the
/// other's hello. Fails ``completed`` with the error when the handshake fails, and when the
/// channel closes before it ends.
final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    /// Succeeds once the TLS handshake completed.
    let completed: EventLoopFuture<Void>
    private let promise: EventLoopPromise<Void>

    init(eventLoop: any EventLoop) {
        self.promise = eventLoop.makePromise()
        self.completed = self.promise.futureResult
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { self.promise.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.fail(ChannelError.alreadyClosed)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.promise.fail(ChannelError.alreadyClosed)
    }
}
