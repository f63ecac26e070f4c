/// RFC 8785 JSON Canonicalization Scheme (JCS).
///
/// The canonical form has no insignificant whitespace, object members sorted by the UTF-16 code
/// units of their keys, strings escaped minimally (only `"`, `\`, and U+0000–U+001F, using the
/// two-character forms where they exist and lowercase `\u00xx` otherwise), and numbers written as
/// ECMAScript's `Number.prototype.toString` writes the IEEE 754 double they denote.
public enum CanonicalJSON {
    /// The canonical UTF-8 bytes of `value`.
    ///
    /// - Throws: `OpLogError` `.invalidEntry` when `value` holds `NaN` or an infinite number,
    ///   which RFC 8785 cannot encode.
    /// - Complexity: O(n log n) in the size of `value` (member sorting).
    public static func encode(_ value: JSONValue) throws(OpLogError) -> [UInt8] {
        var output: [UInt8] = []
        var isEncodable = true
        Self.append(value, to: &output, isEncodable: &isEncodable)
        guard isEncodable else {
            throw OpLogError(code: .invalidEntry, message: "NaN and Infinity have no canonical JSON form (RFC 8785)")
        }
        return output
    }

    /// Appends the canonical form of `value` to `output`; clears `isEncodable` on a number that
    /// has none.
    static func append(_ value: JSONValue, to output: inout [UInt8], isEncodable: inout Bool) {
        switch value {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let flag):
            output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number):
            if let integer = Self.smallIntegerText(number.text) {
                output.append(contentsOf: integer)  // exact in a double, so already canonical
            } else if !number.isFinite {
                isEncodable = false
            } else {
                output.append(contentsOf: ECMAScriptNumber.format(number.doubleValue).utf8)
            }
        case .string(let string):
            Self.appendString(string, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.append(element, to: &output, isEncodable: &isEncodable)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            var sorted = object.members
            // UTF-16 order equals byte order when every key is ASCII, and bytes compare faster.
            let isASCII = sorted.allSatisfy { isASCIIOnly($0.key) }
            let precedes: (JSONObject.Member, JSONObject.Member) -> Bool =
                isASCII
                ? { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                : { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
            if !zip(sorted, sorted.dropFirst()).allSatisfy(precedes) {
                sorted.sort(by: precedes)
            }
            for (index, member) in sorted.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.appendString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                Self.append(member.value, to: &output, isEncodable: &isEncodable)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// The text of an integer literal of at most 15 digits (exactly representable, so its
    /// ECMAScript form is the digits themselves), `-0` as `0`; `nil` for anything else.
    static func smallIntegerText(_ text: String) -> Substring.UTF8View? {
        var digits = text.utf8[...]
        if digits.first == UInt8(ascii: "-") { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if digits.first == UInt8(ascii: "0") {
            return digits.count == 1 ? digits : nil  // "0" or "-0"; a leading zero is not JSON
        }
        return text.utf8[...]
    }

    static func appendString(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Most strings need no escape at all: copy them whole.
        if !utf8Contains(string, where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            output.append(contentsOf: string.utf8)
            output.append(UInt8(ascii: "\""))
            return
        }
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
            case 0x08: output.append(contentsOf: #"\b"#.utf8)
            case 0x09: output.append(contentsOf: #"\t"#.utf8)
            case 0x0A: output.append(contentsOf: #"\n"#.utf8)
            case 0x0C: output.append(contentsOf: #"\f"#.utf8)
            case 0x0D: output.append(contentsOf: #"\r"#.utf8)
            case 0x00..<0x20: appendUnicodeEscape(UInt16(byte), to: &output)
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

/// Whether any UTF-8 byte of `string` satisfies `predicate`, over contiguous storage when the
/// string has it (native strings do), which is much faster than iterating the view.
@inline(__always)
func utf8Contains(_ string: String, where predicate: (UInt8) -> Bool) -> Bool {
    string.utf8.withContiguousStorageIfAvailable { $0.contains(where: predicate) }
        ?? string.utf8.contains(where: predicate)
}

/// Whether `string` is all ASCII.
@inline(__always)
func isASCIIOnly(_ string: String) -> Bool {
    !utf8Contains(string) { $0 >= 0x80 }
}

/// Appends `\uXXXX` with lowercase hex digits, as both JCS and Python write it.
func appendUnicodeEscape(_ unit: UInt16, to output: inout [UInt8]) {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    output.append(contentsOf: #"\u"#.utf8)
    for shift in stride(from: 12, through: 0, by: -4) {
        output.append(digits[Int((unit >> UInt16(shift)) & 0xF)])
    }
}
