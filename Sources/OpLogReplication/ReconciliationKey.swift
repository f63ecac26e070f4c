internal import Crypto

/// A secret that keys reconciliations: a link's key, to which both replicas of the link
/// contribute a random nonce at the handshake (``init(nonce:peerNonce:)``), or a pair's key,
/// which two nodes derive from their identities and which stays the same at each of their
/// connections (``init(pairSecret:)``).
///
/// Reconciliation compares keyed hashes of the entries (``ReconciliationKey/item(_:_:)``), not
/// fixed ones: with fixed hashes, two op ids whose hashes collide (cheap to arrange, about 2^32
/// work for 64-bit hashes of UUID-style ids) are taken for one entry and never exchanged, at
/// every reconnect. With a key that no third party knows, such a pair cannot be prepared ahead.
/// Every range below the whole session hashes with a key new for each exchange, derived from
/// the link's, so making the hashes of one exchange collide takes about 2^64 online guesses,
/// and a collision does not repeat at the next. The whole session's fingerprint, the first step,
/// hashes with the pair's key when the link has one: only the two nodes know it, so a third
/// party cannot prepare a collision of it either, and the engine can keep it up to date as
/// entries come instead of hashing every entry at each connect.
public struct ReconciliationKey: Sendable, Hashable {
    let k0: UInt64
    let k1: UInt64

    /// The bytes of a nonce each side sends in its handshake.
    public static let nonceLength = 16

    /// The key of a link whose two sides sent `nonce` and `peerNonce`: the same on both sides
    /// (the nonces are taken in byte order, so it does not matter which side is which).
    public init(nonce: [UInt8], peerNonce: [UInt8]) {
        let (low, high) = nonce.lexicographicallyPrecedes(peerNonce) ? (nonce, peerNonce) : (peerNonce, nonce)
        var hasher = SHA256()
        hasher.update(data: Array("oplog-sync reconciliation key".utf8))
        for part in [low, high] {
            hasher.update(data: [UInt8(truncatingIfNeeded: part.count)])
            hasher.update(data: part)
        }
        let words = hasher.finalize().withUnsafeBytes { bytes in
            (Self.littleEndian(bytes.prefix(8)), Self.littleEndian(bytes.dropFirst(8).prefix(8)))
        }
        self.init(k0: words.0, k1: words.1)
    }

    /// The pair key of two nodes that share `pairSecret` (OpLogIdentity's
    /// `Identity.pairSecret(withPeerCertificate:)`, 32 bytes): the same on both sides and at
    /// each of their connections.
    public init(pairSecret: [UInt8]) {
        var hasher = SHA256()
        hasher.update(data: Array("oplog-sync pair key".utf8))
        hasher.update(data: pairSecret)
        let words = hasher.finalize().withUnsafeBytes { bytes in
            (Self.littleEndian(bytes.prefix(8)), Self.littleEndian(bytes.dropFirst(8).prefix(8)))
        }
        self.init(k0: words.0, k1: words.1)
    }

    /// A key from its two halves: for tests and simulations, which make both sides' keys
    /// from one seeded generator.
    public init(k0: UInt64, k1: UInt64) {
        self.k0 = k0
        self.k1 = k1
    }

    /// The key of one exchange on the link, named by its exchange id: each exchange hashes
    /// with a key of its own.
    func exchangeKey(_ exchange: UInt64) -> ReconciliationKey {
        ReconciliationKey(
            k0: SipHash.hash(exchange, 0, k0: self.k0, k1: self.k1),
            k1: SipHash.hash(exchange, 1, k0: self.k0, k1: self.k1)
        )
    }

    /// What reconciliation compares of an entry: the keyed hash of the 128 bits that tell it
    /// apart (its key's op-id hash and its ``KnownEntry/contentHash``).
    func item(_ hash: UInt64, _ contentHash: UInt64) -> UInt64 {
        SipHash.hash(hash, contentHash, k0: self.k0, k1: self.k1)
    }

    private static func littleEndian(_ bytes: some Collection<UInt8>) -> UInt64 {
        bytes.reversed().reduce(0) { ($0 << 8) | UInt64($1) }
    }
}
