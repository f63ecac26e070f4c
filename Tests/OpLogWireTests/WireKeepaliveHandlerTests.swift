import NIOCore
import NIOEmbedded
import OpLogReplication
import OpLogWire
import Testing

@Suite struct WireKeepaliveHandlerTests {
    func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: WireKeepaliveHandler(idleTimeout: .seconds(20)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7000)).wait()
        return channel
    }

    @Test func writerIdleSendsAPing() throws {
        let channel = try self.makeChannel()
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.write)
        #expect(try channel.readOutbound(as: WireMessage.self) == .ping)
        #expect(try channel.readOutbound(as: WireMessage.self) == nil)
        #expect(channel.isActive)
    }

    @Test func aPingIsAnsweredWithAPongAndNotForwarded() throws {
        let channel = try self.makeChannel()
        try channel.writeInbound(WireMessage.ping)
        #expect(try channel.readOutbound(as: WireMessage.self) == .pong)
        #expect(try channel.readInbound(as: WireMessage.self) == nil)
    }

    @Test func aPongIsConsumed() throws {
        let channel = try self.makeChannel()
        try channel.writeInbound(WireMessage.pong)
        #expect(try channel.readInbound(as: WireMessage.self) == nil)
        #expect(try channel.readOutbound(as: WireMessage.self) == nil)
    }

    @Test func otherMessagesPassThrough() throws {
        let channel = try self.makeChannel()
        let messages: [WireMessage] = [
            .hello(Hello(nodeID: "b", isReadOnly: true)),
            .replication(.acknowledge(session: "s", after: 1, through: 2)),
        ]
        for message in messages {
            try channel.writeInbound(message)
        }
        #expect(try drainInboundMessages(channel) == messages)
        #expect(try channel.readOutbound(as: WireMessage.self) == nil)
    }

    @Test func readerIdleClosesTheChannelWithPeerSilent() throws {
        let channel = try self.makeChannel()
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        #expect(!channel.isActive)
        #expect {
            try channel.throwIfErrorCaught()
        } throws: { error in
            (error as? WireError)?.code == .peerSilent
        }
        #expect(try channel.readOutbound(as: WireMessage.self) == nil)
    }
}
