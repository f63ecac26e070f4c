import Testing

@testable import OpLog

@Suite("Structured deltas and canonical order")
struct StructuredDeltaTests {
    private func entry(_ id: String, actor: String = "a", lamport: Int, domain: String = "music", op: String) throws -> OpEntry {
        try OpEntry(line: Array(museLine(id: id, actor: actor, lamport: lamport, domain: domain, op: op).utf8))
    }

    @Test func summaryMatchesMuseFormat() throws {
        let entries = [
            try self.entry("1", lamport: 1, op: #"{"op":"insert"}"#),
            try self.entry("2", lamport: 2, op: #"{"op":"delete"}"#),
            try self.entry("3", lamport: 3, op: #"{"op":"insert"}"#),
            try self.entry("4", lamport: 4, op: #"{"pitch":1}"#),
            try self.entry("5", lamport: 5, domain: "code", op: #"{"op":"rename"}"#),
            try self.entry("6", lamport: 6, op: #"{"op":"Zed"}"#),
        ]
        let delta = StructuredDelta(domain: "music", entries: entries)
        #expect(delta.summary == "1 Zed, 1 delete, 2 insert, 1 unknown")
        #expect(delta.ops.count == 5)
        #expect(StructuredDelta(domain: "none", entries: entries).summary == "no ops")
        #expect(PythonJSON.compact(StructuredDelta(domain: "code", entries: entries).jsonValue).text == #"{"domain":"code","ops":[{"op":"rename"}],"summary":"1 rename"}"#)
    }

    @Test func nonObjectOpsAndNonStringKindsDoNotCrash() throws {
        let entries = [try self.entry("1", lamport: 1, op: "[1,2]"), try self.entry("2", lamport: 2, op: #"{"op":5}"#), try self.entry("3", lamport: 3, op: "null")]
        #expect(StructuredDelta(domain: "music", entries: entries).summary == "1 5, 2 unknown")
    }

    /// Any file order of the same entries gives the same delta.
    @Test func deltaIsIndependentOfFileOrder() throws {
        var generator = SplitMix64(seed: 42)
        let entries = try (0..<60).map { index in
            try self.entry("id\(index)", actor: ["bob", "alice", "émile", "Zoe"][index % 4], lamport: index % 7, op: #"{"op":"k\#(index % 3)","i":\#(index)}"#)
        }
        let reference = StructuredDelta(domain: "music", entries: entries)
        for _ in 0..<20 {
            #expect(StructuredDelta(domain: "music", entries: entries.shuffled(using: &generator)) == reference)
        }
    }

    @Test func canonicalOrderIsLamportThenActorBytesThenOpID() throws {
        let entries = [
            try self.entry("b", actor: "bob", lamport: 2, op: "1"),
            try self.entry("z", actor: "émile", lamport: 1, op: "1"),
            try self.entry("a", actor: "bob", lamport: 2, op: "1"),
            try self.entry("c", actor: "Zoe", lamport: 1, op: "1"),
            try self.entry("d", actor: "alice", lamport: 1, op: "1"),
        ]
        // "Zoe" < "alice" < "émile" by bytes (uppercase first, non-ASCII last), not by locale.
        #expect(entries.canonicallySorted().map(\.opID.rawValue) == ["c", "d", "z", "a", "b"])
    }
}
