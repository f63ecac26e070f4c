/// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed
/// hash whose outputs an adversary who does not know the key cannot predict, nor make
/// collide, with less than about 2^64 online guesses.
///
/// The standard library's `Hasher` is SipHash-1-3 with a seed of its own that cannot be
/// chosen; reconciliation needs both replicas of a link to compute the same keyed hash, so it
/// uses this one, checked against the paper's test vectors.
struct SipHash: Sendable {
    private var v0: UInt64
    private var v1: UInt64
    private var v2: UInt64
    private var v3: UInt64

    /// A hash keyed by the 128-bit key `(k0, k1)`: `k0` is the key's first 8 bytes read
    /// little-endian, `k1` the next 8.
    init(k0: UInt64, k1: UInt64) {
        self.v0 = k0 ^ 0x736f_6d65_7073_6575
        self.v1 = k1 ^ 0x646f_7261_6e64_6f6d
        self.v2 = k0 ^ 0x6c79_6765_6e65_7261
        self.v3 = k1 ^ 0x7465_6462_7974_6573
    }

    /// The hash of `bytes`.
    static func hash(_ bytes: some Collection<UInt8>, k0: UInt64, k1: UInt64) -> UInt64 {
        var state = SipHash(k0: k0, k1: k1)
        var word: UInt64 = 0
        var filled = 0
        for byte in bytes {
            word |= UInt64(byte) << (8 * filled)
            filled += 1
            if filled == 8 {
                state.compress(word)
                word = 0
                filled = 0
            }
        }
        return state.finalize(lastWord: word, length: bytes.count)
    }

    /// The hash of the 16 bytes `first` then `second`, each little-endian: the same value as
    /// ``hash(_:k0:k1:)`` of those bytes, without building them.
    static func hash(_ first: UInt64, _ second: UInt64, k0: UInt64, k1: UInt64) -> UInt64 {
        var state = SipHash(k0: k0, k1: k1)
        state.compress(first)
        state.compress(second)
        return state.finalize(lastWord: 0, length: 16)
    }

    private mutating func compress(_ word: UInt64) {
        self.v3 ^= word
        self.round()
        self.round()
        self.v0 ^= word
    }

    /// Takes the last 0 to 7 bytes (in `lastWord`, little-endian) with the input's length.
    private mutating func finalize(lastWord: UInt64, length: Int) -> UInt64 {
        self.compress(lastWord | UInt64(truncatingIfNeeded: length) << 56)
        self.v2 ^= 0xff
        self.round()
        self.round()
        self.round()
        self.round()
        return self.v0 ^ self.v1 ^ self.v2 ^ self.v3
    }

    private mutating func round() {
        self.v0 &+= self.v1
        self.v1 = self.v1.rotated(13) ^ self.v0
        self.v0 = self.v0.rotated(32)
        self.v2 &+= self.v3
        self.v3 = self.v3.rotated(16) ^ self.v2
        self.v0 &+= self.v3
        self.v3 = self.v3.rotated(21) ^ self.v0
        self.v2 &+= self.v1
        self.v1 = self.v1.rotated(17) ^ self.v2
        self.v2 = self.v2.rotated(32)
    }
}

extension UInt64 {
    fileprivate func rotated(_ count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}
