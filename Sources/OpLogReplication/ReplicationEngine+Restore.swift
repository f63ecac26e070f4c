public import OpLog

// Restarting: what the host recorded before a stop, given back in two steps whose order the
// engine's API carries rather than prose.
//
// 1. ``ReplicationEngine/restore(_:)`` with one ``ReplicationEngine/Restore``, first, before any
//    event: origins, arrivals, remote checkpoints and the entries of each session's index.
// 2. The host feeds the local files (`localEntries`, `localCheckpoint`) — the lines after the
//    indexed ones, or whole files without an index.
// 3. ``ReplicationEngine/restoreProgress(_:)``, once the files are in (the host checks the
//    progress against them, through ``ReplicationEngine/location(of:sequence:)``), before any
//    peer connects.
extension ReplicationEngine {
    /// Everything a host recorded before a restart that the engine needs before the local files
    /// are fed in, for one call of ``ReplicationEngine/restore(_:)``.
    ///
    /// `IndexedEntries` is any sequence of ``IndexedEntry``, iterated once, session by session in
    /// session order, so a host can give a lazily decoded view of its index and a million-entry
    /// session is never held whole. Use ``init(origins:arrivals:remoteCheckpoints:)`` for a host
    /// without an index.
    public struct Restore<IndexedEntries: Sequence<IndexedEntry>> {
        /// Where each session's entries came from, in sequence order from the first (from
        /// ``ReplicationAction/recordOrigins(session:firstSequence:origins:)``; `nil`: this
        /// replica's own writers). Entries keep their origin, so they are still never sent back
        /// where they came from, and a read-only replica still forwards what it received.
        public var origins: [SessionID: [NodeID?]]
        /// The arrivals a read-only replica recorded (from
        /// ``ReplicationAction/recordArrivals(session:arrivals:)``): an entry of the file that
        /// the origin journal does not cover keeps the peer it came from.
        public var arrivals: [SessionID: [Arrival]]
        /// The greatest checkpoint of each session that came from peers (from
        /// ``ReplicationAction/recordRemoteCheckpoint(session:_:)``): what the replica offers its
        /// peers, even a read-only replica whose own checkpoint is greater.
        public var remoteCheckpoints: [SessionID: Checkpoint]
        /// Each session's entries from the host's index (from
        /// ``ReplicationAction/recordIndex(session:firstSequence:entries:lastLineDigest:)``),
        /// checked against the file since: the file's first entries, in sequence order. The
        /// engine then knows them exactly as if their lines had been fed — same sequence numbers,
        /// places, origins and reconciliation keys — without the lines being read or verified
        /// again; the host feeds only the lines after the last one. An op id the engine already
        /// knows is skipped, as a repeated line would be.
        public var indexedEntries: [SessionID: IndexedEntries]

        /// A restore with an index; every part defaults to nothing.
        public init(
            origins: [SessionID: [NodeID?]] = [:],
            arrivals: [SessionID: [Arrival]] = [:],
            remoteCheckpoints: [SessionID: Checkpoint] = [:],
            indexedEntries: [SessionID: IndexedEntries]
        ) {
            self.origins = origins
            self.arrivals = arrivals
            self.remoteCheckpoints = remoteCheckpoints
            self.indexedEntries = indexedEntries
        }
    }

    /// Gives the engine back what its host recorded before a restart, in the order that makes
    /// it right: origins and arrivals (so restored and fed entries take their origins), then
    /// each session's indexed entries, then remote checkpoints.
    ///
    /// Call once, first: before any event, in particular before any line is fed and before any
    /// peer connects (a precondition). Then feed the local files, then call
    /// ``restoreProgress(_:)``.
    ///
    /// Returns the bookkeeping actions the host must carry out, as after feeding the lines:
    /// ``ReplicationAction/recordOrigins(session:firstSequence:origins:)`` for indexed entries
    /// beyond those the origins gave (so an origin journal that fell behind the index catches
    /// up). No ``ReplicationAction/recordIndex(session:firstSequence:entries:lastLineDigest:)``:
    /// the entries came from the index.
    /// - Complexity: O(origins + arrivals + indexed entries), no hashing beyond the dictionaries'.
    public mutating func restore<Entries>(_ restore: Restore<Entries>) -> [ReplicationAction] {
        precondition(
            self.links.isEmpty && self.sessions.isEmpty && self.pendingAppends.byToken.isEmpty,
            "restore(_:) comes before any event"
        )
        self.restoreOrigins(restore.origins)
        self.restoreArrivals(restore.arrivals)
        var actions: [ReplicationAction] = []
        for session in restore.indexedEntries.keys.sorted() {
            guard let entries = restore.indexedEntries[session] else { continue }
            actions += self.restoreIndexedEntries(session: session, entries)
        }
        for session in restore.remoteCheckpoints.keys.sorted() {
            guard let checkpoint = restore.remoteCheckpoints[session] else { continue }
            self.restoreRemoteCheckpoint(session: session, checkpoint)
        }
        return actions
    }

    /// Restores what peers acknowledged before a restart (from
    /// ``ReplicationAction/recordProgress(peer:session:acknowledged:)``), so their links resume
    /// there. The last step of a restart: after ``restore(_:)`` and after the local files were
    /// fed in (a host checks each value against the file first), before peers connect; a peer
    /// already connected keeps its current state.
    ///
    /// Origins restored beyond the entries the files now hold are forgotten here: they were
    /// recorded for lines the file no longer has (it was restored shorter, or replaced while
    /// the replica was down), and a line appended later must not take one of them. A host
    /// whose origin journal is longer than ``durableCount(of:)`` rewrites it from
    /// ``origins(of:)``.
    public mutating func restoreProgress(_ progress: [NodeID: [SessionID: UInt64]]) {
        for session in self.priorOrigins.bySequence.keys.sorted() {
            let count = self.sessions[session]?.order.count ?? 0
            guard let restored = self.priorOrigins.bySequence[session], restored.count > count else { continue }
            self.priorOrigins.bySequence[session] = Array(restored.prefix(count))
        }
        for (peer, sessions) in progress where self.links[peer] == nil {
            for (session, acknowledged) in sessions {
                self.acknowledged[peer, default: [:]][session] = acknowledged
            }
        }
    }

    /// Restores where each session's first entries came from, in sequence order.
    mutating func restoreOrigins(_ origins: [SessionID: [NodeID?]]) {
        for session in origins.keys.sorted() {
            guard let list = origins[session] else { continue }
            var restored: [Origin] = []
            restored.reserveCapacity(list.count)
            for node in list { restored.append(self.origin(of: node)) }
            self.priorOrigins.bySequence[session] = restored
        }
    }

    /// Restores the arrivals a read-only replica recorded.
    mutating func restoreArrivals(_ arrivals: [SessionID: [Arrival]]) {
        for session in arrivals.keys.sorted() {
            guard let list = arrivals[session] else { continue }
            var byID = self.priorOrigins.arrivals[session] ?? [:]
            for arrival in list { byID[arrival.opID] = self.origin(of: arrival.peer) }
            self.priorOrigins.arrivals[session] = byID
        }
    }

    /// Restores the greatest checkpoint of `session` that came from peers.
    mutating func restoreRemoteCheckpoint(session: SessionID, _ checkpoint: Checkpoint) {
        var replica = self.takeSession(session)
        defer { self.sessions[session] = replica }
        if replica.shared.map({ Checkpoint.precedes($0.checkpoint, checkpoint) }) ?? true {
            replica.shared = SharedCheckpoint(checkpoint)
        }
        if replica.checkpoint.map({ Checkpoint.precedes($0, checkpoint) }) ?? true {
            replica.checkpoint = checkpoint
        }
    }
}

extension ReplicationEngine.Restore: Sendable where IndexedEntries: Sendable {}

extension ReplicationEngine.Restore where IndexedEntries == [IndexedEntry] {
    /// A restore for a host that keeps no index (or none that still agrees with the files): the
    /// files are then fed whole.
    public init(
        origins: [SessionID: [NodeID?]] = [:],
        arrivals: [SessionID: [Arrival]] = [:],
        remoteCheckpoints: [SessionID: Checkpoint] = [:]
    ) {
        self.init(origins: origins, arrivals: arrivals, remoteCheckpoints: remoteCheckpoints, indexedEntries: [:])
    }
}
