import NIOCore
import OpLog
import Synchronization

/// The bytes one connection carried each way and when it last received any, counted next to
/// the socket by ``LinkTrafficHandler`` and read by the core for the status snapshot.
final class LinkTraffic: Sendable {
    /// The counts at one moment.
    struct Counts: Sendable, Equatable {
        var bytesSent: UInt64 = 0
        var bytesReceived: UInt64 = 0
        /// When a byte was last received; `nil` if none was.
        var lastReceived: WallClockTime?

        /// The counts of two stretches of traffic one after the other.
        static func + (earlier: Counts, later: Counts) -> Counts {
            Counts(
                bytesSent: earlier.bytesSent + later.bytesSent,
                bytesReceived: earlier.bytesReceived + later.bytesReceived,
                lastReceived: later.lastReceived ?? earlier.lastReceived
            )
        }
    }

    private let sent = Atomic<UInt64>(0)
    private let received = Atomic<UInt64>(0)
    /// Nanoseconds since the Unix epoch of the last receipt; 0 for none.
    private let lastReceived = Atomic<Int64>(0)

    init() {}

    func noteSent(_ count: Int) {
        self.sent.add(UInt64(count), ordering: .relaxed)
    }

    func noteReceived(_ count: Int, at time: WallClockTime) {
        self.received.add(UInt64(count), ordering: .relaxed)
        self.lastReceived.store(Int64(time.seconds) * 1_000_000_000 + Int64(time.nanoseconds), ordering: .relaxed)
    }

    /// The counts now.
    var counts: Counts {
        let last = self.lastReceived.load(ordering: .relaxed)
        return Counts(
            bytesSent: self.sent.load(ordering: .relaxed),
            bytesReceived: self.received.load(ordering: .relaxed),
            lastReceived: last == 0
                ? nil : WallClockTime(seconds: Int(last / 1_000_000_000), nanoseconds: Int(last % 1_000_000_000))
        )
    }
}

/// Counts a connection's bytes into its ``LinkTraffic``: the first handler of a link's
/// pipeline (``LinkPipeline``), next to the socket, so it counts what crosses the socket
/// (TLS records included, once links have TLS), and passes everything on unchanged.
final class LinkTrafficHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let traffic: LinkTraffic

    init(traffic: LinkTraffic) {
        self.traffic = traffic
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.traffic.noteReceived(Self.unwrapInboundIn(data).readableBytes, at: .now())
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.traffic.noteSent(Self.unwrapOutboundIn(data).readableBytes)
        context.write(data, promise: promise)
    }
}

@available(*, unavailable)
extension LinkTrafficHandler: Sendable {}
