extension CanonicalJSON {
    /// The canonical form of the JSON object in `bytes` without its top-level `op_id` member,
    /// written straight from the parser: the same bytes as ``encode(_:)`` of the parsed object
    /// with `op_id` removed, without building the tree.
    ///
    /// Strings without escapes are copied as they are (a JSON string token without a backslash
    /// holds no quote, backslash or control character, so it is already canonical); only object
    /// members are buffered, to be sorted.
    /// - Throws: `OpLogError` `.invalidJSON` when `bytes` is not a JSON object, `.invalidEntry`
    ///   when it holds `NaN` or an infinite number.
    /// - Complexity: O(n log n) in the length of `bytes` (member sorting).
    static func encodeEntryContent(_ bytes: UnsafeBufferPointer<UInt8>) throws(OpLogError) -> [UInt8] {
        var parser = JSONParser(bytes)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var isEncodable = true
        do throws(JSONSyntaxError) {
            parser.skipWhitespace()
            guard parser.peek() == UInt8(ascii: "{") else {
                throw JSONSyntaxError(reason: "an entry must be a JSON object", offset: parser.position)
            }
            try Self.appendObject(&parser, to: &output, isEncodable: &isEncodable, omittingOpID: true)
            try parser.expectEnd()
        } catch {
            throw OpLogError(code: .invalidJSON, message: error.description)
        }
        guard isEncodable else {
            throw OpLogError(code: .invalidEntry, message: "NaN and Infinity have no canonical JSON form (RFC 8785)")
        }
        return output
    }

    /// Appends the canonical form of the value at the parser's position and moves past it.
    private static func appendValue(
        _ parser: inout JSONParser,
        to output: inout [UInt8],
        isEncodable: inout Bool
    ) throws(JSONSyntaxError) {
        guard let byte = parser.peek() else { throw parser.error("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"):
            try Self.appendObject(&parser, to: &output, isEncodable: &isEncodable, omittingOpID: false)
        case UInt8(ascii: "["):
            output.append(UInt8(ascii: "["))
            var isFirst = true
            try parser.parseArray { (parser: inout JSONParser) throws(JSONSyntaxError) in
                if !isFirst { output.append(UInt8(ascii: ",")) }
                isFirst = false
                try Self.appendValue(&parser, to: &output, isEncodable: &isEncodable)
            }
            output.append(UInt8(ascii: "]"))
        case UInt8(ascii: "\""):
            let key = try parser.scanKey()
            if key.hasEscape {
                Self.appendString(parser.string(of: key), to: &output)
            } else {
                output.append(contentsOf: parser.bytes[(key.range.lowerBound - 1)...key.range.upperBound])
            }
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            // Literals are their own canonical form.
            let start = parser.position
            try parser.skipValue()
            output.append(contentsOf: parser.bytes[start..<parser.position])
        default:
            let range = try parser.scanNumber()
            let text = String(decoding: parser.bytes[range], as: UTF8.self)
            Self.append(.number(JSONNumber(validatedText: text)), to: &output, isEncodable: &isEncodable)
        }
    }

    /// Appends the canonical form of the object at the parser's position: members sorted as
    /// ``append(_:to:isEncodable:)`` sorts them, each value encoded once into a shared buffer.
    private static func appendObject(
        _ parser: inout JSONParser,
        to output: inout [UInt8],
        isEncodable: inout Bool,
        omittingOpID: Bool
    ) throws(JSONSyntaxError) {
        // A key without escapes is its own UTF-8 text (and its own canonical form, quoted);
        // only keys with escapes are decoded.
        var keys: [(key: JSONKey, decoded: String?)] = []
        var values: [Range<Int>] = []
        var buffer: [UInt8] = []
        buffer.reserveCapacity(min(parser.bytes.count - parser.position, 1024))
        var isASCII = true
        try parser.parseObject { (parser: inout JSONParser, key: JSONKey) throws(JSONSyntaxError) in
            if omittingOpID && parser.key(key, equals: "op_id") && Self.isExactlyOpID(key, in: parser) {
                try parser.skipValue()
                return
            }
            let decoded = key.hasEscape ? parser.string(of: key) : nil
            if let decoded {
                isASCII = isASCII && isASCIIOnly(decoded)
            } else {
                isASCII = isASCII && !parser.bytes[key.range].contains { $0 >= 0x80 }
            }
            let start = buffer.count
            try Self.appendValue(&parser, to: &buffer, isEncodable: &isEncodable)
            keys.append((key, decoded))
            values.append(start..<buffer.count)
        }
        var order = Array(keys.indices)
        if isASCII {
            // UTF-16 order equals byte order when every key is ASCII, and bytes compare faster.
            let bytes = parser.bytes
            order.sort { Self.precedes(keys[$0], keys[$1], in: bytes) }
        } else {
            let names = keys.map { $0.decoded ?? parser.string(of: $0.key) }
            order.sort { names[$0].utf16.lexicographicallyPrecedes(names[$1].utf16) }
        }
        output.append(UInt8(ascii: "{"))
        for (position, index) in order.enumerated() {
            if position > 0 { output.append(UInt8(ascii: ",")) }
            if let decoded = keys[index].decoded {
                Self.appendString(decoded, to: &output)
            } else {
                let range = keys[index].key.range
                output.append(contentsOf: parser.bytes[(range.lowerBound - 1)...range.upperBound])
            }
            output.append(UInt8(ascii: ":"))
            output.append(contentsOf: buffer[values[index]])
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Byte order of two keys' UTF-8 text, read from the buffer when they have no escapes.
    private static func precedes(
        _ lhs: (key: JSONKey, decoded: String?),
        _ rhs: (key: JSONKey, decoded: String?),
        in bytes: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        switch (lhs.decoded, rhs.decoded) {
        case (nil, nil):
            return bytes[lhs.key.range].lexicographicallyPrecedes(bytes[rhs.key.range])
        case (let left?, nil):
            return left.utf8.lexicographicallyPrecedes(bytes[rhs.key.range])
        case (nil, let right?):
            return bytes[lhs.key.range].lexicographicallyPrecedes(right.utf8)
        case (let left?, let right?):
            return left.utf8.lexicographicallyPrecedes(right.utf8)
        }
    }

    /// Whether a key that `key(_:equals:)` matched with `op_id` is exactly that text (code
    /// points, not Unicode equivalence, as `JSONObject.removing(_:)` compares).
    private static func isExactlyOpID(_ key: JSONKey, in parser: JSONParser) -> Bool {
        !key.hasEscape || ExactText(parser.string(of: key)) == ExactText("op_id")
    }
}
