import NIOCore
import NIOEmbedded
import NIOTestUtils
import OpLogWire
import Testing

@Suite struct WireFrameDecoderTests {
    let payloads: [[UInt8]] = [Array(0...255), [], [0x02], Array(repeating: 7, count: 1024)]

    var stream: [UInt8] {
        self.payloads.flatMap { bigEndianBytes(UInt32($0.count)) + $0 }
    }

    func makeChannel(maximumFrameSize: Int = 1024) -> EmbeddedChannel {
        EmbeddedChannel(handler: ByteToMessageHandler(WireFrameDecoder(maximumFrameSize: maximumFrameSize)))
    }

    func drainPayloads(_ channel: EmbeddedChannel) throws -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        while let buffer = try channel.readInbound(as: ByteBuffer.self) {
            payloads.append(Array(buffer.readableBytesView))
        }
        return payloads
    }

    @Test func decodesFramesFedOneByteAtATime() throws {
        let channel = self.makeChannel()
        let stream = self.stream
        let firstFrameEnd = 4 + self.payloads[0].count
        var received: [[UInt8]] = []
        for (index, byte) in stream.enumerated() {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            let decoded = try self.drainPayloads(channel)
            if index < firstFrameEnd - 1 {
                #expect(decoded.isEmpty, "frame emitted after \(index + 1) bytes")
            }
            received += decoded
        }
        #expect(received == self.payloads)
        #expect(try channel.finish().isClean)
    }

    @Test func decodesSeveralFramesInOneRead() throws {
        let channel = self.makeChannel()
        try channel.writeInbound(ByteBuffer(bytes: self.stream))
        #expect(try self.drainPayloads(channel) == self.payloads)
        #expect(try channel.finish().isClean)
    }

    @Test(arguments: [[0xFF, 0xFF, 0xFF, 0xFF], [0x00, 0x00, 0x04, 0x01]] as [[UInt8]])
    func rejectsAnOversizedLengthFromTheLengthFieldAlone(header: [UInt8]) {
        // Only the four length bytes are sent: the decoder must not wait for (or buffer) the frame.
        let channel = self.makeChannel(maximumFrameSize: 1024)
        #expect {
            try channel.writeInbound(ByteBuffer(bytes: header))
        } throws: { error in
            (error as? WireError)?.code == .frameTooLarge
        }
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }

    @Test func acceptsAFrameOfExactlyTheMaximum() throws {
        let channel = self.makeChannel(maximumFrameSize: 1024)
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 4, 0] + Array(repeating: 1, count: 1024)))
        #expect(try self.drainPayloads(channel) == [Array(repeating: 1, count: 1024)])
    }

    @Test func reportsAConnectionEndingInsideAFrame() throws {
        let channel = self.makeChannel()
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 10, 1, 2, 3]))
        #expect(try self.drainPayloads(channel).isEmpty)
        #expect {
            try channel.finish()
        } throws: { error in
            (error as? WireError)?.code == .truncatedFrame
        }
    }
}

@Suite struct WireFrameDecoderVerifierTests {
    /// NIO's own checker feeds the input split every way it can and in one piece, and demands
    /// the same frames each time, with nothing left over.
    @Test func passesByteToMessageDecoderVerifier() throws {
        let payloads: [[UInt8]] = [Array(0...255), [], [0x02], Array(repeating: 7, count: 300)]
        let pairs = payloads.map { payload in
            (ByteBuffer(bytes: bigEndianBytes(UInt32(payload.count)) + payload), [ByteBuffer(bytes: payload)])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            WireFrameDecoder(maximumFrameSize: 1024)
        }
    }

    /// DESIGN §7: before the hello is checked, a frame larger than a hello is refused on its
    /// length field; once the limit is raised, the normal maximum applies.
    @Test func aSharedLimitHoldsFramesToTheHelloSizeUntilRaised() throws {
        let limit = WireFrameLimit(initial: 1024, raised: 1 << 20)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WireFrameDecoder(limit: limit)))
        let small = Array(repeating: UInt8(1), count: 1000)
        try channel.writeInbound(ByteBuffer(bytes: bigEndianBytes(UInt32(small.count)) + small))
        #expect(try WireFrameDecoderTests().drainPayloads(channel) == [small])
        #expect(throws: WireError.self) {
            try channel.writeInbound(ByteBuffer(bytes: bigEndianBytes(UInt32(32 << 20)) + [0x10]))
        }

        let raised = WireFrameLimit(initial: 1024, raised: 1 << 20)
        let admitted = EmbeddedChannel(handler: ByteToMessageHandler(WireFrameDecoder(limit: raised)))
        raised.raise()
        let large = Array(repeating: UInt8(2), count: 4096)
        try admitted.writeInbound(ByteBuffer(bytes: bigEndianBytes(UInt32(large.count)) + large))
        #expect(try WireFrameDecoderTests().drainPayloads(admitted) == [large])
    }
}
