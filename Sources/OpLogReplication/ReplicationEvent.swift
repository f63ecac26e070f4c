public import OpLog

/// Something that happened to a replica, fed to ``ReplicationEngine/handle(_:now:)``.
public enum ReplicationEvent: Sendable {
    /// Complete entries found in the local `ops.jsonl`, in file order with their byte offsets
    /// (new lines, or a whole file again after it was replaced or truncated). Entries the engine
    /// already knows are ignored, so feeding a file twice never ships anything twice.
    case localEntries(session: SessionID, entries: [LocalEntry])
    /// The session's `ops.jsonl` was replaced or truncated (it is another file, or shorter than
    /// what was read): `entries` are all its complete entries now, in file order with their
    /// offsets. The engine forgets the session's numbering and numbers these from 1 (asking the
    /// host first, with ``ReplicationAction/resetSession(_:)``, to drop what it keeps by
    /// sequence number), then reconciles the session afresh with every live peer: the peers
    /// give back what the file lost, and what they hold is not shipped again. Entries being
    /// appended, held or deferred are kept. Feed it instead of a `localEntries` of the re-read
    /// file, and before any later line of it.
    case localFileReset(session: SessionID, entries: [LocalEntry])
    /// The local `checkpoint.json` holds this checkpoint (it may be one the engine asked for).
    case localCheckpoint(session: SessionID, Checkpoint)
    /// A link to `peer` finished its handshake; from now on messages can go to it. `key` keys
    /// its reconciliations: both sides of the link must be given the same one (see
    /// ``ReconciliationKey/init(nonce:peerNonce:)``). `pairKey`, when given, is a secret only
    /// the two nodes know and the same at each of their connections
    /// (``ReconciliationKey/init(pairSecret:)``): it keys the fingerprint of each whole session,
    /// which the engine then keeps up to date from one connect to the next, so that two nodes
    /// in sync reconnect without hashing their entries again. Both sides must be given it, or
    /// neither: with one, the first step of every exchange differs and reconciliation goes the
    /// long way (still correct). `rules` say what the peer may do on it.
    case peerConnected(
        NodeID,
        key: ReconciliationKey,
        pairKey: ReconciliationKey? = nil,
        rules: PeerRules = .everything
    )
    /// The link to `peer` is gone; nothing more is sent to it until it connects again.
    case peerDisconnected(NodeID)
    /// A message arrived from a connected peer.
    case received(ReplicationMessage, from: NodeID)
    /// Entries arrived from a connected peer, parsed and checked where they arrived: the same as
    /// ``received(_:from:)`` with the ``ReplicationMessage/entries(_:)`` they were made from.
    case receivedEntries(CheckedEntryBatch, from: NodeID)
    /// The append ``AppendRequest/token`` is durable. Its lines must then be fed back, like any
    /// new lines of the file, as ``localEntries(session:entries:)``: that gives them their place
    /// in the replica's sequence and forwards them to the other peers.
    case appendCompleted(token: UInt64)
    /// The append ``AppendRequest/token`` is durable, and its lines are in the file one after
    /// another from `firstOffset`, right after every line the host has fed so far: the engine
    /// numbers and forwards them at once, and the host does not feed them back. (Use
    /// ``appendCompleted(token:)`` when another writer's lines may have come in between.)
    case appendCompletedInPlace(token: UInt64, firstOffset: Int64)
    /// The append ``AppendRequest/token`` could not be written (nothing of it is in the file).
    /// Its entries wait and are asked for again after ``ReplicationEngine/Configuration/appendRetryDelay``;
    /// the messages that carried them stay unacknowledged until then.
    case appendFailed(token: UInt64)
    /// Time passed: retransmit what went unacknowledged, write held entries whose wait expired.
    case tick
}

/// An entry read from the local file, with where its line starts.
public struct LocalEntry: Sendable {
    public var entry: OpEntry
    public var offset: Int64

    public init(entry: OpEntry, offset: Int64) {
        self.entry = entry
        self.offset = offset
    }
}

/// What the engine asks its host to do, in order.
public enum ReplicationAction: Sendable, Equatable {
    /// Send a message to a connected peer.
    case send(ReplicationMessage, to: NodeID)
    /// Read these lines from the local file and send them to `peer` as one ``EntryBatch``.
    case ship(Shipment)
    /// Append these lines to the session's `ops.jsonl` in one write, in this order, make them
    /// durable, then report ``ReplicationEvent/appendCompleted(token:)`` (and later feed the
    /// lines back with the file's other new lines).
    case append(AppendRequest)
    /// Replace the session's `checkpoint.json` with these bytes (keeping history).
    case writeCheckpoint(session: SessionID, Checkpoint)
    /// The greatest checkpoint of `session` received from peers is now this one. Record it (the
    /// latest per session is all that matters) and give it back with
    /// ``ReplicationEngine/Restore/remoteCheckpoints`` after a restart, so that a
    /// read-only replica still forwards it even when its own writers' checkpoint is greater.
    case recordRemoteCheckpoint(session: SessionID, Checkpoint)
    /// Asked by a read-only replica before each ``append(_:)`` that carries entries from peers:
    /// make these arrivals durable *before* the append, and give them back with
    /// ``ReplicationEngine/Restore/arrivals`` after a restart. An entry that reached the file
    /// but not the ``recordOrigins(session:firstSequence:origins:)`` journal before a crash is
    /// then still known as a peer's, and still forwarded, instead of being taken for the
    /// replica's own (which it never ships). Once the entries have their place in
    /// `recordOrigins`, the arrivals may be forgotten.
    case recordArrivals(session: SessionID, arrivals: [Arrival])
    /// The peer now holds durably the first `acknowledged` entries of this replica's sequence of
    /// `session`. Record it (the latest value per peer and session is all that matters) and
    /// give it back with ``ReplicationEngine/restoreProgress(_:)`` after a restart.
    case recordProgress(peer: NodeID, session: SessionID, acknowledged: UInt64)
    /// Entries took sequence numbers `firstSequence`, `firstSequence + 1`, … of `session`, each
    /// from the peer named (`nil`: this replica's own writers). Record them and give them back
    /// with ``ReplicationEngine/Restore/origins`` after a restart, so that entries are still
    /// never sent back where they came from, and a read-only replica still forwards what it
    /// received.
    case recordOrigins(session: SessionID, firstSequence: UInt64, origins: [NodeID?])
    /// The same entries as the ``recordOrigins(session:firstSequence:origins:)`` just before it,
    /// as the local file holds them: op id, place, reconciliation key, and the digest
    /// (``IndexedEntry/lineDigest(of:)``) of the last one's line. A host may keep them as a
    /// cache, check it against the file after a restart (the last line still has that digest),
    /// and give them back with ``ReplicationEngine/Restore/indexedEntries`` instead of
    /// feeding the lines again.
    ///
    /// A separate action rather than more fields of `recordOrigins`: the origin journal is state
    /// that must survive (it keeps entries from being sent back where they came from), this one
    /// is a cache that may be lost or thrown away at any time, and a host that keeps no index
    /// ignores it.
    case recordIndex(session: SessionID, firstSequence: UInt64, entries: [IndexedEntry], lastLineDigest: UInt64)
    /// The session's local file was reset (see ``ReplicationEvent/localFileReset(session:entries:)``):
    /// before anything after this action, drop what is kept of `session` by sequence number —
    /// the origin journal and the index of the session, and every peer's recorded progress of
    /// it (as 0) — since the numbering starts again from 1 with the
    /// ``recordOrigins(session:firstSequence:origins:)`` that follows. Arrivals stay (they are
    /// by op id), and so do checkpoints.
    case resetSession(SessionID)
    /// Something worth a log line and a counter; no action needed.
    case report(ReplicationReport)
}

/// An entry received from a peer, by op id.
public struct Arrival: Sendable, Hashable {
    public var opID: OpID
    public var peer: NodeID

    public init(opID: OpID, peer: NodeID) {
        self.opID = opID
        self.peer = peer
    }
}

/// Where an entry's line is in the local file: `length` bytes from `offset`, then `\n`.
public struct EntryLocation: Sendable, Hashable {
    public var offset: Int64
    public var length: Int32

    public init(offset: Int64, length: Int32) {
        self.offset = offset
        self.length = length
    }
}

/// Entries to ship: the host reads each located line and sends
/// `EntryBatch(session, after, through, lines)` to `peer`.
public struct Shipment: Sendable, Equatable {
    public var peer: NodeID
    public var session: SessionID
    public var after: UInt64
    public var through: UInt64
    public var locations: [EntryLocation]
    /// Entries announced, not sent (a lazy link of a broadcast tree): the host sends them as
    /// ``EntryBatch/notices``.
    public var notices: [EntryNotice] = []
    /// See ``EntryBatch/isLive``.
    public var isLive = false
}

/// Lines to append to one session's log in one write.
public struct AppendRequest: Sendable, Equatable {
    public var token: UInt64
    public var session: SessionID
    public var lines: [[UInt8]]
}

/// Events the host logs and counts.
public enum ReplicationReport: Sendable, Equatable {
    /// An entry from a peer (`nil`: a local line) failed validation and was not written or
    /// shipped.
    case rejectedEntry(peer: NodeID?, session: String, ReplicationRejection)
    /// A whole message from a peer was refused (bad session id, bad checkpoint, bogus range).
    case rejectedMessage(peer: NodeID, ReplicationRejection)
    /// Entries whose parents never arrived waited their full time and were written anyway.
    case orphansWritten(session: SessionID, count: Int)
    /// The session's checkpoint changed to a greater one.
    case checkpointAdopted(session: SessionID, lamportTimestamp: Int, snapshotID: String, fromPeer: NodeID?)
    /// A set reconciliation with `peer` found it lacks `lacking` of the `of` entries this
    /// replica held of `session`; only those (and later ones) are shipped.
    case reconciled(peer: NodeID, session: SessionID, lacking: Int, of: Int)
    /// A reconciliation found that `peer` holds only the first `holds` entries of the
    /// `acknowledged` it had acknowledged (it was restored from a backup, or lost part of its
    /// file): they are sent again.
    case peerLacksAcknowledged(peer: NodeID, session: SessionID, acknowledged: UInt64, holds: UInt64)
    /// `peer` sent an entry whose op id the local file already holds, at `location`, and was
    /// dropped as a duplicate; `line` is the received line. Reported only for op ids that are
    /// not content ids (`sha256:` ids are verified on receipt, so the same id is the same
    /// content; a formatting difference of such a line is not looked for). The host compares
    /// `line` with the local line: if they differ, two writers gave one op id to different
    /// entries, and both files keep their own.
    case duplicateReceived(peer: NodeID, session: SessionID, opID: OpID, location: EntryLocation, line: [UInt8])
    /// A new line of the local file, at `location`, repeats the op id of the line at
    /// `firstLocation`: the later line is not replicated. Not reported for a line read again
    /// (the same place), so a re-read file reports nothing.
    case repeatedLocalOpID(session: SessionID, opID: OpID, location: EntryLocation, firstLocation: EntryLocation)
}
