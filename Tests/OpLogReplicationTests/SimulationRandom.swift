/// SplitMix64: a tiny, fast, seedable generator, so a simulation seed replays exactly
/// (apple/swift-argument-parser: Examples/roll/SplitMix64.swift).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (bound > 0); the modulo bias is irrelevant here.
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(self.next() % UInt64(bound))
    }

    /// A number in `range`.
    mutating func within(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + self.below(range.count)
    }

    /// True with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool {
        guard probability > 0 else { return false }
        return Double(self.next() >> 11) / Double(UInt64(1) << 53) < probability
    }

    mutating func pick<Element>(_ elements: [Element]) -> Element {
        elements[self.below(elements.count)]
    }

    /// A duration in `range`, to the millisecond.
    mutating func duration(_ range: ClosedRange<Duration>) -> Duration {
        let low = Int(range.lowerBound / .milliseconds(1))
        let high = Int(range.upperBound / .milliseconds(1))
        return .milliseconds(self.within(low...high))
    }

    /// `count` lowercase hex digits.
    mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<count).map { _ in digits[self.below(16)] })
    }
}

/// 64-bit FNV-1a, for a cheap digest of everything a run did (the replay check).
struct TraceDigest: Equatable {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            self.value = (self.value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
    }

    mutating func add(_ number: UInt64) {
        withUnsafeBytes(of: number.littleEndian) { self.add($0) }
    }

    mutating func add(_ text: String) {
        self.add(text.utf8)
        self.add(UInt64(text.utf8.count))
    }
}
