import NIOCore
import NIOEmbedded
import OpLogReplication
import OpLogWire

/// One of each message kind, with edge values: empty batches, empty lines, extreme integers,
/// non-ASCII strings.
let sampleMessages: [WireMessage] = [
    .hello(Hello(nodeID: "node-a", isReadOnly: false)),
    .hello(Hello(nodeID: "ñode-ü-東京", isReadOnly: true)),
    .ping,
    .pong,
    .replication(.entries(EntryBatch(session: "s1", after: 0, through: 0, lines: []))),
    .replication(.entries(EntryBatch(session: "", after: 7, through: 9, lines: []))),
    .replication(.entries(EntryBatch(session: "s1", after: 1, through: 4, lines: [[], Array("{\"a\":1}".utf8), [0, 10, 13, 255]]))),
    .replication(.entries(EntryBatch(session: "s2", after: .max - 1, through: .max, lines: [Array(repeating: 0x41, count: 5000)]))),
    .replication(
        .entries(
            EntryBatch(
                session: "s3",
                after: 2,
                through: 9,
                lines: [Array("{}".utf8)],
                notices: [EntryNotice(sequence: 4, hash: .max, contentHash: 0), EntryNotice(sequence: 9, hash: 1, contentHash: 2)],
                isLive: true
            )
        )
    ),
    .replication(.entries(EntryBatch(session: "s3", after: 0, through: 1, lines: [], isLive: true))),
    .replication(.acknowledge(session: "s1", after: 0, through: .max)),
    .replication(.checkpoint(session: "s1", bytes: [])),
    .replication(.checkpoint(session: "s1", bytes: Array("{\"lamport_ts\":3}".utf8))),
    .replication(.checkpointAcknowledge(session: "s1", lamportTimestamp: .min, snapshotID: "", digest: [])),
    .replication(.checkpointAcknowledge(session: "s1", lamportTimestamp: .max, snapshotID: "sha256:abc", digest: Array(0..<32))),
    .replication(.retransmit(session: "s1")),
    .replication(.retransmit(session: "")),
    .replication(.prune(session: "s1")),
    .replication(.graft(session: "s1", sequences: [])),
    .replication(.graft(session: "s2", sequences: [1, .max, 3])),
    .replication(.reconcile(session: "s1", exchange: 0, step: 3, ranges: [])),
    .replication(
        .reconcile(
            session: "s1",
            exchange: .max,
            step: 0,
            ranges: [ReconciliationRange(upperBound: .end, payload: .fingerprint(count: .max, sum: 0x0102_0304_0506_0708))]
        )
    ),
    .replication(
        .reconcile(
            session: "s2",
            exchange: 0x0102_0304_0506_0708,
            step: .max,
            ranges: [
                ReconciliationRange(upperBound: ReconciliationBound(lamport: 3, hash: 9), payload: .skip),
                ReconciliationRange(upperBound: ReconciliationBound(lamport: 5, hash: 0), payload: .matched),
                ReconciliationRange(upperBound: ReconciliationBound(lamport: 5, hash: 1), payload: .ids([])),
                ReconciliationRange(upperBound: ReconciliationBound(lamport: 7, hash: .max), payload: .ids([1, .max, 0])),
                ReconciliationRange(upperBound: ReconciliationBound(lamport: 8, hash: 0), payload: .lacking([])),
                ReconciliationRange(upperBound: .end, payload: .lacking([0b101, 0xFF])),
            ]
        )
    ),
]

/// The frame payload of `message` as bytes.
func payloadBytes(_ message: WireMessage, maximumFrameSize: Int = WireConfiguration.defaultMaximumFrameSize) throws -> [UInt8] {
    var buffer = ByteBuffer()
    try message.encode(into: &buffer, maximumFrameSize: maximumFrameSize)
    return Array(buffer.readableBytesView)
}

/// A whole frame (length field and payload) of `message`.
func frameBytes(_ message: WireMessage) throws -> [UInt8] {
    let payload = try payloadBytes(message)
    return bigEndianBytes(UInt32(payload.count)) + payload
}

/// Decodes `bytes` as a payload.
func decode(_ bytes: [UInt8]) throws(WireError) -> WireMessage {
    try WireMessage(decoding: ByteBuffer(bytes: bytes))
}

/// The error decoding `bytes` throws, or `nil` when it decodes.
func decodeError(_ bytes: [UInt8]) -> WireError? {
    do {
        _ = try decode(bytes)
        return nil
    } catch {
        return error
    }
}

func bigEndianBytes<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

/// A length-prefixed field.
func lengthPrefixed(_ bytes: [UInt8]) -> [UInt8] {
    bigEndianBytes(UInt32(bytes.count)) + bytes
}

/// Concatenates every `ByteBuffer` written out of `channel` so far.
func drainOutboundBytes(_ channel: EmbeddedChannel) throws -> [UInt8] {
    var bytes: [UInt8] = []
    while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
        bytes += buffer.readableBytesView
    }
    return bytes
}

/// Every message read into `channel` so far.
func drainInboundMessages(_ channel: EmbeddedChannel) throws -> [WireMessage] {
    var messages: [WireMessage] = []
    while let message = try channel.readInbound(as: WireMessage.self) {
        messages.append(message)
    }
    return messages
}

/// SplitMix64, a small seeded generator (as in swift-argument-parser's Examples/roll).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9e37_79b9_7f4a_7c15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
