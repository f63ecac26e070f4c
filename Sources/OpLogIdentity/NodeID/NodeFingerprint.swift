import Crypto
import Foundation
public import OpLogReplication

/// A node ID in DESIGN §7's form: the SHA-256 of the node's certificate, written as Syncthing
/// writes a device ID.
///
/// The 32 hash bytes are base32-encoded (RFC 4648, no padding: 52 characters), split into four
/// groups of 13, each followed by its check character (Syncthing's `luhn32`, see
/// ``Base32/checkCharacter(for:)``), and shown as eight groups of seven joined by `-`:
/// `MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD`. That text is
/// ``description`` (63 characters, always upper case) and what ``nodeID`` carries.
///
/// Two values are equal when their hashes are: ``init(parsing:)`` ignores case, dashes and
/// spaces, so every way a person may type an ID compares equal to the canonical one.
public struct NodeFingerprint: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// How many bytes the hash has.
    public static let byteCount = 32
    /// How long the canonical text is: 56 characters and 7 dashes.
    public static let canonicalLength = 63

    /// The SHA-256 hash of the certificate's DER bytes.
    public let bytes: [UInt8]
    /// The canonical text, made once.
    public let description: String

    /// The node ID of the certificate whose DER encoding is `certificateDER`: its SHA-256.
    ///
    /// - Complexity: O(n) in the certificate's size, one SHA-256.
    public init(certificateDER: [UInt8]) {
        self.init(validBytes: Array(SHA256.hash(data: certificateDER)))
    }

    /// The node ID whose hash is `bytes`, as Syncthing's `DeviceIDFromBytes`.
    ///
    /// - Throws: ``IdentityError`` `.invalidNodeID` unless `bytes` has ``byteCount`` (32) bytes.
    public init(hash bytes: some Sequence<UInt8>) throws(IdentityError) {
        let bytes = Array(bytes)
        guard bytes.count == Self.byteCount else {
            throw IdentityError(
                code: .invalidNodeID,
                message: "a node ID is a \(Self.byteCount)-byte hash, not \(bytes.count) bytes"
            )
        }
        self.init(validBytes: bytes)
    }

    /// A node ID typed or pasted by a person, or read from a file or a peer.
    ///
    /// Case, dashes and spaces are ignored: `mfzwi3dbonsgyc…` and `MFZWI3D BONSGYC …` are the
    /// same ID as `MFZWI3D-BONSGYC-…`. What is left must be 56 characters of `A`–`Z` and `2`–`7`
    /// whose every 14th character is the check character of the 13 before it. Syncthing's old
    /// 52-character form without check characters is refused (a typo in it cannot be told
    /// from another node), and so are `0`, `1` and `8` (Syncthing reads them as `O`, `I`, `B`):
    /// an ID is copied, not retyped.
    ///
    /// - Throws: ``IdentityError`` `.invalidNodeID`, with a one-line message quoting the text
    ///   (at most 80 characters of it) and saying what is wrong: the first character outside
    ///   the alphabet and its position (dashes and spaces not counted), the length, or the group
    ///   whose check character does not match.
    public init(parsing text: String) throws(IdentityError) {
        let quoted = String(reflecting: text.count > 80 ? String(text.prefix(80)) + "…" : text)
        var characters: [UInt8] = []
        characters.reserveCapacity(56)
        for scalar in text.unicodeScalars where scalar != "-" && scalar != " " {
            let value = ("a"..."z").contains(scalar) ? scalar.value - 0x20 : scalar.value
            guard let byte = UInt8(exactly: value), Base32.value(of: byte) != nil else {
                throw IdentityError(
                    code: .invalidNodeID,
                    message: "node ID \(quoted) has \(String(reflecting: String(scalar))) at letter "
                        + "\(characters.count + 1); node IDs use only A-Z and 2-7"
                )
            }
            characters.append(byte)
        }
        guard characters.count == 56 else {
            throw IdentityError(
                code: .invalidNodeID,
                message: "node ID \(quoted) has \(characters.count) letters and digits, not 56 "
                    + "(eight groups of seven, as `oplog-sync id` prints them)"
            )
        }
        var encoded: [UInt8] = []
        for group in 0..<4 {
            let start = group * 14
            let letters = characters[start..<start + 13]
            guard Base32.checkCharacter(for: letters) == characters[start + 13] else {
                throw IdentityError(
                    code: .invalidNodeID,
                    message: "node ID \(quoted) is mistyped: the check letter of its part \(group + 1) of 4 "
                        + "(letter \(start + 14)) does not match"
                )
            }
            encoded += letters
        }
        guard let bytes = Base32.decode(encoded), bytes.count == Self.byteCount else {
            throw IdentityError(
                code: .invalidNodeID,
                message: "node ID \(quoted) is not the hash of a certificate (its last letters hold stray bits)"
            )
        }
        self.init(validBytes: bytes)
    }

    /// `bytes`, 32 of them, and their canonical text.
    private init(validBytes bytes: [UInt8]) {
        precondition(bytes.count == Self.byteCount, "a SHA-256 hash has 32 bytes")
        let encoded = Base32.encode(bytes)
        var checked: [UInt8] = []
        checked.reserveCapacity(56)
        for group in 0..<4 {
            let letters = encoded[group * 13..<(group + 1) * 13]
            guard let check = Base32.checkCharacter(for: letters) else {
                preconditionFailure("Base32.encode makes only alphabet characters")
            }
            checked += letters
            checked.append(check)
        }
        var text: [UInt8] = []
        text.reserveCapacity(Self.canonicalLength)
        for (offset, character) in checked.enumerated() {
            if offset > 0 && offset % 7 == 0 { text.append(UInt8(ascii: "-")) }
            text.append(character)
        }
        self.bytes = bytes
        self.description = String(decoding: text, as: UTF8.self)
    }

    /// This ID as the replication engine's and the handshake's ``NodeID``: the canonical text,
    /// which ``NodeID/init(validating:)`` accepts (63 bytes of letters, digits and `-`).
    public var nodeID: NodeID { NodeID(self.description) }

    /// Equal when the hashes are: however each was typed.
    public static func == (lhs: NodeFingerprint, rhs: NodeFingerprint) -> Bool {
        lhs.bytes == rhs.bytes
    }

    /// Hashes the hash bytes, as ``==`` compares them.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.bytes)
    }

    /// Ordered as their ``nodeID``s are, by the bytes of the canonical text, so that both agree
    /// on which of two nodes is the smaller.
    public static func < (lhs: NodeFingerprint, rhs: NodeFingerprint) -> Bool {
        lhs.description.utf8.lexicographicallyPrecedes(rhs.description.utf8)
    }
}
