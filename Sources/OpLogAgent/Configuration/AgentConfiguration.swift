public import OpLog
public import OpLogIdentity
public import OpLogReplication
public import SystemPackage

/// A `HOST:PORT` address to listen on or dial (`[::1]:7420` for IPv6).
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `[IPV6]:PORT`.
    ///
    /// - Throws: ``AgentError`` with code ``AgentError/Code/invalidAddress`` and a message naming
    ///   the text when it is not an address.
    public init(parsing text: String) throws(AgentError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw AgentError(code: .invalidAddress, message: "\(text) is not HOST:PORT")
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw AgentError(code: .invalidAddress, message: "\(text) is not HOST:PORT")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw AgentError(code: .invalidAddress, message: "\(text) has no host") }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw AgentError(code: .invalidAddress, message: "\(text) has no valid port (0-65535)")
        }
        self.host = String(host)
        self.port = port
    }

    public var description: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }
}

/// Everything `oplog-sync run` needs to know.
public struct AgentConfiguration: Sendable {
    /// The repository whose `.muse/op_log/` sessions are replicated.
    public var layout: OpLogLayout
    public var listen: PeerAddress
    /// The peers the node knows (`--peer`, the config file's `peers:`): each is admitted, and
    /// dialled when it has an address.
    public var peers: [PeerConfiguration]
    /// IDs admitted when they dial in but never dialled (`--accept`, `accept:`), with no rules.
    public var accepted: [NodeFingerprint] = []
    /// Where the identity, progress and index live; never inside `op_log/`.
    public var stateDirectory: FilePath
    /// `fdatasync` remote entries before acknowledging them.
    public var synchronizeWrites = true
    /// How long an unfinished last line must stay unchanged before it counts as abandoned.
    public var staleTailAge: Duration = SessionLog.defaultStaleTailAge
    /// The merge engine's tunables, `isReadOnly` among them.
    public var engine = ReplicationEngine.Configuration()
    /// Redial backoff, link timers and the limits a link and an unadmitted connection live within.
    public var links = LinkSettings()

    /// A configuration with DESIGN §5's defaults: listen on 127.0.0.1:7420, state in
    /// `ROOT/.muse/sync/`.
    public init(root: FilePath) {
        self.layout = OpLogLayout(root: root)
        self.listen = PeerAddress(host: "127.0.0.1", port: 7420)
        self.peers = []
        self.stateDirectory = root.appending(".muse").appending("sync")
    }

    public var isReadOnly: Bool {
        get { self.engine.isReadOnly }
        set { self.engine.isReadOnly = newValue }
    }

    /// Every ID a link may come from: the peers' and the accepted ones.
    public var admittedIDs: Set<NodeFingerprint> {
        Set(self.peers.map(\.id)).union(self.accepted)
    }

    /// What the peer with `id` may do: its `peers:` entry's rules, or everything for an
    /// accepted ID (`nil` when `id` is not admitted at all).
    public func rules(for id: NodeFingerprint) -> PeerConfiguration.Rules? {
        if let peer = self.peers.first(where: { $0.id == id }) { return peer.rules }
        return self.accepted.contains(id) ? .everything : nil
    }

    /// Checks the peers against this node's own ID and against each other.
    ///
    /// - Throws: ``AgentError`` `.invalidConfiguration` when `ownID` is among the peers or the
    ///   accepted IDs (a node does not link to itself), or one ID is given as two peers.
    public func validatePeers(ownID: NodeFingerprint) throws(AgentError) {
        if self.admittedIDs.contains(ownID) {
            throw AgentError(
                code: .invalidConfiguration,
                message: "\(ownID) is this node's own ID (`oplog-sync id`); give --peer and --accept the IDs of "
                    + "other machines"
            )
        }
        var seen: Set<NodeFingerprint> = []
        for peer in self.peers where !seen.insert(peer.id).inserted {
            throw AgentError(code: .invalidConfiguration, message: "peer \(peer.id) is given twice")
        }
    }
}

extension AgentConfiguration {
    /// How links are dialled, kept alive and bounded: the defaults suit a studio LAN and the
    /// internet alike; tests shorten the timers.
    public struct LinkSettings: Sendable {
        /// Redial backoff: first delay and cap (each delay gets up to 50 % random jitter).
        public var redialInitialDelay: Duration = .milliseconds(100)
        public var redialMaximumDelay: Duration = .seconds(10)
        /// Seeds the redial jitter, for replayable tests; `nil` (the default) uses the system's
        /// random generator.
        public var redialSeed: UInt64?
        /// Wire limits and keepalive timers.
        public var keepaliveInterval: Duration = .seconds(5)
        public var idleTimeout: Duration = .seconds(20)
        public var maximumFrameSize = 32 << 20
        /// The most a link may hold queued for its peer, in bytes (see ``LinkOutbox``): past it, the
        /// engine's shipments to that peer wait for its retransmission. A link whose queue does not
        /// drain for ``idleTimeout`` (the peer stopped reading) is closed.
        public var maximumLinkQueueBytes = 4 << 20
        /// A connection not admitted (TLS handshake and hello checked) this long after it opened is
        /// closed (DESIGN §7).
        public var handshakeTimeout: Duration = .seconds(10)
        /// The most accepted connections not yet admitted at once; more are closed as they come.
        public var maximumUnadmittedConnections = 64
        /// The largest first frame (the hello) a connection may send before it is admitted.
        public var maximumHelloSize = 4096
        /// The most refused IDs the status snapshot lists as `pending` (the oldest go first).
        public var maximumPendingPeers = 64
        /// A refused ID is logged at most once per this interval.
        public var refusalLogInterval: Duration = .seconds(60)

        /// The defaults documented on each setting.
        public init() {}
    }
}
