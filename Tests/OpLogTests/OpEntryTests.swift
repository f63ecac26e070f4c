import Testing

@testable import OpLog

@Suite("Entries")
struct OpEntryTests {
    @Test func decodesAMuseLineAndKeepsItsBytes() throws {
        let line =
            #"{"op_id":"u-1","actor_id":"bot","lamport_ts":42,"parent_op_ids":["u-0"],"domain":"music","domain_op":{"op":"insert","pitch":60.50,"name":"\u00e9"},"created_at":"2026-01-01T00:00:00.5+00:00","intent_id":"i","reservation_id":"r","future_field":{"kept":[1,2]}}"#
        let entry = try OpEntry(line: Array(line.utf8))
        #expect(entry.line.text == line)
        #expect(entry.opID.rawValue == "u-1")
        #expect(entry.actorID == "bot")
        #expect(entry.lamportTimestamp == 42)
        #expect(entry.parentOpIDs.map(\.rawValue) == ["u-0"])
        #expect(entry.domain == "music")
        #expect(entry.domainOp["name"] == .string("é"))
        #expect(PythonJSON.compact(entry.domainOp).text == #"{"op":"insert","pitch":60.50,"name":"\u00e9"}"#)
        #expect(entry.intentID == "i")
        #expect(entry.reservationID == "r")
    }

    /// Field names spelled with escapes are the same names, in the full decode and in the scan.
    @Test func escapedFieldNamesAreRecognised() throws {
        let line = #"{"op\u005fid":"a","actor_id":"x","lamport\u005Fts":3,"parent_op_ids":[],"domain":"d","domain_op":{"k":1,"\u006b2":2}}"#
        let entry = try OpEntry(line: Array(line.utf8))
        #expect(entry.opID.rawValue == "a" && entry.lamportTimestamp == 3)
        let duplicate = #"{"op_id":"a","op\u005fid":"b","actor_id":"x","lamport_ts":3,"parent_op_ids":[],"domain":"d","domain_op":{}}"#
        #expect(throws: OpLogError.self) { try OpEntry(line: Array(duplicate.utf8)) }
        let directory = try TemporaryDirectory()
        try directory.appendRaw(line + "\n" + duplicate + "\n", session: "s")
        var ids: [String] = []
        let summary = try directory.log("s").scan { ids.append($0.opID.rawValue) }
        #expect(ids == ["a"])
        #expect(summary.rejectedLines.map(\.position.lineNumber) == [2])
    }

    /// A Muse entry holding NaN (Python writes it) is an entry: read, counted by the clock, and
    /// verifiable when its id is opaque; a `sha256:` id on such an entry cannot be verified.
    @Test func entriesWithNaNAreReadButCannotCarryContentIDs() throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "u1", lamport: 1, op: #"{"op":"velocity","v":NaN}"#) + "\n", session: "s")
        try directory.appendRaw(museLine(id: "u2", lamport: 2, op: #"{"op":"x","g":-Infinity}"#) + "\n", session: "s")
        var log = try directory.opLog("s")
        #expect(try log.readAll().map(\.opID.rawValue) == ["u1", "u2"])
        #expect(try log.append(actorID: "me", domain: "music", domainOp: .null).lamportTimestamp == 3)
        #expect(try LogVerifier().verify(directory.log("s")).filter(\.isProblem).isEmpty)
        #expect(try log.structuredDelta(domain: "music").summary == "1 unknown, 1 velocity, 1 x")
        let claimed = museLine(id: "sha256:" + String(repeating: "0", count: 64), lamport: 4, op: #"{"v":NaN}"#)
        let entry = try OpEntry(line: Array(claimed.utf8))
        #expect { try entry.verifyContentID() } throws: { ($0 as? OpLogError)?.code == .contentIDMismatch }
        #expect(throws: OpLogError.self) {
            try OpEntry.make(actorID: "a", lamportTimestamp: 1, domain: "d", domainOp: try JSONValue(parsing: "NaN"), createdAt: "t")
        }
    }

    /// Ids and actors that differ only in Unicode normalisation are different (as in Python).
    @Test func canonicallyEquivalentSpellingsStayDistinct() throws {
        let composed = "op-\u{E9}"
        let decomposed = "op-e\u{301}"
        #expect(composed == decomposed, "Swift's String equality merges them")
        #expect(try OpID(validating: composed) != OpID(validating: decomposed))
        #expect(Set([try OpID(validating: composed), try OpID(validating: decomposed)]).count == 2)
        let frontier = Frontier(["\u{E9}": 3])
        #expect(frontier.covers(actorID: "\u{E9}", lamportTimestamp: 3))
        #expect(!frontier.covers(actorID: "e\u{301}", lamportTimestamp: 1))
        let first = CanonicalKey(lamportTimestamp: 1, actorID: "e\u{301}", opID: try OpID(validating: "b"))
        let second = CanonicalKey(lamportTimestamp: 1, actorID: "\u{E9}", opID: try OpID(validating: "a"))
        #expect(first < second && !(second < first), "byte order: 0x65 ('e') before 0xC3")
        let keys = try JSONValue(parsing: "{\"\u{E9}\":1,\"e\u{301}\":2}")
        #expect(keys["\u{E9}"] == .number(JSONNumber(1)))
    }

    /// Ids hash a digest made once; equal text, however the id was made, is the same key.
    @Test func opIDsMadeEitherWayAreTheSameKey() throws {
        let text = "sha256:" + String(repeating: "ab", count: 32)
        let validated = try OpID(validating: text)
        let trusted = OpID(trusted: String(decoding: Array(text.utf8), as: UTF8.self))
        #expect(validated == trusted && validated.hashValue == trusted.hashValue)
        let other = try OpID(validating: String(text.dropLast()) + "c")
        #expect(validated != other)
        let lookup: [OpID: Int] = [validated: 1, other: 2]
        #expect(lookup[trusted] == 1)
    }

    @Test func optionalStringFieldsDefaultToEmpty() throws {
        let entry = try OpEntry(line: Array(#"{"op_id":"a","actor_id":"x","lamport_ts":0,"parent_op_ids":[],"domain":"d","domain_op":null}"#.utf8))
        #expect(entry.createdAt == "" && entry.intentID == "" && entry.reservationID == "")
        #expect(entry.domainOp == .null)
    }

    /// The fields decoded on demand read escapes, nesting and unusual spacing as a full parse does,
    /// and copies of an entry read the same values.
    @Test func fieldsDecodedOnDemandMatchTheFullParse() throws {
        let line =
            #"{ "op_id" : "a", "domain_op" : [ {"k\u00e9": "\ud83c\udfb5"}, [], -0.5e+3, true ], "domain": "m\u00fcsic\/x", "created_at":"2026\t01", "intent_id":"\"i\"", "reservation_id":"r\\", "actor_id":"x","lamport_ts":1,"parent_op_ids":[] }"#
        let entry = try OpEntry(line: Array(line.utf8))
        let copy = entry
        for decoded in [entry, copy] {
            #expect(decoded.domain == "m\u{FC}sic/x")
            #expect(decoded.createdAt == "2026\t01")
            #expect(decoded.intentID == "\"i\"")
            #expect(decoded.reservationID == "r\\")
            let full = try JSONValue(parsing: Array(line.utf8))
            #expect(decoded.domainOp == full["domain_op"])
            #expect(PythonJSON.compact(decoded.domainOp).text == #"[{"k\u00e9":"\ud83c\udfb5"},[],-0.5e+3,true]"#)
        }
    }

    static let invalidEntries: [(String, String)] = [
        (#"[1,2]"#, "not an object"),
        (#"{"actor_id":"x","lamport_ts":1,"parent_op_ids":[],"domain":"d","domain_op":{}}"#, "no op_id"),
        (#"{"op_id":"a","lamport_ts":1,"parent_op_ids":[],"domain":"d","domain_op":{}}"#, "no actor_id"),
        (#"{"op_id":"a","actor_id":"x","parent_op_ids":[],"domain":"d","domain_op":{}}"#, "no lamport_ts"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":1,"domain":"d","domain_op":{}}"#, "no parent_op_ids"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":1,"parent_op_ids":[],"domain_op":{}}"#, "no domain"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":1,"parent_op_ids":[],"domain":"d"}"#, "no domain_op"),
        (#"{"op_id":1,"actor_id":"x","lamport_ts":1,"parent_op_ids":[],"domain":"d","domain_op":{}}"#, "numeric op_id"),
        (#"{"op_id":"","actor_id":"x","lamport_ts":1,"parent_op_ids":[],"domain":"d","domain_op":{}}"#, "empty op_id"),
        (#"{"op_id":"a\n","actor_id":"x","lamport_ts":1,"parent_op_ids":[],"domain":"d","domain_op":{}}"#, "control char in op_id"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":-1,"parent_op_ids":[],"domain":"d","domain_op":{}}"#, "negative lamport"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":1.5,"parent_op_ids":[],"domain":"d","domain_op":{}}"#, "fractional lamport"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":"1","parent_op_ids":[],"domain":"d","domain_op":{}}"#, "string lamport"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":99999999999999999999,"parent_op_ids":[],"domain":"d","domain_op":{}}"#, "huge lamport"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":1,"parent_op_ids":"b","domain":"d","domain_op":{}}"#, "parents not array"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":1,"parent_op_ids":[1],"domain":"d","domain_op":{}}"#, "numeric parent"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":1,"parent_op_ids":[],"domain":7,"domain_op":{}}"#, "numeric domain"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":1,"parent_op_ids":[],"domain":"d","domain_op":{},"intent_id":3}"#, "numeric intent"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":1,"parent_op_ids":[],"domain":"d","domain_op":{},"op_id":"b"}"#, "duplicate key"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":1,"parent_op_ids":[],"domain":"d","domain_op":{"a":1,"a":2}}"#, "nested duplicate"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":1,"parent_op_ids":[],"domain":"d","domain_op":{}"#, "truncated"),
        (#"{"op_id":"a","actor_id":"x","lamport_ts":1,"parent_op_ids":[],"domain":"d","domain_op":{}}{"op_id":"b"}"#, "glued lines"),
    ]

    @Test func anEntrySpanningLinesIsRejected() {
        let line = "{\"op_id\":\"a\",\n\"actor_id\":\"x\",\"lamport_ts\":1,\"parent_op_ids\":[],\"domain\":\"d\",\"domain_op\":{}}"
        #expect { try OpEntry(line: Array(line.utf8)) } throws: { ($0 as? OpLogError)?.code == .invalidEntry }
    }

    @Test(arguments: invalidEntries)
    func rejectsLinesThatAreNotEntries(line: String, reason: String) {
        #expect(throws: OpLogError.self, "\(reason)") { try OpEntry(line: Array(line.utf8)) }
    }

    /// The full decoder and the index scan must accept exactly the same lines.
    @Test func fullDecodeAndIndexScanAgree() throws {
        let directory = try TemporaryDirectory()
        let valid = [museLine(id: "a", lamport: 1), museLine(id: "b", lamport: 2, parents: ["a"], op: #"{"deep":[{"x":[1,{"y":"\u00e9"}]}]}"#)]
        var lines = valid + Self.invalidEntries.map(\.0)
        lines.insert("   ", at: 1)
        try directory.appendRaw(lines.joined(separator: "\n") + "\n", session: "s")
        let log = try directory.log("s")
        var scanned: [String] = []
        let scanSummary = try log.scan { scanned.append($0.opID.rawValue) }
        let (entries, fullSummary) = try log.readAll()
        #expect(scanned == ["a", "b"])
        #expect(entries.map(\.opID.rawValue) == ["a", "b"])
        #expect(scanSummary.rejectedLineCount == Self.invalidEntries.count)
        #expect(fullSummary.rejectedLines.map(\.position.lineNumber) == scanSummary.rejectedLines.map(\.position.lineNumber))
        #expect(scanSummary.blankLineCount == 1)
        #expect(scanSummary.rejectedLines.first?.position.lineNumber == 4)
    }

    /// DESIGN §7: `lamport_ts` is an integer in [0, 2^53 − 1]; a line outside it is not an
    /// entry (it is then neither shipped nor written), and `make` refuses to build one.
    @Test func lamportTimestampsOutsideTheJSONSafeRangeAreNotEntries() throws {
        let top = try OpEntry(line: Array(museLine(id: "top", lamport: LamportClock.maximumTimestamp).utf8))
        #expect(top.lamportTimestamp == 9_007_199_254_740_991)
        for text in ["9007199254740992", "9223372036854775807", "99999999999999999999", "-1", "1.5", "1e3"] {
            let line = museLine(id: "x", lamport: 424_242).replacing("424242", with: text)
            let error = #expect(throws: OpLogError.self) { try OpEntry(line: Array(line.utf8)) }
            #expect(error?.code == .invalidEntry || error?.code == .invalidJSON, "\(text)")
        }
        #expect(throws: OpLogError.self) {
            try OpEntry.make(
                actorID: "me",
                lamportTimestamp: LamportClock.maximumTimestamp + 1,
                domain: "music",
                domainOp: .null,
                createdAt: "2026-01-01T00:00:00+00:00"
            )
        }
    }
}
