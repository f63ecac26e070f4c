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
}

/// Entries of one session in the sender's sequence range `(after, through]`, in the sender's
/// file order; each line is byte-for-byte the line in the origin's file, without its `\n`.
public struct EntryBatch: Sendable, Hashable {
    public var session: String
    public var after: UInt64
    public var through: UInt64
    public var lines: [[UInt8]]

    public init(session: String, after: UInt64, through: UInt64, lines: [[UInt8]]) {
        self.session = session
        self.after = after
        self.through = through
        self.lines = lines
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

    public init(_ batch: EntryBatch) {
        self.session = batch.session
        self.after = batch.after
        self.through = batch.through
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
