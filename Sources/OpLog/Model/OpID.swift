/// The identity of one op log entry.
///
/// Entries made by this library carry a content id, `sha256:` followed by the 64 lowercase hex
/// digits of the SHA-256 of the entry's RFC 8785 canonical form without `op_id` (see
/// ``ContentID``). Older Muse writers use UUIDs; any other id is an opaque identifier, compared
/// as bytes. A valid id is 1 to ``maximumLength`` bytes with no control characters.
public struct OpID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The longest id accepted, in bytes.
    public static let maximumLength = 256

    /// The prefix of content-addressed ids.
    public static let contentPrefix = "sha256:"

    /// The id as text; always valid.
    public let rawValue: String
    /// The id's bytes hashed once, with this process's random seed: dictionaries keyed by op id
    /// then hash one integer, and tell most unequal ids apart without reading their text.
    private let digest: Int
    /// A second, independent hash of the bytes: with ``digest`` it makes ``key``.
    private let secondDigest: Int

    /// A 128-bit digest of the id, with this process's random seeds, for tables of many ids
    /// that should not keep each id's text: equal ids have equal keys, and two unequal ids have
    /// equal keys with probability 2⁻¹²⁸ (the seeds are secret, so no input is more likely to).
    /// Not stable across processes: never store or send it.
    public struct Key: Hashable, Sendable {
        let first: Int
        let second: Int

        public func hash(into hasher: inout Hasher) {
            hasher.combine(self.first)
        }

        /// See ``OpID/_rawHashValue(seed:)``.
        public func _rawHashValue(seed: Int) -> Int {
            OpID.mix(self.first, seed: seed)
        }
    }

    /// This id's ``Key``.
    public var key: Key { Key(first: self.digest, second: self.secondDigest) }

    /// Validates `text` as an op id.
    ///
    /// - Throws: `OpLogError` with code `.invalidOpID`.
    public init(validating text: String) throws(OpLogError) {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= Self.maximumLength,
            !(bytes.withContiguousStorageIfAvailable { $0.contains { $0 < 0x20 || $0 == 0x7F } }
                ?? bytes.contains { $0 < 0x20 || $0 == 0x7F })
        else {
            throw OpLogError(
                code: .invalidOpID,
                message:
                    "op id \(SessionID.quoted(text)) must be 1 to \(Self.maximumLength) bytes without control characters"
            )
        }
        self.rawValue = text
        self.digest = Self.digest(of: text)
        self.secondDigest = Self.digest(of: text, salt: 1)
    }

    /// An id known to be valid by construction (a content id this library computed).
    init(trusted text: String) {
        self.rawValue = text
        self.digest = Self.digest(of: text)
        self.secondDigest = Self.digest(of: text, salt: 1)
    }

    private static func digest(of text: String, salt: UInt8 = 0) -> Int {
        var hasher = Hasher()
        if salt != 0 { hasher.combine(salt) }
        ExactText(text).hash(into: &hasher)
        return hasher.finalize()
    }

    /// Whether the id claims to be a content id (starts with `sha256:`); such ids are verified
    /// against the entry's content wherever an entry is received.
    public var isContentAddressed: Bool {
        self.rawValue.utf8.starts(with: Self.contentPrefix.utf8)
    }

    /// Equal when the code points are equal (not merely canonically equivalent).
    public static func == (lhs: OpID, rhs: OpID) -> Bool {
        lhs.digest == rhs.digest && ExactText(lhs.rawValue) == ExactText(rhs.rawValue)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.digest)
    }

    /// The digest is already a keyed hash of the id (uniform, with a secret per-process seed):
    /// mixed with the table's seed it places ids as well as SipHash would, without running
    /// SipHash again on every lookup and on every move when a table of a million ids grows.
    /// Measured on 200,000 keys (insert, then look up each): 105 ms through `Hasher`, 30 ms so.
    public func _rawHashValue(seed: Int) -> Int {
        Self.mix(self.digest, seed: seed)
    }

    /// The finalizer of MurmurHash3 (every input bit moves every output bit) over `value ^ seed`.
    static func mix(_ value: Int, seed: Int) -> Int {
        var mixed = UInt64(bitPattern: Int64(value ^ seed))
        mixed = (mixed ^ (mixed >> 33)) &* 0xff51_afd7_ed55_8ccd
        mixed = (mixed ^ (mixed >> 33)) &* 0xc4ce_b9fe_1a85_ec53
        return Int(Int64(bitPattern: mixed ^ (mixed >> 33)))
    }

    /// Byte order of the UTF-8 text, the last key of the canonical order.
    public static func < (lhs: OpID, rhs: OpID) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }

    public var description: String { self.rawValue }
}
