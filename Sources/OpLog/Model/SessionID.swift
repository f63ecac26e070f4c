/// The name of one live session: its folder under `ROOT/.muse/op_log/`.
///
/// A valid id is a single path component of `[A-Za-z0-9._-]`, 1 to 128 bytes, and neither `.`
/// nor `..`, so it can never name a path outside the op log folder.
public struct SessionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The longest id accepted, in bytes.
    public static let maximumLength = 128

    /// The id as text; always valid.
    public let rawValue: String

    /// Validates `text` as a session id.
    ///
    /// - Throws: `OpLogError` with code `.invalidSessionID`, quoting the text and the rule broken.
    public init(validating text: String) throws(OpLogError) {
        let bytes = text.utf8
        func invalid(_ why: String) -> OpLogError {
            OpLogError(code: .invalidSessionID, message: "session id \(Self.quoted(text)) \(why)")
        }
        guard !bytes.isEmpty else { throw invalid("is empty") }
        guard bytes.count <= Self.maximumLength else {
            throw invalid("is longer than \(Self.maximumLength) bytes")
        }
        guard text != ".", text != ".." else { throw invalid("is not a single path component") }
        guard bytes.allSatisfy(Self.isAllowed) else {
            if bytes.contains(UInt8(ascii: "/")) { throw invalid("is not a single path component") }
            throw invalid("may contain only A-Z, a-z, 0-9, '.', '_' and '-'")
        }
        self.rawValue = text
    }

    /// Code point order, as Python's `sorted` orders session names.
    public static func < (lhs: SessionID, rhs: SessionID) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }

    public var description: String { self.rawValue }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    /// `text` in double quotes, with control characters made visible, for error messages.
    static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        PythonJSON.appendString(String(text.prefix(200)), to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
