public import OpLogReplication

/// A message on an oplog-sync connection: the handshake, the keepalive pair, or a replication
/// message of the merge engine.
///
/// Each message travels in one frame (see ``WireFrameDecoder``); ``init(decoding:)`` and
/// ``encode(into:maximumFrameSize:)`` convert between a message and its frame payload. Inside a
/// pipeline set up by ``WirePipeline/configure(_:configuration:)``, pings and pongs are handled
/// by ``WireKeepaliveHandler`` and never reach the channel's owner.
public enum WireMessage: Sendable, Hashable {
    /// The first message each side sends: who it is and what it speaks.
    case hello(Hello)
    /// A keepalive probe; the receiver answers with ``pong``.
    case ping
    /// The answer to a ``ping``.
    case pong
    /// A message of the replication protocol, carried unchanged.
    case replication(ReplicationMessage)
}
