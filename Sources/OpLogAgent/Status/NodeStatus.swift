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
        /// The configured address it is dialled at, else the address its last link came from;
        /// `nil` for a peer known only from recorded progress.
        public var address: String?
        public var isConnected: Bool
        /// Per session: the first `acknowledged` entries of this node's sequence are durable on
        /// the peer, and `lag` of this node's entries are not.
        public var sessions: [SessionProgress]
        /// Entries this node holds that the peer has not durably acknowledged, over all
        /// sessions. For a configured address whose node never answered: every entry.
        public var lagEntries: UInt64
        /// How long ago the oldest of those entries became durable here, in seconds; 0 when
        /// there is none. Entries that were already in the files when the node started count
        /// from the start. Read from a bounded record of when entries became durable: never
        /// younger than the truth, older by at most a small fraction of the age.
        public var lagSeconds: Double
        /// When the node last received a byte from the peer; `nil` if never since it started.
        public var lastSeen: WallClockTime?
        /// Bytes written to and read from the peer's links (every link since the node started,
        /// as they crossed the socket).
        public var bytesSent: UInt64
        public var bytesReceived: UInt64
        /// The catch-up in progress to this peer, if it is far behind.
        public var catchUp: CatchUp?

        public init(
            id: NodeID?,
            address: String?,
            isConnected: Bool,
            sessions: [SessionProgress] = [],
            lagEntries: UInt64 = 0,
            lagSeconds: Double = 0,
            lastSeen: WallClockTime? = nil,
            bytesSent: UInt64 = 0,
            bytesReceived: UInt64 = 0,
            catchUp: CatchUp? = nil
        ) {
            self.id = id
            self.address = address
            self.isConnected = isConnected
            self.sessions = sessions
            self.lagEntries = lagEntries
            self.lagSeconds = lagSeconds
            self.lastSeen = lastSeen
            self.bytesSent = bytesSent
            self.bytesReceived = bytesReceived
            self.catchUp = catchUp
        }
    }

    /// One session's acknowledged position on one peer.
    public struct SessionProgress: Sendable, Equatable {
        public var session: SessionID
        public var acknowledged: UInt64
        public var lag: UInt64

        public init(session: SessionID, acknowledged: UInt64, lag: UInt64) {
            self.session = session
            self.acknowledged = acknowledged
            self.lag = lag
        }
    }

    /// A peer far behind (a new replica, one back from offline) catching up: shown from when
    /// a connected peer lacks 1,000 entries or more until it lacks none or its link goes.
    public struct CatchUp: Sendable, Equatable {
        /// Entries of this node the peer holds, of `total`.
        public var done: UInt64
        public var total: UInt64
        /// Entries per second over the last few seconds; `nil` before there were two
        /// measurements a second apart.
        public var ratePerSecond: Double?

        public init(done: UInt64, total: UInt64, ratePerSecond: Double?) {
            self.done = done
            self.total = total
            self.ratePerSecond = ratePerSecond
        }

        /// Seconds until `done` reaches `total` at ``ratePerSecond``; `nil` while the rate is
        /// unknown or zero.
        public var etaSeconds: Double? {
            guard let rate = self.ratePerSecond, rate > 0 else { return nil }
            return Double(self.total - min(self.done, self.total)) / rate
        }
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

        public init(id: SessionID, entries: Int, lamportMaximum: UInt64?, checkpointSnapshotID: String?) {
            self.id = id
            self.entries = entries
            self.lamportMaximum = lamportMaximum
            self.checkpointSnapshotID = checkpointSnapshotID
        }
    }

    /// Whether the parts a healthy node needs are running.
    public struct Health: Sendable, Equatable {
        /// The session watcher (inotify) runs.
        public var isWatching = false
        /// The listener accepts connections.
        public var isListening = false

        public init(isWatching: Bool = false, isListening: Bool = false) {
            self.isWatching = isWatching
            self.isListening = isListening
        }

        /// Both run.
        public var isHealthy: Bool { self.isWatching && self.isListening }
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

        public init(id: String, address: String, lastAttempt: Date) {
            self.id = id
            self.address = address
            self.lastAttempt = lastAttempt
        }
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
        /// It closed, or sent something else, before its hello.
        case noHello = "no_hello"
        /// Its hello speaks another protocol version.
        case protocolVersion = "protocol_version"
        /// Its hello names no valid node id.
        case invalidNodeID = "invalid_node_id"
        /// Its hello names this node's own id.
        case ownNodeID = "own_node_id"
        /// The peer already has a link, which stays (two nodes that dial each other keep one).
        case duplicateLink = "duplicate_link"
        /// A hello refused for a reason this list does not name yet.
        case invalidHello = "invalid_hello"
    }

    /// Running totals since the node started.
    public struct Counters: Sendable, Equatable {
        public var entriesReceived = 0
        /// The line bytes of ``entriesReceived``.
        public var entryBytesReceived = 0
        public var entriesWritten = 0
        public var entriesShipped = 0
        /// Broadcast trees: entries announced to lazy peers and by them, links this node turned
        /// lazy (prunes) and asked to turn eager again (grafts), per session.
        public var noticesSent = 0
        public var noticesReceived = 0
        public var prunesSent = 0
        public var graftsSent = 0
        /// Entries hashed for reconciliation
        /// (``OpLogReplication/ReplicationEngine/Statistics/reconciliationHashes``): two nodes in
        /// sync that reconnect add only what was numbered since they last met.
        public var reconciliationHashes = 0
        /// Entries refused: peers' entries that failed validation, and local lines that do not
        /// parse.
        public var entriesRejected = 0
        /// ``entriesRejected`` by reason: a ``ReplicationRejection/Code``'s name, or
        /// ``localLineRejection`` for local lines. A bounded set of keys.
        public var entriesRejectedByReason: [String: Int] = [:]
        public var messagesRejected = 0
        public var duplicatesIgnored = 0
        public var orphansWritten = 0
        /// Op ids (each counted once) that a peer sent with other bytes than the local entry
        /// of that id: two writers gave one opaque id to different entries. Both files keep
        /// their own line.
        public var conflictingEntries = 0
        /// Connections closed before they were admitted or at their hello, by reason: the
        /// `reason` label of `oplog_sync_connections_refused_total`.
        public var connectionsRefused: [RefusalReason: Int] = [:]

        /// The reason name of a local line that does not parse as an entry.
        public static let localLineRejection = "local_invalid_line"

        public init() {}
    }

    public var nodeID: NodeID
    public var listen: String
    public var isReadOnly: Bool
    /// Peers in node-id order, then configured addresses whose node has not answered yet, in
    /// the order configured.
    public var peers: [Peer]
    /// Refused IDs that dialled in, the one refused longest ago first; at most
    /// ``AgentConfiguration/LinkSettings/maximumPendingPeers``.
    public var pending: [PendingPeer]
    public var sessions: [Session]
    public var counters: Counters
    public var health: Health

    public init(
        nodeID: NodeID,
        listen: String,
        isReadOnly: Bool,
        peers: [Peer] = [],
        pending: [PendingPeer] = [],
        sessions: [Session] = [],
        counters: Counters = Counters(),
        health: Health = Health()
    ) {
        self.nodeID = nodeID
        self.listen = listen
        self.isReadOnly = isReadOnly
        self.peers = peers
        self.pending = pending
        self.sessions = sessions
        self.counters = counters
        self.health = health
    }
}
