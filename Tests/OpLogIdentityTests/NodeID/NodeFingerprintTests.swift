import OpLogReplication
import Testing

@testable import OpLogIdentity

/// DESIGN §7's node ID: Syncthing's device-ID form of a SHA-256 hash, checked against the
/// vectors Syncthing itself uses.
@Suite("Node IDs")
struct NodeFingerprintTests {
    /// DESIGN §7's example, which is Syncthing's man page example (syncthing-device-ids.7): the
    /// hash there base32-encodes to `MFZWI3DBONSGYYLTMRWGC43ENRQXGZDMMFZWI3DBONSGYYLTMRWA`,
    /// that is the 32 bytes "asdl" eight times.
    @Test func designVector() throws {
        let id = try NodeFingerprint(hash: Array(String(repeating: "asdl", count: 8).utf8))
        #expect(id.description == "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD")
        #expect(try NodeFingerprint(parsing: id.description) == id)
    }

    /// Syncthing's lib/protocol/deviceid_test.go: `formatted`, the canonical form its
    /// `formatCases` all parse to; its hash is what the 52-character cases base32-decode to.
    static let syncthingFormatted = "P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2"
    static let syncthingHash: [UInt8] = [
        0x7F, 0x7C, 0x87, 0x23, 0xEC, 0xCA, 0x5B, 0x4D, 0x22, 0x06, 0x1C, 0x49, 0x81, 0xB3, 0x4C, 0x34,
        0xD8, 0x65, 0xEC, 0x37, 0x6B, 0xE1, 0xEB, 0x74, 0x33, 0x08, 0x73, 0xC9, 0xA6, 0xF9, 0xB2, 0x05,
    ]

    @Test func syncthingFormattedVector() throws {
        let id = try NodeFingerprint(hash: Self.syncthingHash)
        #expect(id.description == Self.syncthingFormatted)
        #expect(try NodeFingerprint(parsing: Self.syncthingFormatted).bytes == Self.syncthingHash)
    }

    /// The `formatCases` with check characters (and none of Syncthing's 0/1/8 typo mapping):
    /// dashes and spaces anywhere, any case.
    @Test(arguments: [
        "P56IOI-7MZJNU2Y-IQGDR-EYDM2M-GTI-MGL3-BXNPQ6-W5BM-TBB-Z4TJXZ-WICQ2",
        "P56IOI7 MZJNU2Y IQGDREY DM2MGTI MGL3BXN PQ6W5BM TBBZ4TJ XZWICQ2",
        "P56IOI7MZJNU2YIQGDREYDM2MGTIMGL3BXNPQ6W5BMTBBZ4TJXZWICQ2",
        "p56ioi7mzjnu2yiqgdreydm2mgtimgl3bxnpq6w5bmtbbz4tjxzwicq2",
        "p56ioi7-MZJNU2Y-iqgdrey-DM2MGTI-mgl3bxn-PQ6W5BM-tbbz4tj-XZWICQ2",
    ])
    func syncthingFormatCases(text: String) throws {
        let id = try NodeFingerprint(parsing: text)
        #expect(id.description == Self.syncthingFormatted)
        #expect(id.bytes == Self.syncthingHash)
    }

    /// Syncthing's `luhn32` test: the check character of "AB725E4GHIQPL3ZFGT" is "G", and "1"
    /// is outside the alphabet.
    @Test func syncthingLuhn32() {
        #expect(Base32.checkCharacter(for: Array("AB725E4GHIQPL3ZFGT".utf8)) == UInt8(ascii: "G"))
        #expect(Base32.checkCharacter(for: Array("3734EJEKMRHWPZQTWYQ1".utf8)) == nil)
    }

    /// Syncthing's `TestMarshallingDeviceID` bytes survive text and back.
    @Test func syncthingMarshallingRoundTrip() throws {
        let bytes: [UInt8] = [
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 10, 21, 22, 23, 24, 25, 26, 27, 28,
            29, 30, 31, 32,
        ]
        let id = try NodeFingerprint(hash: bytes)
        #expect(id.description == "AEBAGBA-FAYDQQA-CIKBMGA-2DQPCA6-IREEYKC-ULBOGAL-ZDINRYH-I6D4QAF")
        #expect(try NodeFingerprint(parsing: id.description).bytes == bytes)
    }

    /// The hash of a certificate's DER bytes, for any bytes, renders as 63 characters of eight
    /// dashed groups and fits the engine's `NodeID`.
    @Test func certificateHashFitsNodeID() throws {
        let id = NodeFingerprint(certificateDER: Array("not really a certificate".utf8))
        #expect(id.description.utf8.count == NodeFingerprint.canonicalLength)
        #expect(id.description.split(separator: "-").map(\.count) == Array(repeating: 7, count: 8))
        #expect(try NodeID(validating: id.description) == id.nodeID)
        #expect(id.nodeID.rawValue == id.description)
    }

    /// What Syncthing would take but a node ID here does not: the 52-character form without
    /// check characters, typed digits 0/1/8, and its `validateCases` that fail there too.
    @Test(arguments: [
        ("P56IOI7MZJNU2IQGDREYDM2MGTMGL3BXNPQ6W5BTBBZ4TJXZWICQ", "has 52 letters and digits, not 56"),
        ("a", "has 1 letters and digits, not 56"),
        ("", "has 0 letters and digits, not 56"),
        ("P56IOI7MZJNU2IQGDREYDM2MGTMGL3BXNPQ6W5BTBBZ4TJXZWICQCCCC", "check letter of its part 1 of 4 (letter 14)"),
        ("P561017MZJNU2YIQGDREYDM2MGTIMGL3BXNPQ6W5BMT88Z4TJXZWICQ2", "has \"1\" at letter 4; node IDs use only A-Z and 2-7"),
        ("P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2\n", "has \"\\n\" at letter 57"),
        ("P56IOI7_MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ", "has \"_\" at letter 8"),
    ])
    func refused(text: String, why: String) throws {
        let error = try #require(throws: IdentityError.self) { try NodeFingerprint(parsing: text) }
        #expect(error.code == .invalidNodeID)
        #expect(error.message.contains(why), "\(error.message)")
        #expect(error.message.hasPrefix("node ID "), "\(error.message)")
        #expect(!error.message.contains("\n"), "one line: \(error.message)")
    }

    /// Every single wrong character anywhere is caught: a typo never names another node.
    /// (Syncthing's factor 2 maps 0…31 onto 0…31 one to one, so one substitution always moves
    /// the sum.)
    @Test func everySingleSubstitutionIsRefused() throws {
        let canonical = Array(Self.syncthingFormatted.utf8.filter { $0 != UInt8(ascii: "-") })
        for position in canonical.indices {
            for replacement in Base32.alphabet where replacement != canonical[position] {
                var typed = canonical
                typed[position] = replacement
                let text = String(decoding: typed, as: UTF8.self)
                let error = try #require(throws: IdentityError.self, "\(text)") { try NodeFingerprint(parsing: text) }
                #expect(error.message.contains("part \(position / 14 + 1) of 4"), "\(error.message)")
            }
        }
    }

    @Test func wrongCheckCharacterNamesItsPart() throws {
        // The last character, "D", is the fourth group's check character.
        let text = "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAE"
        let error = try #require(throws: IdentityError.self) { try NodeFingerprint(parsing: text) }
        #expect(error.message.contains("is mistyped: the check letter of its part 4 of 4 (letter 56)"))
    }

    /// 52 base32 characters carry 260 bits, 4 more than the hash: text whose last letter sets
    /// them is refused even with matching check characters (two texts would name one node).
    @Test func strayBitsAreRefused() throws {
        var letters = Array("MFZWI3DBONSGYYLTMRWGC43ENRQXGZDMMFZWI3DBONSGYYLTMRWA".utf8)
        letters[51] = UInt8(ascii: "B")
        var text: [UInt8] = []
        for group in 0..<4 {
            let part = letters[group * 13..<(group + 1) * 13]
            text += part
            text.append(try #require(Base32.checkCharacter(for: part)))
        }
        let error = try #require(throws: IdentityError.self) {
            try NodeFingerprint(parsing: String(decoding: text, as: UTF8.self))
        }
        #expect(error.message.contains("stray bits"), "\(error.message)")
    }

    @Test func hashMustHave32Bytes() throws {
        let error = try #require(throws: IdentityError.self) { try NodeFingerprint(hash: [1, 2, 3]) }
        #expect(error.code == .invalidNodeID)
        #expect(error.message == "a node ID is a 32-byte hash, not 3 bytes")
    }

    @Test func base32MatchesRFC4648() {
        // RFC 4648 §10, without padding.
        let vectors = [
            ("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ]
        for (plain, encoded) in vectors {
            #expect(String(decoding: Base32.encode(Array(plain.utf8)), as: UTF8.self) == encoded)
            #expect(Base32.decode(Array(encoded.utf8)) == Array(plain.utf8))
        }
    }

    /// Ordered as their `NodeID`s, so the engine and the TLS layer agree on the smaller node.
    @Test func orderMatchesNodeIDOrder() throws {
        let ids = (0..<64).map { NodeFingerprint(certificateDER: [UInt8(truncatingIfNeeded: $0)]) }
        #expect(ids.sorted().map(\.nodeID) == ids.map(\.nodeID).sorted())
        #expect(Set(ids).count == 64)
    }
}
