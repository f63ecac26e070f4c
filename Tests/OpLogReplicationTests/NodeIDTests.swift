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

    @Test(arguments: [
        "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD",  // Syncthing's, 63 bytes
        "3f2504e0-4f89-41d3-9a0c-0305e82c3301",  // the agent's UUID ids
        "n",
        "node-a.b_c~!",
        String(repeating: "x", count: NodeID.maximumLength),
    ])
    func validatingAcceptsPrintableASCIIUpToTheLimit(text: String) throws {
        let id = try NodeID(validating: text)
        #expect(id == NodeID(text))
        #expect(id.rawValue == text)
    }

    @Test(arguments: [
        ("", "node id is empty"),
        (String(repeating: "x", count: 65), "node id is 65 bytes long, longer than 64"),
        (String(repeating: "x", count: 200), "node id is 200 bytes long, longer than 64"),
        ("node a", "node id has byte 0x20 at offset 4; only printable ASCII without spaces is allowed"),
        ("node\n", "node id has byte 0xA at offset 4; only printable ASCII without spaces is allowed"),
        ("nöde", "node id has byte 0xC3 at offset 1; only printable ASCII without spaces is allowed"),
        ("\u{7F}", "node id has byte 0x7F at offset 0; only printable ASCII without spaces is allowed"),
    ])
    func validatingRejectsWhatNoPeerWouldAccept(text: String, message: String) {
        #expect {
            try NodeID(validating: text)
        } throws: { error in
            guard let error = error as? ReplicationError else { return false }
            return error.code == .invalidNodeID && error.message == message
        }
    }
}
