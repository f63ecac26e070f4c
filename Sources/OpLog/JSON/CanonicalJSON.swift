/// RFC 8785 JSON Canonicalization Scheme (JCS).
///
/// The canonical form has no insignificant whitespace, object members sorted by the UTF-16 code
/// units of their keys, strings escaped minimally (only `"`, `\`, and U+0000–U+001F, using the
/// two-character forms where they exist and lowercase `\u00xx` otherwise), and numbers written as
/// ECMAScript's `Number.prototype.toString` writes the IEEE 754 double they denote.
public enum CanonicalJSON {
    /// The canonical UTF-8 bytes of `value`.
    ///
    /// - Complexity: O(n log n) in the size of `value` (member sorting).
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        Self.append(value, to: &output)
        return output
    }

    /// Appends the canonical form of `value` to `output`.
    public static func append(_ value: JSONValue, to output: inout [UInt8]) {
        switch value {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let flag):
            output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number):
            output.append(contentsOf: ECMAScriptNumber.format(number.doubleValue).utf8)
        case .string(let string):
            Self.appendString(string, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.append(element, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            let sorted = object.members.sorted { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
            for (index, member) in sorted.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.appendString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                Self.append(member.value, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    static func appendString(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
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

/// Appends `\uXXXX` with lowercase hex digits, as both JCS and Python write it.
func appendUnicodeEscape(_ unit: UInt16, to output: inout [UInt8]) {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    output.append(contentsOf: #"\u"#.utf8)
    for shift in stride(from: 12, through: 0, by: -4) {
        output.append(digits[Int((unit >> UInt16(shift)) & 0xF)])
    }
}
