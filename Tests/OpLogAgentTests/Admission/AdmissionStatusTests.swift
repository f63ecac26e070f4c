import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import OpLogIdentity
import OpLogWire
import Testing

@testable import OpLogAgent

/// DESIGN §7's "before a peer is known": the refusals the node keeps (``AdmissionBook``), and
/// the link pipeline on loopback (``LinkPipeline``, ``LinkSecurity``) refusing a stranger in the
/// TLS handshake, holding at most N connections not yet admitted, and closing one that is not
/// admitted in time.
@Suite struct AdmissionBookTests {
    @Test func pendingListsEachIDOnceNewestLastWithinItsBound() {
        let book = AdmissionBook(maximumPending: 2, logInterval: .seconds(60))
        for id in ["a", "b", "a", "c"] {
            _ = book.refused(id, address: "10.0.0.1:\(id.utf8.first ?? 0)", reason: .notAccepted, isPending: true)
        }
        #expect(book.pending.map(\.id) == ["a", "c"], "a tried again after b; b, the oldest, was dropped")
        #expect(book.refusals[.notAccepted] == 4)
        _ = book.refused("d", address: "x", reason: .wrongPeer, isPending: false)
        #expect(book.pending.map(\.id) == ["a", "c"], "a wrong pin is counted, not pending")
        #expect(book.refusals[.wrongPeer] == 1)
    }

    @Test func eachIDIsLoggedAtMostOncePerInterval() {
        let book = AdmissionBook(maximumPending: 64, logInterval: .seconds(60))
        let start = ContinuousClock.now
        #expect(book.refused("a", address: "x", reason: .notAccepted, isPending: true, now: start))
        #expect(!book.refused("a", address: "x", reason: .notAccepted, isPending: true, now: start + .seconds(59)))
        #expect(book.refused("b", address: "x", reason: .notAccepted, isPending: true, now: start + .seconds(59)))
        #expect(book.refused("a", address: "x", reason: .notAccepted, isPending: true, now: start + .seconds(61)))
        #expect(book.refusals[.notAccepted] == 4, "every refusal is counted, logged or not")
    }
}

@Suite struct LinkPipelineAdmissionTests {
    /// A listener whose accepted connections go through ``LinkPipeline`` with `security`, each
    /// served (read until it closes) as the node's listener would before the hello.
    func withListener(
        _ security: LinkSecurity,
        _ body: (Int) async throws -> Void
    ) async throws {
        let wire = WireConfiguration()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0) { channel in
                LinkPipeline.initialize(channel, direction: .accepted, security: security, wire: wire)
            }
        let port = try #require(server.channel.localAddress?.port)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await server.executeThenClose { connections in
                    try await withThrowingDiscardingTaskGroup { children in
                        for try await accepted in connections {
                            children.addTask {
                                guard let adopted = try? await LinkPipeline.adopt(accepted.channel) else { return }
                                try? await adopted.connection.executeThenClose { inbound, _ in
                                    for try await _ in inbound {}
                                }
                            }
                        }
                    }
                }
            }
            try await body(port)
            server.channel.close(promise: nil)
            tasks.cancelAll()
        }
    }

    func security(
        accepting ids: [NodeFingerprint] = [],
        maximumUnadmitted: Int = 64,
        timeout: Duration = .seconds(10)
    ) throws
        -> LinkSecurity
    {
        LinkSecurity(
            tls: try LinkTLS(identity: try Identity.generate()),
            accepted: AcceptedPeers(ids),
            book: AdmissionBook(maximumPending: 64, logInterval: .seconds(60)),
            handshakeTimeout: timeout,
            maximumUnadmitted: maximumUnadmitted,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        )
    }

    /// Opens a plain TCP connection and returns it, unread.
    func connect(_ port: Int) async throws -> any Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
    }

    /// Waits (at most 30 s) for `condition`.
    func waitFor(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("gave up waiting for \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func aStrangerIsRefusedInTheHandshakeAndListedAsPending() async throws {
        let security = try self.security()
        try await self.withListener(security) { port in
            let stranger = try Identity.generate()
            let tls = try LinkTLS(identity: stranger)
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            try tls.makeClientHandler(expecting: security.tls.ownID, onRefusal: { _ in })
                        )
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            channel.writeAndFlush(ByteBuffer(bytes: [0, 0, 0, 1, 1]), promise: nil)
            try await channel.closeFuture.get()
            try await self.waitFor("the refusal") { !security.book.pending.isEmpty }
            #expect(security.book.pending.map(\.id) == [stranger.nodeID.description])
            #expect(security.book.pending.first?.address.hasPrefix("127.0.0.1:") == true)
            #expect(security.book.refusals[.notAccepted] == 1)
            try await self.waitFor("its slot to be given back") { security.unadmittedCount == 0 }
        }
    }

    @Test func atMostNConnectionsWaitToBeAdmitted() async throws {
        let security = try self.security(maximumUnadmitted: 2)
        try await self.withListener(security) { port in
            let held = [try await self.connect(port), try await self.connect(port)]
            try await self.waitFor("two slots taken") { security.unadmittedCount == 2 }
            let third = try await self.connect(port)
            try await third.closeFuture.get()
            #expect(security.book.refusals[.tooManyUnadmitted] == 1)
            #expect(security.unadmittedCount == 2, "the held ones keep theirs")
            for channel in held { try await channel.close() }
            try await self.waitFor("the slots to be given back") { security.unadmittedCount == 0 }
        }
    }

    @Test func aConnectionNotAdmittedInTimeIsClosed() async throws {
        let security = try self.security(timeout: .milliseconds(200))
        try await self.withListener(security) { port in
            let silent = try await self.connect(port)
            try await silent.closeFuture.get()
            #expect(security.book.refusals[.handshakeTimeout] == 1)
            try await self.waitFor("its slot to be given back") { security.unadmittedCount == 0 }
        }
    }
}
