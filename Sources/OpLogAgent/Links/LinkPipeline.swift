import NIOCore
import OpLogWire

/// The one place a link's channel is built, for accepted and dialled connections alike: the
/// traffic counter next to the socket, then the wire pipeline (and, with the secure-links
/// issue, TLS between the two).
enum LinkPipeline {
    /// A connection wrapped for async use, with the counts of what crossed its socket.
    struct Adopted: Sendable {
        let connection: NIOAsyncChannel<WireMessage, WireMessage>
        let traffic: LinkTraffic
    }

    /// Configures a new connection's pipeline. Used as the bootstrap's channel initializer on
    /// both sides; the channel comes out plain, with `autoRead` off, and is wrapped for async
    /// use by the task that serves it (``adopt(_:)``).
    static func initialize(_ channel: any Channel, wire: WireConfiguration) -> EventLoopFuture<any Channel> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(LinkTrafficHandler(traffic: LinkTraffic()))
            try WirePipeline.configure(channel.pipeline.syncOperations, configuration: wire)
            return channel
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
                traffic: try channel.pipeline.syncOperations.handler(type: LinkTrafficHandler.self).traffic
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
