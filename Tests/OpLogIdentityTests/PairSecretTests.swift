import OpLogIdentity
import Testing

/// Two nodes agree a secret from their identities alone: the same on both sides, another for
/// every other pair, and only for a certificate with a P-256 key.
@Suite("Pair secrets")
struct PairSecretTests {
    @Test func bothSidesAgreeAndEveryPairHasItsOwn() throws {
        let (a, b, c) = (try Identity.generate(), try Identity.generate(), try Identity.generate())
        let ab = try a.pairSecret(withPeerCertificate: b.certificateDER)
        #expect(ab.count == Identity.pairSecretLength)
        #expect(try b.pairSecret(withPeerCertificate: a.certificateDER) == ab)
        #expect(try a.pairSecret(withPeerCertificate: b.certificateDER) == ab, "the same at every connection")
        let ac = try a.pairSecret(withPeerCertificate: c.certificateDER)
        let bc = try b.pairSecret(withPeerCertificate: c.certificateDER)
        #expect(ac != ab && bc != ab && ac != bc)
        #expect(try c.pairSecret(withPeerCertificate: a.certificateDER) == ac)
    }

    @Test func anythingButACertificateWithAP256KeyIsRefused() {
        let a = try! Identity.generate()
        #expect(throws: IdentityError.self) { try a.pairSecret(withPeerCertificate: []) }
        #expect(throws: IdentityError.self) { try a.pairSecret(withPeerCertificate: Array(a.certificateDER.dropLast())) }
    }
}
