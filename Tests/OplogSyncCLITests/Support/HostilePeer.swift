import NIOCore
import OpLogIdentity
import OpLogReplication
import OpLogWire

/// An admitted peer that is not an oplog-sync node: it holds a pinned identity, speaks the wire
/// protocol (hello first, then whatever a test scripts), and records what the node sends back.
/// It stands for a peer machine that is compromised or buggy, which TLS and pinning let in.
enum HostilePeer {
    /// One message as a frame: the payload's length (4 bytes, big-endian), then the payload.
    static func frame(_ message: WireMessage) throws -> [UInt8] {
        var payload = ByteBuffer()
        try message.encode(into: &payload)
        return LinkProbe.bigEndian(UInt32(payload.readableBytes)) + Array(payload.readableBytesView)
    }

    /// Connects to the node at `127.0.0.1:port` as `identity` (which the node must accept),
    /// pinning the node's `expecting` ID, sends its hello and then `messages`, and reads what
    /// the node sends for `listening` before closing.
    static func send(
        _ messages: [WireMessage],
        port: Int,
        identity: Identity,
        expecting: NodeFingerprint,
        listening: Duration = .seconds(5)
    ) async throws -> LinkProbe.Outcome {
        let hello = WireMessage.hello(Hello(nodeID: identity.nodeID.description, isReadOnly: false))
        let bytes = try ([hello] + messages).flatMap { try Self.frame($0) }
        return try await LinkProbe.tls(
            port: port,
            identity: identity,
            expecting: expecting,
            sending: bytes,
            timeout: listening
        )
    }
}
