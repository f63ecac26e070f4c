import Testing

@testable import OpLog

@Suite("RFC 8785 canonical JSON")
struct CanonicalJSONTests {
    private func canonical(_ json: String) throws -> String {
        try CanonicalJSON.encode(try JSONValue(parsing: json)).text
    }

    /// RFC 8785 §3.2.4's example: escapes, number forms and literals.
    @Test func rfcMainExample() throws {
        let input = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50,
                          2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        let expected =
            #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        #expect(try self.canonical(input) == expected)
    }

    /// RFC 8785 §3.2.3's sorting example: keys ordered by UTF-16 code units, not code points.
    @Test func rfcSortingExample() throws {
        let input = #"""
            {
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "1": "One",
              "\ud83d\ude00": "Emoji: Grinning Face",
              "\u0080": "Control",
              "\u00f6": "Latin Small Letter O With Diaeresis"
            }
            """#
        let expected =
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"דּ\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(try self.canonical(input) == expected)
    }

    /// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
    @Test(arguments: [
        (0x0000_0000_0000_0000 as UInt64, "0"),
        (0x8000_0000_0000_0000, "0"),
        (0x0000_0000_0000_0001, "5e-324"),
        (0x8000_0000_0000_0001, "-5e-324"),
        (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
        (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"),
        (0x4340_0000_0000_0000, "9007199254740992"),
        (0xC340_0000_0000_0000, "-9007199254740992"),
        (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"),
        (0x44B5_2D02_C7E1_4AF6, "1e+23"),
        (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"),
        (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
        (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"),
        (0x444B_1AE4_D6E2_EF50, "1e+21"),
        (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"),
        (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
        (0x41B3_DE43_5555_5553, "333333333.3333332"),
        (0x41B3_DE43_5555_5554, "333333333.33333325"),
        (0x41B3_DE43_5555_5555, "333333333.3333333"),
        (0x41B3_DE43_5555_5556, "333333333.3333334"),
        (0x41B3_DE43_5555_5557, "333333333.33333343"),
        (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
        (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),
    ])
    func rfcNumberVectors(bits: UInt64, expected: String) {
        #expect(ECMAScriptNumber.format(Double(bitPattern: bits)) == expected)
    }

    @Test(arguments: [
        ("1", "1"), ("-0", "0"), ("0.0", "0"), ("1.0", "1"), ("100", "100"), ("1e2", "100"), ("1E+2", "100"),
        ("123456789012345678901", "123456789012345680000"), ("1e21", "1e+21"), ("0.1", "0.1"), ("1e-7", "1e-7"),
        ("0.0000001", "1e-7"), ("0.000001", "0.000001"), ("-1.5e-10", "-1.5e-10"), ("12.340", "12.34"),
    ])
    func numberSpellingsCanonicalise(input: String, expected: String) throws {
        #expect(try self.canonical(input) == expected)
    }

    @Test func stringEscapesAreMinimal() throws {
        // Only " \ and C0 controls are escaped; DEL, '/', and non-ASCII stay literal.
        let input = #""\u0000\u0001\b\t\n\f\r\u001f \u007f/<>&é\ud83c\udfb5\"\\""#
        let expected = "\"\\u0000\\u0001\\b\\t\\n\\f\\r\\u001f \u{7F}/<>&é🎵\\\"\\\\\""
        #expect(try self.canonical(input) == expected)
    }

    @Test func nestedObjectsAreSortedAndArraysKeepOrder() throws {
        let input = #"{"b":[3,1,{"z":1,"a":2}],"a":{"y":true,"x":null}}"#
        #expect(try self.canonical(input) == #"{"a":{"x":null,"y":true},"b":[3,1,{"a":2,"z":1}]}"#)
    }
}
