internal import Crypto
public import OpLog

/// The merge engine: a deterministic state machine that decides what a replica writes and what
/// it sends, with no I/O of its own.
///
/// Feed it every ``ReplicationEvent`` and carry out the ``ReplicationAction``s it returns, in
/// order. Given the same events at the same times it returns the same actions, so it can be
/// tested in-process with any number of replicas on a simulated network.
///
/// What it guarantees, provided the host does what it is told:
/// - **Dedup.** An op id already written, being written or waiting is never written again.
/// - **Causal, canonical appends.** Received entries are appended parents first, otherwise in
///   canonical order, one append per session at a time (a failed append is asked for again
///   after ``Configuration/appendRetryDelay``, and nothing overtakes it). An entry whose parent
///   is missing waits (up to ``Configuration/holdTimeout``), then is written anyway with a
///   report.
/// - **At-least-once delivery, exactly-once files.** Each link streams a session in the
///   sender's sequence order, at most ``Configuration/maximumInFlight`` numbers ahead of what
///   the peer acknowledged; the peer acknowledges a range only once all of it is durable or
///   rejected. What is not acknowledged is sent again on reconnect or after
///   ``Configuration/retransmitTimeout``; duplicates are dropped by op id.
/// - **Reconciliation first.** When a link comes up (and ``Configuration/localNode`` is set),
///   each session is reconciled before anything is shipped: the two sides compare range
///   fingerprints (see ``ReconciliationRange``) and each ships only what the other lacks, from
///   its first missing entry on. This also catches a peer that holds less than it once
///   acknowledged (restored from a backup): what it lost is sent again.
/// - **No echo, forwarding.** An entry is never sent back to the peer it came from, and is
///   sent to the other peers ``Configuration/forwarding`` chooses, so replicas connected
///   through others converge. By default each session's entries spread over a broadcast tree
///   (``ForwardingPolicy/tree``): in full to eager peers, as notices to lazy ones, so each
///   replica receives each line about once on any network; an announced entry that does not
///   arrive is asked for. An entry is acknowledged, sent or announced, only once it is durable
///   at the receiver.
/// - **Read-only.** A read-only replica ships nothing its own writers wrote (entries or
///   checkpoints), and still forwards what it receives, across restarts too.
/// - **Checkpoints** converge on the greatest by ``Checkpoint/precedes(_:_:)``; a lesser local
///   one is replaced by the greatest known (the file keeps history). A read-only replica
///   forwards the greatest checkpoint its peers sent even when its own writers' is greater.
/// - **Bad input stays out.** Lines that do not decode, claim a `sha256:` id that does not match,
///   or arrive for an invalid session id are reported and never written or shipped.
public struct ReplicationEngine: Sendable {
    /// Tunables; the defaults suit a live agent on a LAN.
    public struct Configuration: Sendable {
        /// Ship nothing this replica's own writers wrote.
        public var isReadOnly = false
        /// How long an entry whose parents are missing waits before it is written anyway.
        public var holdTimeout: Duration = .seconds(10)
        /// How long an unacknowledged range waits before it is sent again on the same link.
        public var retransmitTimeout: Duration = .seconds(30)
        /// The least time between two retransmissions a peer asks for (it refused a damaged
        /// line) on one link and session. It doubles while the peer keeps asking without
        /// acknowledging more (up to ``retransmitTimeout``), so a line a peer always refuses
        /// cannot make the link resend its window in a loop.
        public var retransmitRequestInterval: Duration = .milliseconds(500)
        /// How long after a failed append its entries are asked for again.
        public var appendRetryDelay: Duration = .seconds(1)
        /// Sequence numbers a link may send beyond what the peer acknowledged, per session.
        public var maximumInFlight: UInt64 = 8192
        /// Lines in one shipment.
        public var maximumBatchLines = 1024
        /// Line bytes in one shipment (a single longer line still travels alone).
        public var maximumBatchBytes = 1 << 20
        /// Line bytes of the entries waiting for parents, over all sessions (64 MiB). Past it, the
        /// oldest of the session being staged stop waiting and are written as orphans (with a
        /// report), as when their hold runs out, until the rest fit.
        public var maximumHeldBytes = 64 << 20
        /// To which linked peers what came from an origin is forwarded, in full or as notices
        /// (default: a broadcast tree per session). See ``ForwardingPolicy`` for what it does not
        /// decide.
        public var forwarding: ForwardingPolicy = .tree
        /// How long an announced entry may take to arrive before it is asked for from the peer
        /// that announced it (``ForwardingPolicy/tree``): longer than a path through the tree
        /// usually takes, or a tree that works is grafted and pruned again.
        public var graftTimeout: Duration = .seconds(1)
        /// Announced entries not yet held that are remembered, over all sessions; notices past
        /// it are dropped (and counted).
        public var maximumNoticedEntries = 1 << 16
        /// This replica's node id. With it, a link that never heard from its peer what it holds
        /// of a session (a new peer, a lost state folder) starts with set reconciliation and
        /// ships only what the peer lacks; when both sides start one, the smaller id's goes on.
        /// Without it, such a link ships the whole session (the peer drops what it has).
        public var localNode: NodeID?

        public init() {}
    }

    /// Running totals, for logs and metrics.
    public struct Statistics: Sendable, Hashable {
        public var entriesReceived = 0
        /// The line bytes of ``entriesReceived`` (valid lines only, duplicates included): what
        /// forwarding costs a node in payload.
        public var entryBytesReceived = 0
        public var entriesWritten = 0
        public var duplicatesIgnored = 0
        public var entriesRejected = 0
        public var messagesRejected = 0
        public var orphansWritten = 0
        public var entriesShipped = 0
        /// Entries and checkpoints a peer sent that its rules do not let in (a session not
        /// shared with it, or a peer that may not write): acknowledged, not written.
        public var refusedByRules = 0
        /// Entries announced to peers instead of sent, and announced by peers.
        public var noticesSent = 0
        public var noticesReceived = 0
        /// Notices dropped because ``Configuration/maximumNoticedEntries`` were remembered.
        public var noticesDropped = 0
        /// Links this replica turned lazy for a session, and asked to turn eager again.
        public var prunesSent = 0
        public var graftsSent = 0
        /// Entries hashed for reconciliation: to bring a whole-session sum up to date, or to
        /// sort a session for an exchange that went past its first step. Two nodes in sync that
        /// reconnect hash only the entries numbered since they last met (none when nothing
        /// came), when their links have a pair key.
        public var reconciliationHashes = 0
    }

    public let configuration: Configuration
    public internal(set) var statistics = Statistics()

    var sessions: [SessionID: SessionReplica] = [:]
    /// The origin standing for each peer met (see ``Origin``).
    var peerOrigins: [NodeID: Origin] = [:]
    /// Connected peers: each link's reconciliation key and each session's sending state.
    var links: [NodeID: PeerLink] = [:]
    /// What each peer acknowledged, kept across disconnects.
    var acknowledged: [NodeID: [SessionID: UInt64]] = [:]
    /// Appends handed out and not yet completed, by token.
    var pendingAppends = PendingAppends()
    /// Reconciliations this engine started, to name the next.
    var exchangesStarted: UInt64 = 0
    /// How many entries, and how many line bytes, wait in the held pools of all sessions.
    var heldTally = HeldTally()
    /// Where the entries read from the files came from, as known before a restart or reset.
    var priorOrigins = PriorOrigins()
    /// Node ids by ``Origin/peerIndex``.
    var peerNames: [NodeID] = []
    /// What this replica came to hold most recently: what notices are checked against.
    var recentEntries = RecentEntries()
    /// How many announced entries wait in the sessions' ``SessionReplica/noticed``.
    var noticedTally = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The sessions the engine knows, in order.
    ///
    /// - Complexity: O(n log n) in the sessions; ``sessionCount`` tells whether a list made
    ///   earlier is still current (the engine never forgets a session).
    public var knownSessions: [SessionID] { self.sessions.keys.sorted() }

    /// How many sessions the engine knows.
    public var sessionCount: Int { self.sessions.count }

    /// The number of durable entries the engine knows for `session`.
    public func durableCount(of session: SessionID) -> Int {
        self.sessions[session]?.order.count ?? 0
    }

    /// The number of entries waiting for missing parents, over all sessions.
    public var heldEntryCount: Int { self.heldTally.count }

    /// The line bytes of the entries waiting for missing parents, over all sessions. Whenever
    /// a session's entries are staged (on receipt, completion, or a tick), it is brought within
    /// ``Configuration/maximumHeldBytes`` as far as that session's own entries allow.
    public var heldEntryBytes: Int { self.heldTally.bytes }

    /// Where the peer's acknowledgements of `session` stand (0 if none).
    public func acknowledgedSequence(of peer: NodeID, session: SessionID) -> UInt64 {
        self.links[peer]?[session]?.acknowledged ?? self.acknowledged[peer]?[session] ?? 0
    }

    /// Where the entry with sequence number `sequence` (1-based) of `session` is in the local
    /// file, if there is one.
    public func location(of session: SessionID, sequence: UInt64) -> EntryLocation? {
        guard let order = self.sessions[session]?.order, sequence >= 1, sequence <= UInt64(order.count) else {
            return nil
        }
        return order[Int(sequence - 1)].location
    }

    /// Applies one event at time `now` (any monotonic clock; only differences matter) and
    /// returns what to do, in order.
    public mutating func handle(_ event: ReplicationEvent, now: Duration) -> [ReplicationAction] {
        var actions: [ReplicationAction] = []
        switch event {
        case .localEntries(let session, let entries):
            self.addLocalEntries(entries, session: session, now: now, into: &actions)
        case .localFileReset(let session, let entries):
            self.resetLocalFile(session, entries: entries, now: now, into: &actions)
        case .localCheckpoint(let session, let checkpoint):
            self.adoptLocalCheckpoint(checkpoint, session: session, now: now, into: &actions)
        case .peerConnected(let peer, let key, let pairKey, let rules):
            self.connect(peer, key: key, pairKey: pairKey, rules: rules, now: now, into: &actions)
        case .peerDisconnected(let peer):
            self.disconnect(peer)
        case .received(let message, let peer):
            guard self.links[peer] != nil else { break }
            self.receive(message, from: peer, now: now, into: &actions)
        case .receivedEntries(let batch, let peer):
            guard self.links[peer] != nil else { break }
            self.receiveEntries(batch, from: peer, now: now, into: &actions)
        case .appendCompleted(let token):
            self.completeAppend(token: token, now: now, into: &actions)
        case .appendCompletedInPlace(let token, let firstOffset):
            self.completeAppend(token: token, inPlaceAt: firstOffset, now: now, into: &actions)
        case .appendFailed(let token):
            self.failAppend(token: token, now: now)
        case .tick:
            self.tick(now: now, into: &actions)
        }
        return actions
    }
}

// MARK: - State

/// One session's replication state.
struct SessionReplica: Sendable {
    /// Entries in the order of the local file (first occurrence of each op id, valid entries
    /// only): sequence number = index + 1. The same file gives the same numbering after a
    /// restart, so acknowledged numbers stay meaningful.
    var order: [KnownEntry] = []
    var status = EntryStatuses()
    /// Entries waiting for missing parents (status ``EntryStatus/held``).
    var held: [OpID: HeldEntry] = [:]
    /// Entries received while an append was in flight or waiting to be retried, in arrival
    /// order (status ``EntryStatus/held`` too): the next ``ReplicationEngine/stage`` takes them
    /// with the held ones.
    var deferred: [HeldEntry] = []
    /// Received ranges waiting for their entries to become durable before being acknowledged.
    var waits: [RangeWait] = []
    /// The token of the append in flight: the next waits until it completes or fails.
    var appendInFlight: UInt64?
    /// After a failed append, when to ask for its entries again.
    var appendRetryAt: Duration?
    /// The greatest checkpoint known: what the file should hold.
    var checkpoint: Checkpoint?
    /// The greatest checkpoint that may be offered to peers. The same as ``checkpoint``, except
    /// on a read-only replica, where it is the greatest that came from peers.
    var shared: SharedCheckpoint?
    /// Entries peers announced that this replica does not hold yet.
    var noticed: [NoticeKey: NoticedEntry] = [:]
    /// Per peer with a pair key, the fingerprint sum of the entries numbered so far under that
    /// key (``ReplicationEngine/wholeSum(of:for:count:exchangeKey:)``); kept while the peer is
    /// away, dropped with the numbering when the file is reset.
    var wholeSums: [NodeID: WholeSum] = [:]
}

/// The sum of the items (``ReconciliationKey/item(_:_:)``) of a session's entries `1...count`
/// under a link's pair key.
struct WholeSum: Sendable {
    var key: ReconciliationKey
    var count: Int
    var sum: UInt64
}

struct SharedCheckpoint: Sendable {
    var checkpoint: Checkpoint
    var identity: CheckpointIdentity

    init(_ checkpoint: Checkpoint) {
        self.checkpoint = checkpoint
        self.identity = CheckpointIdentity(checkpoint)
    }
}

struct KnownEntry: Sendable {
    var location: EntryLocation
    /// Where the entry came from.
    var origin: Origin
    /// Where the entry sorts for set reconciliation.
    var key: ReconciliationBound
    /// See ``IndexedEntry/contentHash``: with ``key`` it is what reconciliation compares.
    var contentHash: UInt64
}

/// The status of every op id a session knows, keyed by ``OpID/Key`` so that a million entries
/// do not keep a million id strings (about 100 bytes each) alive.
struct EntryStatuses: Sendable {
    private var table: [OpID.Key: EntryStatus] = [:]

    subscript(id: OpID) -> EntryStatus? {
        get { self.table[id.key] }
        set { self.table[id.key] = newValue }
    }

    var count: Int { self.table.count }

    var capacity: Int { self.table.capacity }

    var keys: Dictionary<OpID.Key, EntryStatus>.Keys { self.table.keys }

    var values: Dictionary<OpID.Key, EntryStatus>.Values { self.table.values }

    /// Where `id`'s status is, to read and change it with one lookup.
    func index(forKey id: OpID) -> Dictionary<OpID.Key, EntryStatus>.Index? {
        self.table.index(forKey: id.key)
    }

    subscript(at index: Dictionary<OpID.Key, EntryStatus>.Index) -> EntryStatus {
        get { self.table.values[index] }
        set { self.table.values[index] = newValue }
    }

    mutating func reserveCapacity(_ capacity: Int) {
        self.table.reserveCapacity(capacity)
    }

    /// Forgets every op id whose status matches.
    mutating func removeAll(where shouldBeRemoved: (EntryStatus) -> Bool) {
        self.table = self.table.filter { !shouldBeRemoved($0.value) }
    }
}

enum EntryStatus: Sendable {
    /// In the file and in ``SessionReplica/order``.
    case indexed
    /// Written by this engine's append and durable, not yet read back from the file: it gets its
    /// sequence number, in file order, when the file's new lines are fed back.
    case written(origin: Origin)
    case pending(token: UInt64)
    case held
}

struct HeldEntry: Sendable {
    var entry: OpEntry
    var origin: Origin
    var since: Duration
}

struct RangeWait: Sendable {
    var peer: NodeID
    var after: UInt64
    var through: UInt64
    var remaining: Set<OpID>
    /// Entries the range announced (``EntryBatch/notices``) that this replica does not hold
    /// yet: a notice is acknowledged, as a line is, only once its entry is durable here.
    var announced: Set<NoticeKey> = []

    /// Whether every entry of the range is durable here: the range may be acknowledged.
    var isSettled: Bool { self.remaining.isEmpty && self.announced.isEmpty }
}

struct PendingAppend: Sendable {
    var session: SessionID
    /// The entries in the append, with their origins and arrival times, to hold again should it
    /// fail.
    var entries: [HeldEntry]
}

/// What a checkpoint acknowledgement names: (`lamport_ts`, `snapshot_id`) and a digest of the
/// bytes, since two checkpoints may share the pair and differ in their other fields.
struct CheckpointIdentity: Sendable, Hashable {
    var lamportTimestamp: Int64
    var snapshotID: [UInt8]
    var digest: [UInt8]

    init(_ checkpoint: Checkpoint) {
        self.lamportTimestamp = Int64(checkpoint.lamportTimestamp)
        self.snapshotID = Array(checkpoint.snapshotID.utf8)
        self.digest = Array(SHA256.hash(data: checkpoint.bytes))
    }

    init(lamportTimestamp: Int64, snapshotID: String, digest: [UInt8]) {
        self.lamportTimestamp = lamportTimestamp
        self.snapshotID = Array(snapshotID.utf8)
        self.digest = digest
    }
}
