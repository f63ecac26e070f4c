#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension JSONParser {
    /// Parses a string token (the parser is at its opening quote) into a `String`.
    ///
    /// Strings without escapes are decoded straight from the buffer; escapes take a slower path.
    mutating func parseString() throws(JSONSyntaxError) -> String {
        let contentStart = self.position + 1
        let (end, hasEscape) = try self.scanString()
        if !hasEscape {
            return String(decoding: self.bytes[contentStart..<end], as: UTF8.self)
        }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(end - contentStart)
        var index = contentStart
        while index < end {
            let byte = self.bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                index += 1
                continue
            }
            let escaped = self.bytes[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "\""): utf8.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): utf8.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): utf8.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            default:  // "u", checked by scanString
                var scalar = UInt32(self.hexValue(at: index))
                index += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    let low = UInt32(self.hexValue(at: index + 2))
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                guard let unicodeScalar = Unicode.Scalar(scalar) else {
                    preconditionFailure("scanString admits only paired surrogates")
                }
                utf8.append(contentsOf: unicodeScalar.utf8)
            }
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Validates a string token (the parser is at its opening quote) and moves past it.
    mutating func skipString() throws(JSONSyntaxError) {
        _ = try self.scanString()
    }

    /// Validates a string token used as a key and returns where its content is.
    mutating func scanKey() throws(JSONSyntaxError) -> JSONKey {
        let contentStart = self.position + 1
        let (end, hasEscape) = try self.scanString()
        return JSONKey(range: contentStart..<end, hasEscape: hasEscape)
    }

    /// The decoded text of a key found by ``scanKey()``.
    func string(of key: JSONKey) -> String {
        guard key.hasEscape else { return String(decoding: self.bytes[key.range], as: UTF8.self) }
        var copy = JSONParser(self.bytes)
        copy.position = key.range.lowerBound - 1
        // The key was validated when it was scanned, so decoding it again cannot fail.
        return (try? copy.parseString()) ?? ""
    }

    /// Whether a key equals `literal` (an ASCII name without escapes).
    func key(_ key: JSONKey, equals literal: StaticString) -> Bool {
        if key.hasEscape { return self.string(of: key) == literal.description }
        guard key.range.count == literal.utf8CodeUnitCount else { return false }
        return literal.withUTF8Buffer { expected in
            guard let base = self.bytes.baseAddress, let expectedBase = expected.baseAddress else {
                return expected.isEmpty
            }
            return memcmp(base + key.range.lowerBound, expectedBase, expected.count) == 0
        }
    }

    /// Whether the bytes in two ranges of the buffer are equal.
    func bytesEqual(_ lhs: Range<Int>, _ rhs: Range<Int>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard let base = self.bytes.baseAddress else { return true }
        return memcmp(base + lhs.lowerBound, base + rhs.lowerBound, lhs.count) == 0
    }

    /// Validates a string token and moves past it; returns the index of the closing quote and
    /// whether the string contains escapes.
    ///
    /// Checks: no raw control characters, valid escapes, surrogate escapes paired, valid UTF-8.
    private mutating func scanString() throws(JSONSyntaxError) -> (end: Int, hasEscape: Bool) {
        var index = self.position + 1
        var hasEscape = false
        let count = self.bytes.count
        while index < count {
            // Skip plain bytes (printable ASCII other than a quote or backslash), which are most
            // of every string, eight at a time, then straight to the first that is not plain;
            // that one goes through the checks below.
            if index + 8 <= count, let base = self.bytes.baseAddress {
                let attention = Self.attentionMask(
                    UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                )
                if attention == 0 {
                    index += 8
                    continue
                }
                index += attention.trailingZeroBitCount >> 3
            }
            let byte = self.bytes[index]
            if byte == UInt8(ascii: "\"") {
                self.position = index + 1
                return (index, hasEscape)
            }
            if byte == UInt8(ascii: "\\") {
                hasEscape = true
                index = try self.scanEscape(at: index)
            } else if byte < 0x20 {
                throw JSONSyntaxError(reason: "control character in string", offset: index)
            } else if byte < 0x80 {
                index += 1
            } else {
                index = try self.scanUTF8Sequence(at: index)
            }
        }
        throw JSONSyntaxError(reason: "unterminated string", offset: self.position)
    }

    /// Whether any of the eight bytes in `word` is a quote, a backslash, a control character or
    /// not ASCII.
    @inline(__always)
    static func wordNeedsAttention(_ word: UInt64) -> Bool {
        Self.attentionMask(word) != 0
    }

    /// The high bit of each byte of `word` (in memory order, read little-endian) that may be a
    /// quote, a backslash, a control character or not ASCII: bit tricks over a 64-bit word, exact
    /// up to the first such byte (borrows only ever add marks above a real one), so the lowest
    /// set bit marks the first byte that needs attention.
    @inline(__always)
    static func attentionMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl | word) & highs
    }

    /// Validates the escape at `index` (a backslash); returns the index after it.
    private func scanEscape(at index: Int) throws(JSONSyntaxError) -> Int {
        guard index + 1 < self.bytes.count else { throw JSONSyntaxError(reason: "unterminated string", offset: index) }
        switch self.bytes[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return index + 2
        case UInt8(ascii: "u"):
            let unit = try self.checkedHexValue(at: index + 2)
            if unit >= 0xDC00 && unit <= 0xDFFF {
                throw JSONSyntaxError(reason: "lone surrogate escape", offset: index)
            }
            guard unit >= 0xD800 && unit <= 0xDBFF else { return index + 6 }
            guard index + 7 < self.bytes.count, self.bytes[index + 6] == UInt8(ascii: "\\"),
                self.bytes[index + 7] == UInt8(ascii: "u")
            else { throw JSONSyntaxError(reason: "lone surrogate escape", offset: index) }
            let low = try self.checkedHexValue(at: index + 8)
            guard low >= 0xDC00 && low <= 0xDFFF else {
                throw JSONSyntaxError(reason: "lone surrogate escape", offset: index)
            }
            return index + 12
        default:
            throw JSONSyntaxError(reason: "invalid escape", offset: index)
        }
    }

    private func checkedHexValue(at index: Int) throws(JSONSyntaxError) -> UInt16 {
        guard index + 4 <= self.bytes.count else { throw JSONSyntaxError(reason: "unterminated string", offset: index) }
        for offset in 0..<4 where Self.hexDigit(self.bytes[index + offset]) == nil {
            throw JSONSyntaxError(reason: "invalid \\u escape", offset: index)
        }
        return self.hexValue(at: index)
    }

    /// The value of four hex digits already validated by ``checkedHexValue(at:)``.
    private func hexValue(at index: Int) -> UInt16 {
        var value: UInt16 = 0
        for offset in 0..<4 {
            value = value << 4 | UInt16(Self.hexDigit(self.bytes[index + offset]) ?? 0)
        }
        return value
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Validates one multi-byte UTF-8 sequence starting at `index` (RFC 3629: no overlongs, no
    /// surrogates, nothing above U+10FFFF); returns the index after it.
    private func scanUTF8Sequence(at index: Int) throws(JSONSyntaxError) -> Int {
        let lead = self.bytes[index]
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            upper = 0x9F
        case 0xF0:
            length = 4
            lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            upper = 0x8F
        default: throw JSONSyntaxError(reason: "invalid UTF-8", offset: index)
        }
        guard index + length <= self.bytes.count else { throw JSONSyntaxError(reason: "invalid UTF-8", offset: index) }
        let second = self.bytes[index + 1]
        guard second >= lower && second <= upper else { throw JSONSyntaxError(reason: "invalid UTF-8", offset: index) }
        for offset in 2..<length where self.bytes[index + offset] & 0xC0 != 0x80 {
            throw JSONSyntaxError(reason: "invalid UTF-8", offset: index)
        }
        return index + length
    }
}
