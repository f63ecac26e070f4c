/// A JSON value as read from an op log line, with enough fidelity to write it back.
///
/// Object members keep their source order and numbers keep their source text, so a value
/// parsed from a line and written out again in Python's compact form reproduces what Muse
/// wrote. Duplicate object keys, lone surrogates and invalid UTF-8 are rejected when parsing
/// (the I-JSON profile that RFC 8785 requires); Python's `NaN` and `Infinity` are read, as
/// Muse's reader reads them, but cannot be canonicalised.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Parses one JSON text (surrounding whitespace allowed, nothing else).
    ///
    /// - Throws: `OpLogError` with code `.invalidJSON`, naming the byte offset of the problem.
    public init(parsing bytes: some Collection<UInt8>) throws(OpLogError) {
        self = try withContiguousBytes(of: bytes) { buffer throws(OpLogError) in
            var parser = JSONParser(buffer)
            do throws(JSONSyntaxError) {
                return try parser.parseDocument()
            } catch {
                throw OpLogError(code: .invalidJSON, message: error.description)
            }
        }
    }

    /// Parses one JSON text given as a string.
    ///
    /// - Throws: `OpLogError` with code `.invalidJSON`.
    public init(parsing text: String) throws(OpLogError) {
        try self.init(parsing: Array(text.utf8))
    }

    /// The member named `key` when this is an object, else `nil`.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }
}

/// A JSON number, kept as the exact text it was written with.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number as written in its source, for example `4.50` or `1E30`.
    public let text: String

    /// Wraps a number token already checked against the JSON grammar.
    init(validatedText text: String) {
        self.text = text
    }

    /// A number from an integer, written as Python writes integers.
    public init(_ value: Int) {
        self.text = String(value)
    }

    /// The IEEE 754 double the text denotes (correctly rounded; infinite beyond its range).
    public var doubleValue: Double {
        // The text passed the grammar (JSON plus Python's NaN and Infinity), which Double parses.
        Double(self.text) ?? .nan
    }

    /// Whether the number is finite, so that RFC 8785 can encode it.
    public var isFinite: Bool { self.doubleValue.isFinite }

    /// The value as an `Int` when the text is an integer literal (no fraction or exponent)
    /// that fits, else `nil`.
    public var integerValue: Int? {
        guard !self.text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") })
        else { return nil }
        return Int(self.text)
    }

    public var description: String { self.text }
}

/// A JSON object: members in source order, keys unique.
public struct JSONObject: Sendable, Hashable {
    /// One `"key": value` pair.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members, in the order they were written.
    public private(set) var members: [Member]

    /// An object with the given members.
    ///
    /// - Precondition: keys are unique.
    public init(_ members: [Member] = []) {
        self.members = members
    }

    /// An object from key–value pairs, in order.
    ///
    /// - Precondition: keys are unique.
    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        self.members = pairs.map { Member(key: $0.key, value: $0.value) }
    }

    /// The value for `key`, or `nil`. O(n) in the number of members.
    public subscript(key: String) -> JSONValue? {
        let wanted = ExactText(key)
        return self.members.first { ExactText($0.key) == wanted }?.value
    }

    /// A copy without the member named `key`.
    public func removing(_ key: String) -> JSONObject {
        let unwanted = ExactText(key)
        return JSONObject(self.members.filter { ExactText($0.key) != unwanted })
    }
}
