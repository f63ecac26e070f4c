public import Foundation
public import OpLog
public import OpLogReplication

/// What a running node looks like from outside, at one moment: its links, how far each peer is
/// behind, its sessions and its counters. A value, published by the core (``StatusBoard``), so
/// that another service (the control endpoint) reads it at any time without touching the
/// core's state.
public struct NodeStatus: Sendable, Equatable {
    /// One configured or connected peer.
    public struct Peer: Sendable, Equatable {
        /// The peer's node id; `nil` for a configured address whose node has not answered yet.
        public var id: NodeID?
        /// The address it was dialled at or connected from.
        public var address: String?
        public var isConnected: Bool
        /// Per session: the first `acknowledged` entries of this node's sequence are durable on
        /// the peer, and `lag` of this node's entries are not.
        public var sessions: [SessionProgress]
        /// Entries this node holds that the peer has not durably acknowledged, over all
        /// sessions.
        public var lagEntries: UInt64
        /// The catch-up in progress to this peer, if it is far behind.
        public var catchUp: CatchUp?
    }

    /// One session's acknowledged position on one peer.
    public struct SessionProgress: Sendable, Equatable {
        public var session: SessionID
        public var acknowledged: UInt64
        public var lag: UInt64
    }

    /// A peer far behind (a new replica, one back from offline) catching up.
    public struct CatchUp: Sendable, Equatable {
        /// Entries of this node the peer holds, of `total`.
        public var done: UInt64
        public var total: UInt64
        /// Entries per second since the last measurement; `nil` before there were two.
        public var ratePerSecond: Double?
    }

    /// One session on this node.
    public struct Session: Sendable, Equatable {
        public var id: SessionID
        /// Durable entries in the local file.
        public var entries: Int
        /// The greatest `lamport_ts` among them (`nil` for an empty session).
        public var lamportMaximum: UInt64?
        /// The snapshot id of the greatest checkpoint known, if any.
        public var checkpointSnapshotID: String?
    }

    /// A node that dialled in and was refused because its ID is not accepted (DESIGN §7): what
    /// an operator may let in with `--accept ID`.
    public struct PendingPeer: Sendable, Equatable {
        /// The ID its certificate carries, in canonical form.
        public var id: String
        /// The address of its last attempt.
        public var address: String
        /// When it last tried.
        public var lastAttempt: Date
    }

    /// Why a connection was closed before it was admitted.
    public enum RefusalReason: String, Sendable, Hashable, CaseIterable {
        /// It dialled in with an ID this node does not accept (listed in ``NodeStatus/pending``).
        case notAccepted = "not_accepted"
        /// A dialled address answered with another ID than its `--peer ID@` names.
        case wrongPeer = "wrong_peer"
        /// It presented this node's own ID.
        case ownID = "own_id"
        /// The TLS handshake failed otherwise: no certificate, not TLS 1.3, not TLS at all.
        case tlsFailed = "tls_failed"
        /// Its hello named another node than its certificate.
        case helloMismatch = "hello_mismatch"
        /// It was not admitted within the handshake deadline.
        case handshakeTimeout = "handshake_timeout"
        /// Too many connections were waiting to be admitted already.
        case tooManyUnadmitted = "too_many_unadmitted"
    }

    /// Running totals since the node started.
    public struct Counters: Sendable, Equatable {
        public var entriesReceived = 0
        public var entriesWritten = 0
        public var entriesShipped = 0
        /// Entries refused: peers' entries that failed validation, and local lines that do not
        /// parse.
        public var entriesRejected = 0
        public var messagesRejected = 0
        public var duplicatesIgnored = 0
        public var orphansWritten = 0
        /// Op ids (each counted once) that a peer sent with other bytes than the local entry
        /// of that id: two writers gave one opaque id to different entries. Both files keep
        /// their own line.
        public var conflictingEntries = 0
        /// Connections closed before they were admitted, by reason.
        public var connectionsRefused: [RefusalReason: Int] = [:]

        public init() {}
    }

    public var nodeID: NodeID
    public var listen: String
    public var isReadOnly: Bool
    /// Peers in node-id order, then configured addresses not connected yet.
    public var peers: [Peer]
    public var sessions: [Session]
    public var counters: Counters
    /// Refused IDs that dialled in, the one refused longest ago first; at most
    /// ``AgentConfiguration/maximumPendingPeers``.
    public var pending: [PendingPeer]
}
