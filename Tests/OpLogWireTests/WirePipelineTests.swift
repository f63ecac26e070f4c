import NIOCore
import NIOEmbedded
import OpLogReplication
import OpLogWire
import Testing

@Suite struct WirePipelineTests {
    func makeChannel(_ configuration: WireConfiguration = WireConfiguration()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try WirePipeline.configure(channel.pipeline.syncOperations, configuration: configuration)
        return channel
    }

    /// Everything the keepalive handler passes on: pings and pongs never reach the owner.
    var ownerMessages: [WireMessage] {
        sampleMessages.filter { $0 != .ping && $0 != .pong }
    }

    @Test func messagesCrossFromOnePipelineToAnother() throws {
        let sender = try self.makeChannel()
        let receiver = try self.makeChannel()
        for message in self.ownerMessages {
            try sender.writeOutbound(message)
        }
        let bytes = try drainOutboundBytes(sender)
        #expect(bytes == (try self.ownerMessages.flatMap { try frameBytes($0) }))
        try receiver.writeInbound(ByteBuffer(bytes: bytes))
        #expect(try drainInboundMessages(receiver) == self.ownerMessages)
    }

    @Test func messagesSurviveOneByteReads() throws {
        let receiver = try self.makeChannel()
        let bytes = try self.ownerMessages.flatMap { try frameBytes($0) }
        for byte in bytes {
            try receiver.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(try drainInboundMessages(receiver) == self.ownerMessages)
        #expect(try drainOutboundBytes(receiver).isEmpty)
    }

    @Test func aPingIsAnsweredOnTheWireAndNotDelivered() throws {
        let channel = try self.makeChannel()
        let hello = WireMessage.hello(Hello(nodeID: "b", isReadOnly: false))
        try channel.writeInbound(ByteBuffer(bytes: try frameBytes(.ping) + frameBytes(.pong) + frameBytes(hello)))
        #expect(try drainInboundMessages(channel) == [hello])
        #expect(try drainOutboundBytes(channel) == [0, 0, 0, 1, 0x03])
    }

    @Test func anOversizedOutgoingMessageFailsItsWriteOnly() throws {
        let channel = try self.makeChannel(WireConfiguration(maximumFrameSize: 1024))
        let large = WireMessage.replication(.checkpoint(session: "s", bytes: Array(repeating: 0, count: 1024)))
        #expect {
            try channel.writeOutbound(large)
        } throws: { error in
            (error as? WireError)?.code == .frameTooLarge
        }
        #expect(try drainOutboundBytes(channel).isEmpty)
        try channel.writeOutbound(WireMessage.ping)
        #expect(try drainOutboundBytes(channel) == [0, 0, 0, 1, 0x02])
    }

    @Test func anOversizedIncomingFrameClosesTheChannel() throws {
        let channel = try self.makeChannel(WireConfiguration(maximumFrameSize: 1024))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7000)).wait()
        #expect {
            try channel.writeInbound(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF]))
        } throws: { error in
            (error as? WireError)?.code == .frameTooLarge
        }
        #expect(!channel.isActive)
    }

    @Test(arguments: [[0x7F], [0x10, 0, 0], [0x02, 0x00]] as [[UInt8]])
    func aMalformedPayloadClosesTheChannelAndLaterFramesAreDropped(payload: [UInt8]) throws {
        let channel = try self.makeChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7000)).wait()
        let good = WireMessage.replication(.acknowledge(session: "s", after: 0, through: 1))
        let stream = lengthPrefixed(payload) + (try frameBytes(good))
        #expect(throws: WireError.self) {
            try channel.writeInbound(ByteBuffer(bytes: stream))
        }
        #expect(!channel.isActive)
        #expect(try drainInboundMessages(channel).isEmpty)
    }

    @Test func idleTimeoutsComeFromTheConfiguration() throws {
        let configuration = WireConfiguration(keepaliveInterval: .seconds(3), idleTimeout: .seconds(11))
        let channel = try self.makeChannel(configuration)
        let idle = try channel.pipeline.syncOperations.handler(type: IdleStateHandler.self)
        #expect(idle.writeTimeout == .seconds(3))
        #expect(idle.readTimeout == .seconds(11))
        #expect(idle.allTimeout == nil)
    }

    // IdleStateHandler measures idleness with the wall clock, not the event loop's, so
    // EmbeddedEventLoop.advanceTime cannot trigger it: the events are fired at the head of the
    // pipeline instead, where IdleStateHandler would fire them.
    @Test func writerIdleSendsAPingFrameAndReaderIdleClosesTheChannel() throws {
        let channel = try self.makeChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7000)).wait()
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.write)
        #expect(try drainOutboundBytes(channel) == [0, 0, 0, 1, 0x02])
        #expect(channel.isActive)
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        #expect(!channel.isActive)
        #expect {
            try channel.throwIfErrorCaught()
        } throws: { error in
            (error as? WireError)?.code == .peerSilent
        }
    }

    @Test(arguments: [
        WireConfiguration(maximumFrameSize: 1023),
        WireConfiguration(maximumFrameSize: Int(UInt32.max) + 1),
        WireConfiguration(keepaliveInterval: .zero),
        WireConfiguration(idleTimeout: .seconds(-1)),
    ])
    func rejectsAnInvalidConfigurationBeforeAddingHandlers(configuration: WireConfiguration) throws {
        let channel = EmbeddedChannel()
        #expect {
            try WirePipeline.configure(channel.pipeline.syncOperations, configuration: configuration)
        } throws: { error in
            (error as? WireError)?.code == .invalidConfiguration
        }
        #expect(throws: (any Error).self) {
            try channel.pipeline.syncOperations.context(handlerType: WireMessageCodec.self)
        }
    }

    @Test func defaults() {
        let configuration = WireConfiguration()
        #expect(configuration.maximumFrameSize == 32 * 1024 * 1024)
        #expect(configuration.keepaliveInterval == .seconds(5))
        #expect(configuration.idleTimeout == .seconds(20))
        #expect(throws: Never.self) { try configuration.validate() }
    }
}
