import Crypto
import NIOCore
import NIOPosix
import NIOSSL
import OpLogIdentity
import Synchronization
import Testing

/// Real TLS over loopback TCP: a listener that greets every connection, answers the dialler's
/// greeting and records what it got, and a dialler that sends its greeting and reads the
/// listener's.
enum LoopbackLinks {
    /// What the listener writes at once, before its handshake is done (NIOSSL holds it until
    /// then, and drops it if the handshake fails).
    static let serverEarly = "hello from the listener; "
    /// What it writes once the dialler's greeting is in.
    static let serverAnswer = "got your greeting"
    /// All a dialler gets from an admitting listener.
    static let serverGreeting = serverEarly + serverAnswer
    static let clientGreeting = "hello from the dialler"

    /// What the listener saw of one connection, once it ended.
    struct Served: Sendable {
        /// The application bytes it received.
        var received: [UInt8] = []
        /// The peer ``LinkTLS/verifiedPeer(in:)`` named once bytes arrived.
        var peer: NodeFingerprint?
        /// The secret ``LinkTLS/pairSecret(on:)`` agreed with that peer then.
        var pairSecret: [UInt8]?
        /// How the connection failed, if it did (the TLS alert, mostly).
        var error: String?
    }

    /// What the dialler saw.
    struct Dialled: Sendable {
        var received: [UInt8] = []
        var peer: NodeFingerprint?
        /// The pair secret, when ``dial(port:tls:_:)`` was given the dialler's `LinkTLS`.
        var pairSecret: [UInt8]?
        var error: String?
    }

    /// A running listener.
    struct Listener: Sendable {
        var port: Int
        /// The refusals its verification reported, in order.
        var refusals: Recorder<PeerRefusal>
        /// One element per connection, as each one ends.
        var served: AsyncStream<Served>

        /// The next connection's outcome, failing after 30 s.
        func nextServed() async throws -> Served {
            let served = self.served
            return try await withDeadline("the listener's next connection") {
                var iterator = served.makeAsyncIterator()
                return await iterator.next()
            }
        }
    }

    /// Runs a listener on 127.0.0.1 (port 0) with `tls` and `policy` while `body` runs.
    static func withListener<T: Sendable>(
        _ tls: LinkTLS,
        accepting policy: PeerPolicy,
        _ body: (Listener) async throws -> T
    ) async throws -> T {
        let refusals = Recorder<PeerRefusal>()
        let (served, servedSink) = AsyncStream<Served>.makeStream()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = tls.makeServerHandler(accepting: policy) { refusals.append($0) }
                    try channel.pipeline.syncOperations.addHandler(handler)
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let port = try #require(server.channel.localAddress?.port)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withThrowingDiscardingTaskGroup { connections in
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            connections.addTask { servedSink.yield(await Self.serve(connection, tls: tls)) }
                        }
                    }
                }
            }
            defer { group.cancelAll() }
            return try await body(Listener(port: port, refusals: refusals, served: served))
        }
    }

    /// Greets at once, reads the dialler's greeting, asks who the peer is, answers, then reads
    /// until the peer closes (the dialler closes once it has the answer, so the channel is still
    /// open when the peer is asked).
    private static func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, tls: LinkTLS) async -> Served {
        do {
            return try await connection.executeThenClose { inbound, outbound in
                var served = Served()
                do {
                    try await outbound.write(ByteBuffer(string: Self.serverEarly))
                    for try await chunk in inbound {
                        let hadGreeting = served.received.count >= Self.clientGreeting.utf8.count
                        served.received += chunk.readableBytesView
                        if !hadGreeting && served.received.count >= Self.clientGreeting.utf8.count {
                            served.peer = try await LinkTLS.verifiedPeer(of: connection.channel)
                            served.pairSecret = try await tls.pairSecret(on: connection.channel)
                            try await outbound.write(ByteBuffer(string: Self.serverAnswer))
                        }
                    }
                } catch {
                    served.error = "\(error)"
                }
                return served
            }
        } catch {
            return Served(error: "\(error)")
        }
    }

    /// Dials `port` with the TLS handler `makeHandler` makes (on the channel's event loop), sends
    /// the dialler's greeting and reads until the listener's greeting is in or the link ends;
    /// with `tls`, asks it for the pair secret then.
    static func dial(
        port: Int,
        tls: LinkTLS? = nil,
        _ makeHandler: @escaping @Sendable () throws -> any ChannelHandler
    ) async -> Dialled {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(makeHandler())
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            return try await withDeadline("the dialled link") {
                try await channel.executeThenClose { inbound, outbound in
                    var dialled = Dialled()
                    do {
                        try await outbound.write(ByteBuffer(string: Self.clientGreeting))
                        for try await chunk in inbound {
                            dialled.received += chunk.readableBytesView
                            if dialled.received.count >= Self.serverGreeting.utf8.count { break }
                        }
                    } catch {
                        dialled.error = "\(error)"
                    }
                    dialled.peer = try? await LinkTLS.verifiedPeer(of: channel.channel)
                    if let tls { dialled.pairSecret = try? await tls.pairSecret(on: channel.channel) }
                    return dialled
                }
            }
        } catch {
            return Dialled(error: "\(error)")
        }
    }

    /// A client handler outside our pinning: a plain NIOSSL client presenting `identity`'s
    /// certificate, checking nothing, speaking at most `maximumVersion`.
    static func plainClientContext(presenting identity: Identity, maximumVersion: TLSVersion) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = [.certificate(try NIOSSLCertificate(bytes: identity.certificateDER, format: .der))]
        configuration.privateKey = .privateKey(
            try NIOSSLPrivateKey(bytes: Array(identity.privateKey.pemRepresentation.utf8), format: .pem)
        )
        configuration.certificateVerification = .none
        configuration.maximumTLSVersion = maximumVersion
        return try NIOSSLContext(configuration: configuration)
    }
}

/// Values appended from any thread (a verification callback on an event loop), read by a test.
final class Recorder<Element: Sendable>: Sendable {
    private let elements = Mutex<[Element]>([])

    func append(_ element: Element) {
        self.elements.withLock { $0.append(element) }
    }

    var all: [Element] { self.elements.withLock { $0 } }
}

/// A wait that ran past its deadline.
struct DeadlineExceeded: Error, CustomStringConvertible {
    var what: String
    var description: String { "no \(self.what) within 30 s" }
}

/// `body`'s value, or ``DeadlineExceeded`` (cancelling `body`) when it takes over 30 s or
/// returns `nil`.
func withDeadline<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T?) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(30))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw DeadlineExceeded(what: what) }
        return value
    }
}
