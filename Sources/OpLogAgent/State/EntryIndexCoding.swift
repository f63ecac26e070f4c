import OpLog

// The byte layout of an entry index (see ``EntryIndex``): writing and reading its fields.

/// Builds an index's bytes.
struct IndexWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            self.bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        self.bytes.append(UInt8(rest))
    }

    mutating func fixed(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { self.bytes.append(contentsOf: $0) }
    }

    mutating func fixed32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { self.bytes.append(contentsOf: $0) }
    }

    /// A content id as its 32 digest bytes, any other id verbatim.
    mutating func opID(_ id: OpID) {
        var text = id.rawValue
        text.withUTF8 { utf8 in
            let isContentID = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digest in
                guard Self.decodeContentID(utf8, into: digest) else { return false }
                self.bytes.append(0)
                self.bytes.append(contentsOf: digest)
                return true
            }
            guard !isContentID else { return }
            self.bytes.append(1)
            self.varint(UInt64(utf8.count))
            self.bytes.append(contentsOf: utf8)
        }
    }

    /// Writes the 32 bytes that a content id's 64 lowercase hex digits spell into `digest` and
    /// returns true; false for any other id (one with an uppercase or a missing digit included,
    /// which the index keeps verbatim). One pass, no allocation.
    static func decodeContentID(
        _ utf8: UnsafeBufferPointer<UInt8>,
        into digest: UnsafeMutableBufferPointer<UInt8>
    ) -> Bool {
        let prefixLength = 7  // "sha256:"
        guard utf8.count == prefixLength + 64, digest.count == 32,
            UnsafeBufferPointer(rebasing: utf8[..<prefixLength]).elementsEqual(Self.contentPrefix)
        else { return false }
        for index in 0..<32 {
            let position = prefixLength + 2 * index
            guard let high = Self.hexValue(utf8[position]), let low = Self.hexValue(utf8[position + 1]) else {
                return false
            }
            digest[index] = high << 4 | low
        }
        return true
    }

    private static let contentPrefix: [UInt8] = Array(OpID.contentPrefix.utf8)

    /// The value of a lowercase hex digit.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// Reads an index's bytes; every read returns `nil` past the end or on a malformed value.
struct IndexReader {
    let bytes: ArraySlice<UInt8>
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    var isAtEnd: Bool { self.position == self.bytes.endIndex }

    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while self.position < self.bytes.endIndex, shift < 64 {
            let byte = self.bytes[self.position]
            self.position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }

    mutating func fixed() -> UInt64? {
        guard self.bytes.endIndex - self.position >= 8 else { return nil }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(self.bytes[self.position + index]) << (8 * index) }
        self.position += 8
        return value
    }

    mutating func fixed32() -> UInt32? {
        guard self.bytes.endIndex - self.position >= 4 else { return nil }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(self.bytes[self.position + index]) << (8 * index) }
        self.position += 4
        return value
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    mutating func opID() -> OpID? {
        guard self.position < self.bytes.endIndex else { return nil }
        let tag = self.bytes[self.position]
        self.position += 1
        let text: [UInt8]
        switch tag {
        case 0:
            guard self.bytes.endIndex - self.position >= 32 else { return nil }
            var hex = Array(OpID.contentPrefix.utf8)
            hex.reserveCapacity(hex.count + 64)
            for byte in self.bytes[self.position..<(self.position + 32)] {
                hex.append(Self.hexDigits[Int(byte >> 4)])
                hex.append(Self.hexDigits[Int(byte & 0x0F)])
            }
            self.position += 32
            text = hex
        case 1:
            guard let length = self.varint(), length <= UInt64(OpID.maximumLength),
                self.bytes.endIndex - self.position >= Int(length)
            else { return nil }
            text = Array(self.bytes[self.position..<(self.position + Int(length))])
            self.position += Int(length)
        default:
            return nil
        }
        return try? OpID(validating: String(decoding: text, as: UTF8.self))
    }
}
