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
    }

    /// An id known to be valid by construction (a content id this library computed).
    init(trusted text: String) {
        self.rawValue = text
        self.digest = Self.digest(of: text)
    }

    private static func digest(of text: String) -> Int {
        var hasher = Hasher()
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

    /// Byte order of the UTF-8 text, the last key of the canonical order.
    public static func < (lhs: OpID, rhs: OpID) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }

    public var description: String { self.rawValue }
}
