import Testing

@testable import OpLog

/// `OpID.Key` stands in for an id in the engine's big tables, so it must never merge two ids.
@Suite("Op id keys")
struct OpIDKeyTests {
    @Test func equalIDsHaveEqualKeysAndUnequalIDsUnequalOnes() throws {
        var keys: [OpID.Key: String] = [:]
        for index in 0..<100_000 {
            let text = index % 2 == 0 ? "u\(index)" : "sha256:\(String(repeating: "0", count: 58))\(100_000 + index)"
            let id = try OpID(validating: text)
            #expect(id.key == (try OpID(validating: text)).key)
            if let earlier = keys.updateValue(text, forKey: id.key) {
                Issue.record("\(earlier) and \(text) share a key")
            }
        }
        #expect(keys.count == 100_000)
    }

    @Test func idsEqualOnlyUnderUnicodeEquivalenceHaveDifferentKeys() throws {
        let composed = try OpID(validating: "caf\u{E9}")
        let decomposed = try OpID(validating: "cafe\u{301}")
        #expect(composed != decomposed)
        #expect(composed.key != decomposed.key)
    }
}
