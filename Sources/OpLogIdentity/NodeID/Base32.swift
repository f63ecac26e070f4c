/// RFC 4648 base32 (the standard alphabet `A`–`Z`, `2`–`7`) without padding, and the check
/// character Syncthing adds to each group of a device ID.
///
/// Only what node IDs need: written by hand because none of our dependencies has base32, and
/// kept to the RFC's alphabet and bit order (five bits per character, most significant first).
enum Base32 {
    /// The 32 characters, in value order.
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// The value (0–31) of an upper-case alphabet character, or `nil` for any other byte.
    static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
        case UInt8(ascii: "2")...UInt8(ascii: "7"): character - UInt8(ascii: "2") + 26
        default: nil
        }
    }

    /// `bytes` in base32, without the `=` padding: ⌈8n/5⌉ characters, the last one filled up
    /// with zero bits.
    static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var characters: [UInt8] = []
        var buffer: UInt32 = 0
        var bitCount = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bitCount += 8
            while bitCount >= 5 {
                bitCount -= 5
                characters.append(Self.alphabet[Int((buffer >> UInt32(bitCount)) & 0x1F)])
            }
        }
        if bitCount > 0 {
            characters.append(Self.alphabet[Int((buffer << UInt32(5 - bitCount)) & 0x1F)])
        }
        return characters
    }

    /// The bytes that unpadded base32 `characters` (upper case) stand for, or `nil` when a
    /// character is outside the alphabet or the bits left over after the last whole byte are not
    /// zero (text ``encode(_:)`` never makes).
    static func decode(_ characters: some Sequence<UInt8>) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var bitCount = 0
        for character in characters {
            guard let value = Self.value(of: character) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bitCount += 5
            if bitCount >= 8 {
                bitCount -= 8
                bytes.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bitCount)))
            }
        }
        guard buffer & ((1 << UInt32(bitCount)) - 1) == 0 else { return nil }
        return bytes
    }

    /// Syncthing's check character for `group` (`luhn32` in its lib/protocol/luhn.go), or `nil`
    /// when a character is outside the alphabet.
    ///
    /// Not the Luhn mod N algorithm it is named after, and matched here exactly: the factor
    /// starts at 1 on the *first* character and alternates 1, 2, 1, … from the left (Luhn counts
    /// from the right, next to the check character), each product is folded as
    /// `product / 32 + product % 32`, and the check value is `(32 - sum % 32) % 32`. Syncthing
    /// kept this for compatibility once IDs were in use (forum thread "v0.9.0 new node ID
    /// format"); an ID with the textbook Luhn character would not match Syncthing's.
    static func checkCharacter(for group: some Sequence<UInt8>) -> UInt8? {
        var factor = 1
        var sum = 0
        for character in group {
            guard let value = Self.value(of: character) else { return nil }
            let product = factor * Int(value)
            factor = factor == 2 ? 1 : 2
            sum += product / 32 + product % 32
        }
        return Self.alphabet[(32 - sum % 32) % 32]
    }
}
