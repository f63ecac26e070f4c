public import OpLog

/// A peer-to-peer message of the replication protocol, as the merge engine sends and receives
/// it.
///
/// Sequence numbers are the *sender's*: each replica numbers the entries of a session in the
/// order they became durable in its own file (1, 2, 3, …), and an ``EntryBatch`` covers the
/// half-open range `(after, through]` of that numbering. Entries in the range that the receiver
/// gave the sender (no echo) or that a read-only sender wrote itself are left out, so a batch may
/// carry fewer lines than its range — even none. The receiver acknowledges a range only once
/// every line in it is durable in its file or rejected; the sender resumes from the highest
/// contiguous acknowledged number.
///
/// Session ids and lines travel unvalidated: the engine validates them on receipt, so a bad
/// peer gets a counted, logged rejection instead of a decode failure of the whole link.
public enum ReplicationMessage: Sendable, Hashable {
    /// New entries of one session.
    case entries(EntryBatch)
    /// The receiver holds every entry of `(after, through]` durably (or rejected it).
    case acknowledge(session: String, after: UInt64, through: UInt64)
    /// The sender's current checkpoint of a session: `checkpoint.json`'s exact bytes.
    case checkpoint(session: String, bytes: [UInt8])
    /// The receiver has processed the checkpoint with this (`lamport_ts`, `snapshot_id`) and
    /// these bytes (`digest` is the SHA-256 of `checkpoint.json`'s bytes: two checkpoints may
    /// share the pair and differ in their other fields).
    case checkpointAcknowledge(session: String, lamportTimestamp: Int64, snapshotID: String, digest: [UInt8])
    /// The receiver refused a damaged line of `session` from this sender: send again what it has
    /// not acknowledged, now rather than after the retransmission timeout (so that a damaged
    /// parent does not arrive after its children's hold ran out).
    case retransmit(session: String)
    /// Step `step` of the set reconciliation `exchange` of `session` (see
    /// ``ReconciliationRange``): ranges in order, the last ending at ``ReconciliationBound/end``.
    /// Step 0 starts an exchange (its starter names it); no ranges at all means the sender gave
    /// the exchange up.
    case reconcile(session: String, exchange: UInt64, step: UInt32, ranges: [ReconciliationRange])
    /// The receiver got one of this sender's live entries of `session` from another peer first:
    /// from now on this link carries that session's new entries as notices only, both ways
    /// (the link turns lazy in the session's broadcast tree; see ``ForwardingPolicy/tree``).
    case prune(session: String)
    /// The receiver was told of these entries of `session` (by sequence number, in this
    /// sender's numbering) and did not get them in time: send them, and carry the session's new
    /// entries in full again, both ways (the link turns eager).
    case graft(session: String, sequences: [UInt64])
}

/// Entries of one session in the sender's sequence range `(after, through]`, in the sender's
/// file order; each line is byte-for-byte the line in the origin's file, without its `\n`.
///
/// On a lazy link of a broadcast tree, entries the receiver is likely to get from another peer
/// travel as ``notices`` instead of lines. A batch is ``isLive`` when it carries entries this
/// sender numbered since the link began streaming, sent for the first time: a duplicate in a
/// live batch means the receiver has a shorter path for the session, and prunes the link.
public struct EntryBatch: Sendable, Hashable {
    public var session: String
    public var after: UInt64
    public var through: UInt64
    public var lines: [[UInt8]]
    public var notices: [EntryNotice]
    public var isLive: Bool

    public init(
        session: String,
        after: UInt64,
        through: UInt64,
        lines: [[UInt8]],
        notices: [EntryNotice] = [],
        isLive: Bool = false
    ) {
        self.session = session
        self.after = after
        self.through = through
        self.lines = lines
        self.notices = notices
        self.isLive = isLive
    }
}

extension EntryBatch {
    /// The batch that carries `shipment`, given the lines its locations hold (read from the
    /// local file), in order.
    public init(_ shipment: Shipment, lines: [[UInt8]]) {
        self.init(
            session: shipment.session.rawValue,
            after: shipment.after,
            through: shipment.through,
            lines: lines,
            notices: shipment.notices,
            isLive: shipment.isLive
        )
    }
}

/// One entry a lazy link announces instead of sending it: its sequence number in the sender's
/// numbering (what a ``ReplicationMessage/graft(session:sequences:)`` asks for) and the 128 bits
/// that name it for reconciliation (``ReconciliationBound/hash`` and
/// ``IndexedEntry/contentHash``, both from SHA-256: telling two entries apart by them takes
/// 2⁶⁴ work).
public struct EntryNotice: Sendable, Hashable {
    public var sequence: UInt64
    public var hash: UInt64
    public var contentHash: UInt64

    public init(sequence: UInt64, hash: UInt64, contentHash: UInt64) {
        self.sequence = sequence
        self.hash = hash
        self.contentHash = contentHash
    }
}

/// An ``EntryBatch`` whose lines are parsed and whose content ids are checked, ready for
/// ``ReplicationEvent/receivedEntries(_:from:)``.
///
/// That work needs nothing of the engine's state and is most of the cost of receiving a line,
/// so a host can do it where the lines arrive, beside the thread that runs the engine. The
/// engine treats it exactly as the ``ReplicationMessage/entries(_:)`` it was made from.
public struct CheckedEntryBatch: Sendable {
    public let session: String
    public let after: UInt64
    public let through: UInt64
    /// Each line's entry, or why it was refused, in the batch's order.
    let entries: [Result<OpEntry, OpLogError>]
    let notices: [EntryNotice]
    let isLive: Bool

    public init(_ batch: EntryBatch) {
        self.session = batch.session
        self.after = batch.after
        self.through = batch.through
        self.notices = batch.notices
        self.isLive = batch.isLive
        self.entries = batch.lines.map { line in
            Result { () throws(OpLogError) -> OpEntry in
                let entry = try OpEntry(line: line)
                try entry.verifyContentID()
                return entry
            }
        }
    }
}

extension ReplicationMessage {
    /// The acknowledgement of `checkpoint`, naming its (`lamport_ts`, `snapshot_id`) and the
    /// digest of its bytes.
    public static func acknowledgement(of checkpoint: Checkpoint) -> ReplicationMessage {
        let identity = CheckpointIdentity(checkpoint)
        return .checkpointAcknowledge(
            session: checkpoint.sessionID,
            lamportTimestamp: identity.lamportTimestamp,
            snapshotID: checkpoint.snapshotID,
            digest: identity.digest
        )
    }
}
