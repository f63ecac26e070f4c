/// Reads values from a fuzz input, front to back.
///
/// Past the end every read returns zero (or an empty array), so a target can read whatever it
/// needs from any input, and libFuzzer's mutations of a prefix keep their meaning.
public struct FuzzInput {
    private let bytes: [UInt8]
    private var position = 0

    /// Wraps the bytes libFuzzer passed.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Wraps libFuzzer's `(data, size)` pair, copying the bytes.
    public init(data: UnsafePointer<UInt8>?, size: Int) {
        guard let data, size > 0 else {
            self.init([])
            return
        }
        self.init(Array(UnsafeBufferPointer(start: data, count: size)))
    }

    /// Whether every byte was read.
    public var isAtEnd: Bool { self.position >= self.bytes.count }

    /// The bytes not read yet.
    public var remaining: ArraySlice<UInt8> { self.bytes[min(self.position, self.bytes.count)...] }

    /// The next byte, or 0 past the end.
    public mutating func byte() -> UInt8 {
        guard self.position < self.bytes.count else { return 0 }
        defer { self.position += 1 }
        return self.bytes[self.position]
    }

    /// The next `Integer.bitWidth / 8` bytes, big-endian (zeros past the end).
    public mutating func integer<Integer: FixedWidthInteger>(as type: Integer.Type = Integer.self) -> Integer {
        var value: Integer = 0
        for _ in 0..<(Integer.bitWidth / 8) {
            value = (value << 8) | Integer(truncatingIfNeeded: self.byte())
        }
        return value
    }

    /// A value in `0..<count` (`count` at least 1), from one byte when `count` fits in one.
    public mutating func index(below count: Int) -> Int {
        precondition(count > 0, "an index needs a non-empty range")
        if count <= 256 { return Int(self.byte()) % count }
        return Int(self.integer(as: UInt32.self) % UInt32(truncatingIfNeeded: count))
    }

    /// One of `choices`, picked by the next byte.
    public mutating func pick<Element>(_ choices: [Element]) -> Element {
        choices[self.index(below: choices.count)]
    }

    /// Whether the next byte is odd.
    public mutating func bool() -> Bool { self.byte() & 1 == 1 }

    /// The next `count` bytes (fewer at the end).
    public mutating func bytes(_ count: Int) -> [UInt8] {
        let end = min(self.bytes.count, self.position + max(0, count))
        defer { self.position = max(self.position, end) }
        guard self.position < end else { return [] }
        return Array(self.bytes[self.position..<end])
    }

    /// A byte array whose length is the next byte (0 to 255), then its bytes.
    public mutating func shortBytes() -> [UInt8] {
        self.bytes(Int(self.byte()))
    }

    /// The rest of the input.
    public mutating func rest() -> [UInt8] {
        defer { self.position = self.bytes.count }
        return Array(self.remaining)
    }
}
