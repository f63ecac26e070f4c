/// Writes JSON exactly as Python's `json.dumps` does with its default `ensure_ascii=True`, so
/// lines and checkpoints made by this library are byte-identical to Muse's own.
///
/// Strings escape `"`, `\`, `\n`, `\r`, `\t`, `\b`, `\f`, every other character outside
/// U+0020–U+007E as lowercase `\uXXXX` (astral characters as surrogate pairs). Numbers are
/// written with the text they were parsed from; object members in their stored order.
public enum PythonJSON {
    /// `json.dumps(value, separators=(",", ":"))`: one line, no spaces.
    public static func compact(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        Self.append(value, indent: nil, level: 0, to: &output)
        return output
    }

    /// `json.dumps(value, indent=2)`: members on their own lines, `": "` after keys.
    public static func indented(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        Self.append(value, indent: 2, level: 0, to: &output)
        return output
    }

    private static func append(_ value: JSONValue, indent: Int?, level: Int, to output: inout [UInt8]) {
        switch value {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let flag):
            output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number):
            output.append(contentsOf: number.text.utf8)
        case .string(let string):
            Self.appendString(string, to: &output)
        case .array(let elements):
            Self.appendContainer(
                open: "[",
                close: "]",
                count: elements.count,
                indent: indent,
                level: level,
                to: &output
            ) {
                index,
                output in
                Self.append(elements[index], indent: indent, level: level + 1, to: &output)
            }
        case .object(let object):
            let members = object.members
            Self.appendContainer(open: "{", close: "}", count: members.count, indent: indent, level: level, to: &output)
            {
                index,
                output in
                Self.appendString(members[index].key, to: &output)
                output.append(contentsOf: (indent == nil ? ":" : ": ").utf8)
                Self.append(members[index].value, indent: indent, level: level + 1, to: &output)
            }
        }
    }

    private static func appendContainer(
        open: Unicode.Scalar,
        close: Unicode.Scalar,
        count: Int,
        indent: Int?,
        level: Int,
        to output: inout [UInt8],
        element: (Int, inout [UInt8]) -> Void
    ) {
        output.append(UInt8(ascii: open))
        if count > 0 {
            for index in 0..<count {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                if let indent {
                    output.append(UInt8(ascii: "\n"))
                    output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * (level + 1)))
                }
                element(index, &output)
            }
            if let indent {
                output.append(UInt8(ascii: "\n"))
                output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * level))
            }
        }
        output.append(UInt8(ascii: close))
    }

    /// Appends `string` as Python's `ensure_ascii` encoder writes it.
    public static func appendString(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Printable ASCII without quotes or backslashes is written as is: copy it whole.
        let needsEscape = utf8Contains(string) {
            $0 < 0x20 || $0 > 0x7E || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\")
        }
        if !needsEscape {
            output.append(contentsOf: string.utf8)
            output.append(UInt8(ascii: "\""))
            return
        }
        for unit in string.utf16 {
            switch unit {
            case UInt16(UInt8(ascii: "\"")): output.append(contentsOf: #"\""#.utf8)
            case UInt16(UInt8(ascii: "\\")): output.append(contentsOf: #"\\"#.utf8)
            case 0x0A: output.append(contentsOf: #"\n"#.utf8)
            case 0x0D: output.append(contentsOf: #"\r"#.utf8)
            case 0x09: output.append(contentsOf: #"\t"#.utf8)
            case 0x08: output.append(contentsOf: #"\b"#.utf8)
            case 0x0C: output.append(contentsOf: #"\f"#.utf8)
            case 0x20...0x7E: output.append(UInt8(unit))
            default: appendUnicodeEscape(unit, to: &output)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
