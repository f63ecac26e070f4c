import Testing

@testable import OpLogReplication

@Suite("Node ids")
struct NodeIDTests {
    /// Swift's `String ==` would merge these two spellings of "é"; two nodes named so are two.
    @Test func canonicallyEquivalentSpellingsAreDifferentNodes() {
        let composed = NodeID("node-\u{E9}")
        let decomposed = NodeID("node-e\u{301}")
        #expect(composed != decomposed)
        #expect(Set([composed, decomposed, NodeID("node-\u{E9}")]).count == 2)
        #expect(composed == NodeID(String(decoding: Array("node-\u{E9}".utf8), as: UTF8.self)))
        // Ordered by UTF-8 bytes: "e" (0x65) before "é" (0xC3 0xA9).
        #expect(decomposed < composed)
        #expect([NodeID("b"), NodeID("a"), NodeID("ab")].sorted().map(\.rawValue) == ["a", "ab", "b"])
    }
}
