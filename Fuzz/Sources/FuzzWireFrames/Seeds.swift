import FuzzSupport
import NIOCore
import OpLog
import OpLogReplication
import OpLogWire

/// Seed streams: real messages encoded by `WireMessage.encode`, framed as `WirePipeline` frames
/// them, behind the two bytes of read size and limit.
enum Seeds {
    static func all() -> [(name: String, bytes: [UInt8])] {
        let nonce: [UInt8] = Array(0..<16)
        var messages: [(String, WireMessage)] = [
            (
                "hello",
                .hello(
                    Hello(
                        nodeID: "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD",
                        isReadOnly: false,
                        nonce: nonce
                    )
                )
            ),
            ("hello-read-only", .hello(Hello(nodeID: "alice", isReadOnly: true, takesEntries: false, nonce: nonce))),
            ("ping", .ping),
            ("pong", .pong),
            (
                "checkpoint-ack",
                .replication(
                    .checkpointAcknowledge(
                        session: "live-1",
                        lamportTimestamp: 100,
                        snapshotID: "s-100",
                        digest: Array(repeating: 0xAB, count: 32)
                    )
                )
            ),
            ("retransmit", .replication(.retransmit(session: "live-1"))),
            ("prune", .replication(.prune(session: "live-1"))),
            ("graft", .replication(.graft(session: "live-1", sequences: [3, 4, 9]))),
            (
                "entries-notices",
                .replication(
                    .entries(
                        EntryBatch(
                            session: "live-1",
                            after: 4,
                            through: 7,
                            lines: [],
                            notices: [
                                EntryNotice(
                                    sequence: 5,
                                    hash: 0x0123_4567_89AB_CDEF,
                                    contentHash: 0xFEDC_BA98_7654_3210
                                ),
                                EntryNotice(sequence: 7, hash: 42, contentHash: 7),
                            ],
                            isLive: false
                        )
                    )
                )
            ),
            (
                "checkpoint-muse",
                .replication(
                    .checkpoint(session: "live-1", bytes: Fixtures.museCheckpoint(snapshot: "s-7", lamport: "7"))
                )
            ),
        ]
        // The real exchange: reconcile steps of every kind, entries, acknowledgements, checkpoints.
        var kinds: [String: Int] = [:]
        for message in RealMessages.exchange() {
            let kind: String
            switch message {
            case .entries: kind = "entries"
            case .acknowledge: kind = "acknowledge"
            case .checkpoint: kind = "checkpoint"
            case .checkpointAcknowledge: kind = "checkpoint-ack-real"
            case .retransmit: kind = "retransmit-real"
            case .prune: kind = "prune-real"
            case .graft: kind = "graft-real"
            case .reconcile(_, _, let step, _): kind = "reconcile-step\(step)"
            }
            kinds[kind, default: 0] += 1
            guard kinds[kind, default: 0] <= 3 else { continue }
            messages.append(("\(kind)-\(kinds[kind, default: 0])", .replication(message)))
        }
        var seeds = messages.map { name, message in (name: name, bytes: [0, 0] + Self.frame(message)) }
        // A stream of several frames, cut into reads of 7 bytes, and one under a 1 KiB limit.
        let stream = messages.prefix(8).flatMap { Self.frame($0.1) }
        seeds.append((name: "stream-reads-of-7", bytes: [7, 0] + stream))
        seeds.append((name: "stream-limit-1k", bytes: [1, 128] + stream))
        seeds.append((name: "stream-truncated", bytes: [3, 0] + stream.dropLast(5)))
        return seeds
    }

    static func frame(_ message: WireMessage) -> [UInt8] {
        var buffer = ByteBuffer()
        do {
            try message.encode(into: &buffer)
        } catch {
            failProperty("a seed message does not encode: \(error)")
        }
        let length = UInt32(buffer.readableBytes)
        return [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) } + Array(buffer.readableBytesView)
    }
}
