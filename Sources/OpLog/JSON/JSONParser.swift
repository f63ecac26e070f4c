/// A syntax error found by ``JSONParser``: what was wrong and at which byte.
struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    var reason: String
    var offset: Int

    var description: String { "\(self.reason) at byte \(self.offset)" }
}

/// A strict, allocation-light JSON parser over a byte buffer.
///
/// It accepts RFC 8259 JSON under the I-JSON restrictions that RFC 8785 (JCS) relies on (valid
/// UTF-8, no lone surrogates, no duplicate keys) and nesting at most ``maximumDepth`` deep (so
/// hostile input cannot exhaust the stack). Like Python's `json` module, which writes Muse's
/// files, it also reads `NaN`, `Infinity` and `-Infinity`, and numbers beyond `Double`'s range;
/// such numbers have no canonical form (see ``CanonicalJSON``). It is hand-written because
/// canonicalisation needs the exact number tokens and duplicate-key checks that Foundation's
/// parser does not expose, and because scanning a large log must validate values it does not
/// need without building them (``skipValue()``).
struct JSONParser {
    static let maximumDepth = 128

    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int = 0
    private var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { self.position >= self.bytes.count }

    // MARK: - Documents

    /// Parses a whole document: one value, optional surrounding whitespace, nothing else.
    mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        self.skipWhitespace()
        let value = try self.parseValue()
        try self.expectEnd()
        return value
    }

    /// Fails unless only whitespace remains.
    mutating func expectEnd() throws(JSONSyntaxError) {
        self.skipWhitespace()
        guard self.isAtEnd else { throw self.error("unexpected data after the JSON value") }
    }

    // MARK: - Values

    mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard let byte = self.peek() else { throw self.error("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"):
            var members: [JSONObject.Member] = []
            try self.parseObject { (parser: inout JSONParser, key: JSONKey) throws(JSONSyntaxError) in
                members.append(JSONObject.Member(key: parser.string(of: key), value: try parser.parseValue()))
            }
            return .object(JSONObject(members))
        case UInt8(ascii: "["):
            var elements: [JSONValue] = []
            try self.parseArray { (parser: inout JSONParser) throws(JSONSyntaxError) in
                elements.append(try parser.parseValue())
            }
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(try self.parseString())
        case UInt8(ascii: "t"):
            try self.expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.expectLiteral("null")
            return .null
        default:
            let range = try self.scanNumber()
            return .number(JSONNumber(validatedText: String(decoding: self.bytes[range], as: UTF8.self)))
        }
    }

    /// Validates one value and moves past it without building it.
    mutating func skipValue() throws(JSONSyntaxError) {
        guard let byte = self.peek() else { throw self.error("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"):
            try self.parseObject { (parser: inout JSONParser, _: JSONKey) throws(JSONSyntaxError) in
                try parser.skipValue()
            }
        case UInt8(ascii: "["):
            try self.parseArray { (parser: inout JSONParser) throws(JSONSyntaxError) in try parser.skipValue() }
        case UInt8(ascii: "\""):
            try self.skipString()
        case UInt8(ascii: "t"):
            try self.expectLiteral("true")
        case UInt8(ascii: "f"):
            try self.expectLiteral("false")
        case UInt8(ascii: "n"):
            try self.expectLiteral("null")
        default:
            _ = try self.scanNumber()
        }
    }

    /// Parses an object, calling `member` with each key (as found in the buffer: decode it with
    /// ``string(of:)`` or compare it with ``key(_:equals:)``); `member` must consume the value.
    /// Rejects duplicate keys, without allocating for objects of up to sixteen unescaped keys.
    mutating func parseObject(
        _ member: (inout JSONParser, JSONKey) throws(JSONSyntaxError) -> Void
    ) throws(JSONSyntaxError) {
        try self.enterContainer()
        self.position += 1  // "{"
        self.skipWhitespace()
        var keys = DuplicateKeyDetector()
        if self.peek() == UInt8(ascii: "}") {
            self.position += 1
            self.depth -= 1
            return
        }
        while true {
            guard self.peek() == UInt8(ascii: "\"") else { throw self.error("expected a string key") }
            let keyOffset = self.position
            let key = try self.scanKey()
            guard keys.insert(key, in: self) else {
                throw JSONSyntaxError(reason: "duplicate key \"\(self.string(of: key))\"", offset: keyOffset)
            }
            self.skipWhitespace()
            guard self.peek() == UInt8(ascii: ":") else { throw self.error("expected ':'") }
            self.position += 1
            self.skipWhitespace()
            try member(&self, key)
            self.skipWhitespace()
            switch self.peek() {
            case UInt8(ascii: ","):
                self.position += 1
                self.skipWhitespace()
            case UInt8(ascii: "}"):
                self.position += 1
                self.depth -= 1
                return
            default:
                throw self.error("expected ',' or '}'")
            }
        }
    }

    /// Parses an array, calling `element` for each element; `element` must consume it.
    mutating func parseArray(_ element: (inout JSONParser) throws(JSONSyntaxError) -> Void) throws(JSONSyntaxError) {
        try self.enterContainer()
        self.position += 1  // "["
        self.skipWhitespace()
        if self.peek() == UInt8(ascii: "]") {
            self.position += 1
            self.depth -= 1
            return
        }
        while true {
            try element(&self)
            self.skipWhitespace()
            switch self.peek() {
            case UInt8(ascii: ","):
                self.position += 1
                self.skipWhitespace()
            case UInt8(ascii: "]"):
                self.position += 1
                self.depth -= 1
                return
            default:
                throw self.error("expected ',' or ']'")
            }
        }
    }

    // MARK: - Scalars

    /// Scans a number token against the JSON grammar and returns its byte range.
    mutating func scanNumber() throws(JSONSyntaxError) -> Range<Int> {
        let start = self.position
        if self.peek() == UInt8(ascii: "-") { self.position += 1 }
        switch self.peek() {
        case UInt8(ascii: "0"):
            self.position += 1
        case let byte? where byte >= UInt8(ascii: "1") && byte <= UInt8(ascii: "9"):
            self.skipDigits()
        case UInt8(ascii: "I"):
            // Python's json module writes and reads Infinity, -Infinity and NaN; Muse's files
            // can hold them, so they are read (as numbers that canonical JSON cannot encode).
            try self.expectLiteral("Infinity")
            return start..<self.position
        case UInt8(ascii: "N") where self.position == start:
            try self.expectLiteral("NaN")
            return start..<self.position
        default:
            throw JSONSyntaxError(reason: "unexpected character", offset: start)
        }
        if self.peek() == UInt8(ascii: ".") {
            self.position += 1
            guard self.skipDigits() > 0 else { throw self.error("expected a digit after '.'") }
        }
        if let byte = self.peek(), byte | 0x20 == UInt8(ascii: "e") {
            self.position += 1
            if self.peek() == UInt8(ascii: "+") || self.peek() == UInt8(ascii: "-") { self.position += 1 }
            guard self.skipDigits() > 0 else { throw self.error("expected a digit in the exponent") }
        }
        return start..<self.position
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = self.position
        while let byte = self.peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            self.position += 1
        }
        return self.position - start
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard self.position + count <= self.bytes.count else { throw self.error("unexpected end of input") }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { self.bytes[self.position + $0] == expected[$0] }
        }
        guard matches else { throw self.error("unexpected character") }
        self.position += count
    }

    // MARK: - Helpers

    @inline(__always)
    func peek() -> UInt8? {
        self.position < self.bytes.count ? self.bytes[self.position] : nil
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while self.position < self.bytes.count {
            switch self.bytes[self.position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                self.position += 1
            default:
                return
            }
        }
    }

    private mutating func enterContainer() throws(JSONSyntaxError) {
        self.depth += 1
        guard self.depth <= Self.maximumDepth else {
            throw self.error("nesting deeper than \(Self.maximumDepth) levels")
        }
    }

    func error(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(reason: self.isAtEnd ? "unexpected end of input" : reason, offset: self.position)
    }
}

/// An object key as found in the buffer: the bytes between its quotes.
struct JSONKey {
    var range: Range<Int>
    /// Whether the bytes hold escapes (then they must be decoded to compare).
    var hasEscape: Bool
}

/// Remembers the keys of one object and reports a repeat. Up to sixteen unescaped keys are kept
/// as byte ranges in inline storage (no allocation); past that, or once a key has an escape,
/// decoded keys go into a set.
private struct DuplicateKeyDetector {
    private static let inlineCapacity = 16
    private var inlineCount = 0
    // Sixteen ranges: room for an entry's nine fields plus a few more without allocating.
    private var inline:
        (
            Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>,
            Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>
        ) = (
            0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0,
            0..<0
        )
    private var decoded: Set<ExactText>?
    /// One bit per inline key, chosen by its length and its first and last bytes: a key whose
    /// bit is clear equals none recorded, so the keys of an entry are rarely compared at all.
    private var signatures: UInt64 = 0

    /// Records `key`; returns `false` if an equal key was already recorded.
    mutating func insert(_ key: JSONKey, in parser: JSONParser) -> Bool {
        if self.decoded == nil && !key.hasEscape && self.inlineCount < Self.inlineCapacity {
            let signature = Self.signature(of: key.range, in: parser)
            if self.signatures & signature != 0 {
                for index in 0..<self.inlineCount where parser.bytesEqual(self.inlineRange(index), key.range) {
                    return false
                }
            }
            self.signatures |= signature
            withUnsafeMutableBytes(of: &self.inline) { raw in
                raw.storeBytes(
                    of: key.range,
                    toByteOffset: self.inlineCount * MemoryLayout<Range<Int>>.stride,
                    as: Range<Int>.self
                )
            }
            self.inlineCount += 1
            return true
        }
        var decoded =
            self.decoded
            ?? Set(
                (0..<self.inlineCount).map {
                    ExactText(parser.string(of: JSONKey(range: self.inlineRange($0), hasEscape: false)))
                }
            )
        let isNew = decoded.insert(ExactText(parser.string(of: key))).inserted
        self.decoded = decoded
        return isNew
    }

    private static func signature(of range: Range<Int>, in parser: JSONParser) -> UInt64 {
        guard let first = range.first, let last = range.last else { return 1 }
        let mixed = range.count &* 3 &+ Int(parser.bytes[first]) &+ Int(parser.bytes[last])
        return 1 << UInt64(mixed & 63)
    }

    private func inlineRange(_ index: Int) -> Range<Int> {
        withUnsafeBytes(of: self.inline) { raw in
            raw.load(fromByteOffset: index * MemoryLayout<Range<Int>>.stride, as: Range<Int>.self)
        }
    }
}
