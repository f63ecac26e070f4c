import Logging
import NIOCore
import OpLogIdentity
import OpLogWire

/// The one place a link's channel is built, for accepted and dialled connections alike: the
/// traffic counter next to the socket, then TLS (``LinkSecurity``: TLS 1.3, the peer's
/// certificate pinned), then the wire pipeline, with its frame limit held to a hello's size until
/// the peer is admitted (``LinkAdmission``).
enum LinkPipeline {
    /// Which way a connection was made.
    enum Direction: Sendable {
        /// Accepted by the listener from `address`: any accepted ID may be behind it.
        case accepted
        /// Dialled to the peer with this ID.
        case dialled(NodeFingerprint)
    }

    /// A configured connection and its admission.
    struct Connection: Sendable {
        let channel: any Channel
        let admission: LinkAdmission
    }

    /// A connection wrapped for async use, with the counts of what crossed its socket.
    struct Adopted: Sendable {
        let connection: NIOAsyncChannel<WireMessage, WireMessage>
        let traffic: LinkTraffic
        /// Succeeds once the TLS handshake completed (the peer's certificate is verified).
        let handshake: EventLoopFuture<Void>
    }

    /// Configures a new connection's pipeline. Used as the bootstrap's channel initializer on
    /// both sides; the channel comes out with `autoRead` off, and is wrapped for async use by
    /// the task that serves it (``adopt(_:)``).
    ///
    /// An accepted connection takes one of the slots of connections not yet admitted; when none
    /// is free it is counted and the future fails, which closes it at once. Every connection is
    /// closed if it is not admitted within the handshake deadline.
    static func initialize(
        _ channel: any Channel,
        direction: Direction,
        security: LinkSecurity,
        wire: WireConfiguration
    ) -> EventLoopFuture<Connection> {
        channel.eventLoop.makeCompletedFuture {
            let address = channel.remoteAddress.map(PeerConnection.describe) ?? "unknown"
            let release: @Sendable () -> Void
            switch direction {
            case .accepted:
                guard security.reserveSlot() else {
                    security.book.count(.tooManyUnadmitted)
                    // Closed here: a failed initializer alone leaves the accepted socket open.
                    channel.close(promise: nil)
                    throw AgentError(
                        code: .handshake,
                        message: "too many connections waiting to be admitted; closed \(address)"
                    )
                }
                release = { security.releaseSlot() }
            case .dialled:
                release = {}
            }
            let pipeline = channel.pipeline.syncOperations
            // Counted as the bytes cross the socket: TLS records, handshake included.
            try pipeline.addHandler(LinkTrafficHandler(traffic: LinkTraffic()))
            let limit = WireFrameLimit(
                initial: min(wire.maximumHelloSize, wire.maximumFrameSize),
                raised: wire.maximumFrameSize
            )
            let admission = LinkAdmission(frameLimit: limit, release: release)
            admission.watch(channel, timeout: security.handshakeTimeout) {
                security.book.count(.handshakeTimeout)
                security.logger.debug("closing a connection not admitted in time", metadata: ["address": "\(address)"])
            }
            switch direction {
            case .accepted:
                try pipeline.addHandler(security.serverHandler(address: address, admission: admission))
            case .dialled(let peer):
                try pipeline.addHandler(security.clientHandler(expecting: peer, address: address, admission: admission))
            }
            let handshake = TLSHandshakeWaiter(eventLoop: channel.eventLoop)
            try pipeline.addHandler(handshake)
            try WirePipeline.configure(pipeline, configuration: wire, frameLimit: limit)
            return Connection(channel: channel, admission: admission)
        }
    }

    /// Wraps a configured connection for async use and starts reading from it; the traffic
    /// counted so far (the socket's first bytes) is included in ``Adopted/traffic``.
    ///
    /// This is done by the task that serves the connection, not in the bootstrap's initializer:
    /// a connection wrapped there but accepted while the listener stops is never served, and
    /// NIO traps when such a wrapper is released unfinished (swift-nio#2637). A connection
    /// dropped before this point is a plain channel, closed at exit at the latest.
    static func adopt(_ channel: any Channel) async throws -> Adopted {
        let adopted = try await channel.eventLoop.submit {
            Adopted(
                connection: try NIOAsyncChannel<WireMessage, WireMessage>(wrappingChannelSynchronously: channel),
                traffic: try channel.pipeline.syncOperations.handler(type: LinkTrafficHandler.self).traffic,
                handshake: try channel.pipeline.syncOperations.handler(type: TLSHandshakeWaiter.self).completed
            )
        }.get()
        let connection = adopted.connection
        do {
            try await channel.setOption(.autoRead, value: true).get()
        } catch {
            try? await connection.executeThenClose { _, _ in }
            throw error
        }
        return adopted
    }
}
