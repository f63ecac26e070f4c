import OpLog
import Testing

@testable import OpLogReplication

@Suite("Session patterns")
struct SessionPatternTests {
    static func session(_ text: String) -> SessionID { try! SessionID(validating: text) }

    @Test(arguments: [
        ("song-*", "song-1", true), ("song-*", "song-", true), ("song-*", "songs", false),
        ("song-*", "a-song-1", false), ("*", "anything", true), ("?", "a", true), ("?", "ab", false),
        ("a*b*c", "aXXbYYc", true), ("a*b*c", "aXXbYY", false), ("*-live", "x-y-live", true),
        ("exact", "exact", true), ("exact", "exactly", false), ("**", "x", true), ("a?c*", "abcdef", true),
    ])
    func matchesWholeIDs(pattern: String, session: String, expected: Bool) throws {
        #expect(try SessionPattern(validating: pattern).matches(Self.session(session)) == expected)
    }

    @Test(arguments: ["", "has space", "a/b", "caf\u{E9}", "[abc]", String(repeating: "a", count: 129)])
    func refusesWhatCannotMatchASessionID(pattern: String) {
        let error = #expect(throws: ReplicationError.self) { try SessionPattern(validating: pattern) }
        #expect(error?.code == .invalidSessionPattern)
    }
}
