public import OpLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A glob over session ids, as a `sessions` entry of a peer in the config file (DESIGN §7):
/// `song-*`, `take-?`, `[ab]-mix`.
///
/// `*` matches any run of characters, `?` one character, `[…]` one of a set (`[!…]` one not in
/// it), as `fnmatch(3)` without flags: session ids are single path components, so `*` never
/// meets a `/`. A pattern without them matches exactly that id.
public struct SessionPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let text: String

    /// A pattern from the config file.
    ///
    /// - Throws: ``AgentError`` `.invalidConfiguration` when `text` is empty, longer than 256
    ///   bytes, or holds a character that is neither one a session id may hold (`A-Z a-z 0-9 . _ -`)
    ///   nor `* ? [ ] !`.
    public init(parsing text: String) throws(AgentError) {
        guard !text.isEmpty, text.utf8.count <= 256 else {
            throw AgentError(
                code: .invalidConfiguration,
                message: "session pattern \(String(reflecting: text)) must be 1 to 256 characters"
            )
        }
        for byte in text.utf8 {
            let isSessionCharacter =
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || Array(".-_".utf8).contains(byte)
            guard isSessionCharacter || Array("*?[]!".utf8).contains(byte) else {
                throw AgentError(
                    code: .invalidConfiguration,
                    message: "session pattern \(String(reflecting: text)) holds a character no session id has; "
                        + "use A-Z a-z 0-9 . _ - and the wildcards * ? [ ]"
                )
            }
        }
        self.text = text
    }

    /// Whether `session` matches the pattern.
    public func matches(_ session: SessionID) -> Bool {
        fnmatch(self.text, session.rawValue, 0) == 0
    }

    /// The pattern as written.
    public var description: String { self.text }
}
