import Testing

@testable import OpLog

@Suite("JSON parser")
struct JSONParserTests {
    @Test(arguments: [
        #"{}"#, #"[]"#, #"  {"a" : [1, -2.5e3, true, false, null, "x"]}  "#, #""\u0000""#, "0", "-0", "1E+2",
        "\"\u{00E9}\u{1F3B5}\"", #"{"a":{"b":{"c":[[[]]]}}}"#, "\r\n\t[1]\r\n",
    ])
    func acceptsValidJSON(text: String) throws {
        _ = try JSONValue(parsing: text)
    }

    @Test(arguments: [
        ("", "empty"), ("{", "unterminated object"), (#"{"a":1,}"#, "trailing comma"), (#"{"a" 1}"#, "missing colon"),
        (#"{"a":1}x"#, "trailing data"), (#"{"a":1}{"b":2}"#, "two values glued"), ("[1 2]", "missing comma"),
        ("01", "leading zero"), ("1.", "bare point"), (".5", "leading point"), ("1e", "empty exponent"),
        ("+1", "plus sign"), ("nan", "lowercase nan"), ("-NaN", "negative NaN"), ("Inf", "short Infinity"),
        (#"{"a":1,"a":2}"#, "duplicate key"), (#"{"a":1,"\u0061":2}"#, "duplicate key via escape"),
        (#""\ud800""#, "lone high surrogate"), (#""\udc00""#, "lone low surrogate"), (#""\ud800\u0041""#, "unpaired high surrogate"),
        (#""\x""#, "bad escape"), (#""\u12g4""#, "bad hex"), ("\"a\u{01}b\"", "raw control character"),
        ("\"abc", "unterminated string"), ("tru", "truncated literal"), ("nul", "truncated null"),
        ("'a'", "single quotes"),
    ])
    func rejectsInvalidJSON(text: String, reason: String) {
        #expect(throws: OpLogError.self, "\(reason)") { try JSONValue(parsing: text) }
    }

    @Test(arguments: [
        [0x22, 0xC3, 0x22] as [UInt8],  // truncated 2-byte sequence
        [0x22, 0xC0, 0x80, 0x22],  // overlong NUL
        [0x22, 0xED, 0xA0, 0x80, 0x22],  // encoded surrogate
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
        [0x22, 0xFF, 0x22],
        [0x22, 0x80, 0x22],  // lone continuation byte
    ])
    func rejectsInvalidUTF8(bytes: [UInt8]) {
        #expect(throws: OpLogError.self) { try JSONValue(parsing: bytes) }
    }

    @Test func rejectsNestingDeeperThanTheLimit() throws {
        let ok = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        _ = try JSONValue(parsing: ok)
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: OpLogError.self) { try JSONValue(parsing: deep) }
    }

    /// Python's json module writes and reads NaN and Infinity (Muse's files may hold them): they
    /// parse, keep their text, and have no canonical form.
    @Test(arguments: ["NaN", "Infinity", "-Infinity", "1e400"])
    func pythonNonFiniteNumbersParseButDoNotCanonicalise(text: String) throws {
        let value = try JSONValue(parsing: "[\(text)]")
        #expect(PythonJSON.compact(value).text == "[\(text)]")
        #expect(throws: OpLogError.self) { try CanonicalJSON.encode(value) }
    }

    /// The eight-bytes-at-a-time string scan must flag exactly the words a byte loop would, and
    /// find the same first byte that needs attention.
    @Test func wordScanMatchesTheByteRule() {
        func firstFlagged(_ word: UInt64) -> Int? {
            (0..<8).first { shift in
                let byte = UInt8(truncatingIfNeeded: word >> (8 * UInt64(shift)))
                return byte == 0x22 || byte == 0x5C || byte < 0x20 || byte >= 0x80
            }
        }
        func naive(_ word: UInt64) -> Bool {
            let first = firstFlagged(word)
            let mask = JSONParser.attentionMask(word)
            #expect(mask == 0 ? first == nil : first == mask.trailingZeroBitCount / 8, "word \(word)")
            return first != nil
        }
        var generator = SplitMix64(seed: 3)
        let plain = UInt64(0x6161_6161_6161_6161)  // "aaaaaaaa"
        for position in 0..<8 {
            for byte in 0...255 {
                let word = plain & ~(0xFF << (8 * UInt64(position))) | UInt64(byte) << (8 * UInt64(position))
                #expect(JSONParser.wordNeedsAttention(word) == naive(word), "byte \(byte) at \(position)")
            }
        }
        for _ in 0..<20_000 {
            // Mostly printable bytes, so both answers occur often.
            var word: UInt64 = 0
            for shift in 0..<8 {
                let random = generator.next()
                let byte = random % 10 == 0 ? random >> 8 & 0xFF : 0x20 + (random >> 8) % 0x5F
                word |= (byte & 0xFF) << (8 * UInt64(shift))
            }
            #expect(JSONParser.wordNeedsAttention(word) == naive(word))
        }
    }

    @Test func decodesEscapesAndKeepsNumberText() throws {
        let value = try JSONValue(parsing: #"{"s":"a\"b\\c\/d\n\u00e9\ud83c\udfb5","n":4.50}"#)
        #expect(value["s"] == .string("a\"b\\c/d\né🎵"))
        guard case .number(let number)? = value["n"] else {
            Issue.record("n is not a number")
            return
        }
        #expect(number.text == "4.50")
        #expect(number.doubleValue == 4.5)
    }

    /// Small objects skip comparing keys whose length and end bytes differ from every earlier key;
    /// keys alike in those (`"ab"`, `"ba"`) are still told apart, and repeats still found.
    @Test func duplicateKeysAreFoundWhateverTheirShape() {
        var generator = SplitMix64(seed: 11)
        let names = ["ab", "ba", "a", "b", "aab", "aba", "baa", "op_id", "actor_id", "domain_op", "intent_id"]
        for _ in 0..<2_000 {
            let keys = (0..<Int(1 + generator.next() % 12)).map { _ in names[Int(generator.next() % UInt64(names.count))] }
            let text = "{" + keys.enumerated().map { "\"\($0.element)\":\($0.offset)" }.joined(separator: ",") + "}"
            let hasRepeat = Set(keys).count < keys.count
            #expect((try? JSONValue(parsing: text)) == nil ? hasRepeat : !hasRepeat, "\(text)")
        }
    }

    @Test func duplicateKeysAreRejectedInLargeObjects() {
        let members = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(throws: OpLogError.self) { try JSONValue(parsing: "{\(members),\"k7\":0}") }
    }

    /// Python's `json.dumps(..., separators=(",", ":"))` output must come back byte for byte.
    @Test(arguments: [
        #"{"op_id":"a","n":[1,2.5,-3e-05],"s":"caf\u00e9 \u266b \ud83c\udfb5 \"q\" \\ \n\t\u001f\u007f","o":{},"l":[],"b":[true,false,null]}"#
    ])
    func pythonCompactRoundTrip(line: String) throws {
        let value = try JSONValue(parsing: line)
        #expect(PythonJSON.compact(value).text == line)
    }

    @Test func pythonIndentedLayout() throws {
        let value = try JSONValue(parsing: #"{"a":1,"b":[],"c":{},"d":[1,{"e":"\u00e9"}]}"#)
        let expected = "{\n  \"a\": 1,\n  \"b\": [],\n  \"c\": {},\n  \"d\": [\n    1,\n    {\n      \"e\": \"\\u00e9\"\n    }\n  ]\n}"
        #expect(PythonJSON.indented(value).text == expected)
    }
}
