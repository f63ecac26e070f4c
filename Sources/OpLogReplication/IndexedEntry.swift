internal import Crypto
public import OpLog

/// What the engine knows of one entry of the local file without its line: enough to restore it
/// after a restart from an index the host keeps (see
/// ``ReplicationAction/recordIndex(session:firstSequence:entries:lastLineDigest:)`` and
/// ``ReplicationEngine/Restore/indexedEntries``).
public struct IndexedEntry: Sendable, Hashable {
    /// The entry's op id, exactly as its line spells it.
    public var opID: OpID
    /// Where its line is in the local file.
    public var location: EntryLocation
    /// Where it sorts for set reconciliation: its `lamport_ts` and the hash of its op id.
    public var key: ReconciliationBound
    /// 64 more bits that tell it from another entry with the same key: of its op id for a
    /// content id, of its line for any other (so that two entries given one opaque id are told
    /// apart). See ``ReconciliationBound/placing(_:)``.
    public var contentHash: UInt64

    public init(opID: OpID, location: EntryLocation, key: ReconciliationBound, contentHash: UInt64) {
        self.opID = opID
        self.location = location
        self.key = key
        self.contentHash = contentHash
    }

    /// The first 8 bytes of the SHA-256 of `line` (without its `\n`), big-endian: what an index
    /// keeps of a line to tell, later, whether the file still holds those bytes there.
    ///
    /// - Complexity: O(`line.count`).
    public static func lineDigest(of line: some Collection<UInt8>) -> UInt64 {
        let digest = SHA256.hash(data: Array(line))
        return digest.withUnsafeBytes { bytes in
            bytes.prefix(8).reduce(0) { ($0 << 8) | UInt64($1) }
        }
    }
}
