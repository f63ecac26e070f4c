internal import Crypto
public import OpLog

// The vocabulary of set reconciliation's messages (``Reconciliation``): where entries sort, and
// what one side says about one range of them.

/// A point in the order that set reconciliation uses: entries sort by Lamport clock, then by a
/// hash of their op id.
///
/// Work done apart — offline, or after a replica was restored from an older backup — carries
/// the greatest clocks, so what two replicas do not share gathers in a few ranges at the top of
/// this order, and reconciliation recurses into those alone.
public struct ReconciliationBound: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var lamport: UInt64
    public var hash: UInt64

    /// Below every entry.
    public static let start = ReconciliationBound(lamport: 0, hash: 0)
    /// Above every entry (Lamport clocks are at most `Int.max`).
    public static let end = ReconciliationBound(lamport: .max, hash: .max)

    public init(lamport: UInt64, hash: UInt64) {
        self.lamport = lamport
        self.hash = hash
    }

    /// Where `entry` sorts.
    public init(_ entry: OpEntry) {
        self.lamport = UInt64(entry.lamportTimestamp)
        self.hash = Self.hash(of: entry.opID)
    }

    /// The first 8 bytes of the SHA-256 of the op id's UTF-8 bytes, big-endian: the same on
    /// every replica, and evenly spread whatever the ids look like.
    public static func hash(of id: OpID) -> UInt64 {
        let digest = SHA256.hash(data: Array(id.rawValue.utf8))
        return digest.withUnsafeBytes { bytes in
            bytes.prefix(8).reduce(0) { ($0 << 8) | UInt64($1) }
        }
    }

    /// Where `entry` sorts, and its ``IndexedEntry/contentHash``: one SHA-256 of the op id
    /// gives both for a content id (whose id already names its content); an opaque id's content
    /// hash is ``IndexedEntry/lineDigest(of:)`` of its line, a second SHA-256.
    public static func placing(_ entry: OpEntry) -> (bound: ReconciliationBound, contentHash: UInt64) {
        let digest = SHA256.hash(data: Array(entry.opID.rawValue.utf8))
        let (hash, idHash) = digest.withUnsafeBytes { bytes in
            (
                bytes.prefix(8).reduce(0) { ($0 << 8) | UInt64($1) },
                bytes.dropFirst(8).prefix(8).reduce(0) { ($0 << 8) | UInt64($1) }
            )
        }
        let contentHash = entry.opID.isContentAddressed ? idHash : IndexedEntry.lineDigest(of: entry.line)
        return (ReconciliationBound(lamport: UInt64(entry.lamportTimestamp), hash: hash), contentHash)
    }

    public static func < (lhs: ReconciliationBound, rhs: ReconciliationBound) -> Bool {
        (lhs.lamport, lhs.hash) < (rhs.lamport, rhs.hash)
    }

    public var description: String { "(\(self.lamport), \(String(self.hash, radix: 16)))" }
}

/// What one side says about one range of a reconciliation message.
public enum ReconciliationPayload: Sendable, Hashable {
    /// Nothing to say about the range.
    case skip
    /// The sender's entries in the range: how many, and the sum of their items (keyed hashes,
    /// ``ReconciliationKey/item(_:_:)``) modulo 2^64.
    case fingerprint(count: UInt64, sum: UInt64)
    /// Answers a ``fingerprint(count:sum:)``: the receiver's was the same, so both hold the same
    /// entries in the range.
    case matched
    /// The sender's entries in the range, every one, as items (keyed hashes) in order.
    case ids([UInt64])
    /// Answers ``ids(_:)``: bit `i` (byte `i / 8`, least significant bit first) is set when the
    /// sender lacks the `i`-th id of that list.
    case lacking([UInt8])
}

/// One range of a reconciliation message: from the previous range's upper bound (or
/// ``ReconciliationBound/start``) up to, not including, `upperBound`.
public struct ReconciliationRange: Sendable, Hashable {
    public var upperBound: ReconciliationBound
    public var payload: ReconciliationPayload

    public init(upperBound: ReconciliationBound, payload: ReconciliationPayload) {
        self.upperBound = upperBound
        self.payload = payload
    }
}
