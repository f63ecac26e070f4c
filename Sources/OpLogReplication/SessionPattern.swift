public import OpLog

/// A glob over session ids, as a peer's `sessions` rule writes it (DESIGN §7): `*` stands for
/// any run of characters (none included), `?` for one; every other character stands for
/// itself. `song-*` matches `song-1` and `song-`, not `songs`.
public struct SessionPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let text: String
    private let bytes: [UInt8]

    /// Checks that `text` can match a session id: 1 to ``SessionID/maximumLength`` bytes of
    /// the session-id characters (`A-Z a-z 0-9 . _ -`) and `*` or `?`.
    ///
    /// - Throws: `ReplicationError` with code `.invalidSessionPattern` and a one-line message
    ///   naming the pattern.
    public init(validating text: String) throws(ReplicationError) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= SessionID.maximumLength,
            bytes.allSatisfy({ Self.isSessionIDByte($0) || $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") })
        else {
            throw ReplicationError(
                .invalidSessionPattern,
                "session pattern \"\(text)\" must be 1 to \(SessionID.maximumLength) of A-Z a-z 0-9 . _ - and the wildcards * and ?"
            )
        }
        self.text = text
        self.bytes = bytes
    }

    /// Whether `session` matches the whole pattern.
    ///
    /// - Complexity: O(pattern length × id length) at worst, with no allocation.
    public func matches(_ session: SessionID) -> Bool {
        let name = Array(session.rawValue.utf8)
        var pattern = 0
        var index = 0
        // Where the last `*` was, and the name position it is retried from.
        var star: (pattern: Int, index: Int)?
        while index < name.count {
            if pattern < self.bytes.count,
                self.bytes[pattern] == UInt8(ascii: "?") || self.bytes[pattern] == name[index]
            {
                pattern += 1
                index += 1
            } else if pattern < self.bytes.count, self.bytes[pattern] == UInt8(ascii: "*") {
                star = (pattern, index)
                pattern += 1
            } else if let last = star {
                // Let the last `*` take one more character.
                pattern = last.pattern + 1
                index = last.index + 1
                star = (last.pattern, last.index + 1)
            } else {
                return false
            }
        }
        while pattern < self.bytes.count, self.bytes[pattern] == UInt8(ascii: "*") { pattern += 1 }
        return pattern == self.bytes.count
    }

    public var description: String { self.text }

    private static func isSessionIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }
}
