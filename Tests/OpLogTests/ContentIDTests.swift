import Testing

@testable import OpLog

@Suite("Content ids")
struct ContentIDTests {
    /// Vectors computed independently with Python: sha256 of
    /// `json.dumps(entry_without_op_id, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`,
    /// which equals JCS for these values.
    static let firstLine =
        #"{"op_id":"sha256:d4715bb2ab2db5326bc73e98eb9468072002ab13089204aa97d4cf93c4989c98","actor_id":"alice","lamport_ts":1,"parent_op_ids":[],"domain":"music","domain_op":{"op":"insert","note":60,"text":"caf\u00e9 \u266b"},"created_at":"2026-01-01T00:00:00+00:00","intent_id":"","reservation_id":""}"#
    static let secondLine =
        #"{"op_id":"sha256:d919cb446b933d45b277911d63d9518cef2b8bede72621cb3ea60338158a2c9b","extra":{"z":1.5,"a":[1e21]},"actor_id":"alice","lamport_ts":2,"parent_op_ids":["sha256:d4715bb2ab2db5326bc73e98eb9468072002ab13089204aa97d4cf93c4989c98"],"domain":"music","domain_op":{"op":"insert","note":60,"text":"café ♫"},"created_at":"2026-01-01T00:00:00+00:00","intent_id":"","reservation_id":""}"#

    @Test(arguments: [firstLine, secondLine])
    func fixedVectorsVerify(line: String) throws {
        let entry = try OpEntry(line: Array(line.utf8))
        #expect(try entry.computedContentID() == entry.opID)
        try entry.verifyContentID()
    }

    @Test func makeProducesTheFixedVectorAndMuseLayout() throws {
        let entry = try OpEntry.make(
            actorID: "alice",
            lamportTimestamp: 1,
            domain: "music",
            domainOp: try JSONValue(parsing: #"{"op":"insert","note":60,"text":"café ♫"}"#),
            createdAt: "2026-01-01T00:00:00+00:00"
        )
        #expect(entry.line.text == Self.firstLine)
        #expect(entry.opID.rawValue == "sha256:d4715bb2ab2db5326bc73e98eb9468072002ab13089204aa97d4cf93c4989c98")
    }

    /// A made entry equals what decoding its own line gives, unusual text included.
    @Test func madeEntryEqualsItsDecodedLine() throws {
        let made = try OpEntry.make(
            actorID: "\u{E9}mile \"q\" \u{1F3B5}",
            lamportTimestamp: 12,
            parentOpIDs: [try OpID(validating: "p-1"), try OpID(validating: "sha256:00")],
            domain: "code",
            domainOp: try JSONValue(parsing: #"{"op":"x","n":[1.50,-0,1E3],"s":"\u0000\t"}"#),
            createdAt: "2026-01-01T00:00:00.000001+00:00",
            intentID: "intent",
            reservationID: "res"
        )
        try expectSameFields(OpEntry(line: made.line), made)
        try made.verifyContentID()
    }

    /// `make` writes both forms directly; the general JSON-tree path must agree on random input.
    @Test func madeEntriesAgreeWithTheGeneralPathOnRandomInput() throws {
        var generator = SplitMix64(seed: 99)
        let alphabet: [String] = ["a", "Z", "0", " ", "\"", "\\", "\n", "\u{1}", "\u{7F}", "é", "e\u{301}", "♫", "🎵", "\u{FB33}"]
        func text() -> String {
            (0..<Int(generator.next() % 6)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }.joined()
        }
        for _ in 0..<300 {
            let domainOp = try JSONValue(
                parsing: "{\"op\":\"k\",\"n\":[\(generator.next() % 1000),-1.5e-7,12.50],\(PythonJSON.compact(.string(text() + "x")).text):\(PythonJSON.compact(.string(text())).text)}"
            )
            let made = try OpEntry.make(
                actorID: text(),
                lamportTimestamp: Int(generator.next() % 1_000_000_000_000_000),
                parentOpIDs: (0..<Int(generator.next() % 3)).map { try OpID(validating: "p\($0)" + text().filter { $0 != "\n" && $0 != "\u{1}" && $0 != "\u{7F}" }) },
                domain: text(),
                domainOp: domainOp,
                createdAt: text(),
                intentID: text(),
                reservationID: text()
            )
            #expect(try made.computedContentID() == made.opID)
            try expectSameFields(OpEntry(line: made.line), made)
        }
    }

    /// The canonical form written straight from a line equals the one made from its JSON tree
    /// (without `op_id`): escapes, raw UTF-8, nesting, number spellings, UTF-16 key order.
    @Test(arguments: [
        firstLine, secondLine,
        #"{"op_id":"x","b":[1,2.50,-0,1e21,1E-7,0.1,-3e+2,{"z":null,"a":true}],"a":{"\u00e9":"\/\u0000\t\"\\","é2":"raw é ♫ 🎵","e\u0301":false}}"#,
        #"{"\ue000":1,"😀":2,"\u0061":[[],{}],"op\u005fid":"y","s":"\ud83c\udfb5 \u001f \u007f"}"#,
        #" { "k" : [ 1 , "two" , { "n" : { "m" : [ ] } } ] , "op_id" : "z" } "#,
        #"{"op_id":"q","b":1,"a":2,"cd":3,"c":{"cc":4,"cb":5}}"#,
    ])
    func canonicalFormFromTheLineMatchesTheTree(line: String) throws {
        guard case .object(let object) = try JSONValue(parsing: line) else {
            Issue.record("not an object")
            return
        }
        let streamed = try Array(line.utf8).withUnsafeBufferPointer { try CanonicalJSON.encodeEntryContent($0) }
        #expect(streamed.text == (try CanonicalJSON.encode(.object(object.removing("op_id")))).text)
        let withNaN = #"{"op_id":"x","v":[NaN]}"#
        #expect(throws: OpLogError.self) {
            try Array(withNaN.utf8).withUnsafeBufferPointer { try CanonicalJSON.encodeEntryContent($0) }
        }
    }

    @Test func idIgnoresLayoutButNotContent() throws {
        let base = try OpEntry(line: Array(Self.firstLine.utf8))
        // Same content, different key order, spacing and number spelling: same id.
        let relaid =
            #"{ "domain_op": {"text":"café ♫", "note": 6.0e1, "op":"insert"}, "actor_id":"alice", "op_id":"x", "lamport_ts":1, "parent_op_ids":[], "domain":"music", "created_at":"2026-01-01T00:00:00+00:00", "intent_id":"", "reservation_id":"" }"#
        #expect(try OpEntry(line: Array(relaid.utf8)).computedContentID() == base.opID)
        // Any changed field changes the id.
        let changed = Self.firstLine.replacingOccurrences("\"note\":60", with: "\"note\":61")
        #expect(try OpEntry(line: Array(changed.utf8)).computedContentID() != base.opID)
    }

    @Test func tamperedSHA256IDIsRejectedAndOpaqueIDsPass() throws {
        let tampered = Self.firstLine.replacingOccurrences("\"lamport_ts\":1", with: "\"lamport_ts\":7")
        let entry = try OpEntry(line: Array(tampered.utf8))
        #expect(throws: OpLogError.self) { try entry.verifyContentID() }
        do {
            try entry.verifyContentID()
        } catch {
            #expect(error.code == .contentIDMismatch)
        }
        let uuid = try OpEntry(line: Array(museLine(id: "0b5a3f4e-3c1a-4c4e-9d55-0c3b8c0c2b11", lamport: 3).utf8))
        try uuid.verifyContentID()
        #expect(!uuid.opID.isContentAddressed)
    }
}

/// Entries compare by their lines; this checks that every field read from the line (lazily, for
/// a decoded entry) equals the field a made entry was given.
func expectSameFields(_ decoded: OpEntry, _ made: OpEntry, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(decoded == made, sourceLocation: sourceLocation)
    #expect(decoded.opID == made.opID, sourceLocation: sourceLocation)
    #expect(ExactText(decoded.actorID) == ExactText(made.actorID), sourceLocation: sourceLocation)
    #expect(decoded.lamportTimestamp == made.lamportTimestamp, sourceLocation: sourceLocation)
    #expect(decoded.parentOpIDs == made.parentOpIDs, sourceLocation: sourceLocation)
    #expect(ExactText(decoded.domain) == ExactText(made.domain), sourceLocation: sourceLocation)
    #expect(decoded.domainOp == made.domainOp, sourceLocation: sourceLocation)
    #expect(ExactText(decoded.createdAt) == ExactText(made.createdAt), sourceLocation: sourceLocation)
    #expect(ExactText(decoded.intentID) == ExactText(made.intentID), sourceLocation: sourceLocation)
    #expect(ExactText(decoded.reservationID) == ExactText(made.reservationID), sourceLocation: sourceLocation)
}

extension String {
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        self.split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
