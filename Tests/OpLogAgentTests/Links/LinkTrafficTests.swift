import NIOCore
import NIOEmbedded
import OpLog
import Testing

@testable import OpLogAgent

/// The traffic counter next to the socket: every byte each way, passed on unchanged, and when
/// the last one came in.
@Suite struct LinkTrafficTests {
    @Test func countsBytesBothWaysAndPassesThemOn() throws {
        let traffic = LinkTraffic()
        let channel = EmbeddedChannel(handler: LinkTrafficHandler(traffic: traffic))
        defer { _ = try? channel.finish() }
        #expect(traffic.counts == LinkTraffic.Counts())

        let before = WallClockTime.now()
        try channel.writeInbound(ByteBuffer(bytes: [1, 2, 3]))
        try channel.writeInbound(ByteBuffer(bytes: [4, 5]))
        try channel.writeOutbound(ByteBuffer(bytes: Array(repeating: 9, count: 10)))
        let after = WallClockTime.now()

        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [4, 5]))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: Array(repeating: 9, count: 10)))
        let counts = traffic.counts
        #expect(counts.bytesReceived == 5)
        #expect(counts.bytesSent == 10)
        let last = try #require(counts.lastReceived)
        #expect(before <= last && last <= after)
    }

    @Test func countsAddUpAcrossLinks() {
        let first = LinkTraffic.Counts(bytesSent: 1, bytesReceived: 2, lastReceived: WallClockTime(seconds: 10, nanoseconds: 0))
        let second = LinkTraffic.Counts(bytesSent: 3, bytesReceived: 4, lastReceived: nil)
        #expect(first + second == LinkTraffic.Counts(bytesSent: 4, bytesReceived: 6, lastReceived: first.lastReceived))
    }
}
