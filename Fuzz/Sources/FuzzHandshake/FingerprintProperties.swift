import FuzzSupport
import OpLogIdentity
import OpLogReplication

enum FingerprintProperties {
    static let alphabet: [Character] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    static func checkText(_ text: String) {
        let fingerprint: NodeFingerprint
        do {
            fingerprint = try NodeFingerprint(parsing: text)
        } catch {
            require(error.code == .invalidNodeID, "parsing \(String(reflecting: text)) threw \(error)")
            return
        }
        // What is left of the text once dashes and spaces go and a-z become A-Z.
        let letters = String(
            text.unicodeScalars.filter { $0 != "-" && $0 != " " }.map {
                ("a"..."z").contains($0) ? Character(String($0).uppercased()) : Character($0)
            }
        )
        let canonicalLetters = fingerprint.description.filter { $0 != "-" }
        require(
            letters == canonicalLetters,
            "\(String(reflecting: text)) parsed as \(fingerprint), whose letters are not the input's"
        )
        Self.checkCanonical(fingerprint)
    }

    static func checkHash(_ input: inout FuzzInput) {
        let hash = input.bytes(32) + Array(repeating: 0, count: max(0, 32 - input.remaining.count))
        let fingerprint: NodeFingerprint
        do {
            fingerprint = try NodeFingerprint(hash: hash.prefix(32))
        } catch {
            failProperty("a 32-byte hash was refused: \(error)")
        }
        require(fingerprint.bytes == Array(hash.prefix(32)), "the fingerprint of \(hex(hash)) holds other bytes")
        Self.checkCanonical(fingerprint)
        // Any one letter changed to another is refused.
        var characters = Array(fingerprint.description)
        let letterPositions = characters.indices.filter { characters[$0] != "-" }
        let position = letterPositions[input.index(below: letterPositions.count)]
        let original = characters[position]
        let others = Self.alphabet.filter { $0 != original }
        characters[position] = others[input.index(below: others.count)]
        let mistyped = String(characters)
        if let parsed = try? NodeFingerprint(parsing: mistyped) {
            failProperty("\(mistyped), one letter off \(fingerprint), parsed as \(parsed)")
        }
    }

    /// A parsed or made ID: 63 characters, every spelling parses to it, it is a valid `NodeID`,
    /// and its hash gives it back.
    static func checkCanonical(_ fingerprint: NodeFingerprint) {
        let text = fingerprint.description
        require(
            text.utf8.count == NodeFingerprint.canonicalLength,
            "\(text) is not \(NodeFingerprint.canonicalLength) bytes"
        )
        for spelling in [text, text.lowercased(), text.filter { $0 != "-" }, text.replacing("-", with: " ")] {
            guard let again = try? NodeFingerprint(parsing: spelling) else {
                failProperty("\(spelling), a spelling of \(text), does not parse")
            }
            require(again == fingerprint && again.description == text, "\(spelling) parses as \(again), not \(text)")
        }
        require((try? NodeID(validating: text)) != nil, "\(text) is not a valid NodeID")
        require(fingerprint.nodeID == NodeID(text), "\(text)'s nodeID is \(fingerprint.nodeID)")
        guard let fromHash = try? NodeFingerprint(hash: fingerprint.bytes) else {
            failProperty("the hash of \(text) is refused")
        }
        require(fromHash == fingerprint && fromHash.description == text, "the hash of \(text) gives \(fromHash)")
    }
}
