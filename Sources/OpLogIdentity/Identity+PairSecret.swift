import Crypto
import SwiftASN1
import X509

extension Identity {
    /// The bytes of a ``pairSecret(withPeerCertificate:)``.
    public static let pairSecretLength = 32

    /// A secret that only this node and the holder of the key of `peerCertificateDER` can
    /// compute: the same on both sides (each passes the other's certificate) and at every
    /// connection between them, and different for every pair of nodes.
    ///
    /// It keys what two nodes keep about each other from one connection to the next, such as
    /// the fingerprints of whole sessions that let two nodes in sync reconnect without hashing
    /// their logs again (``OpLogReplication/ReconciliationKey/init(pairSecret:)``). ECDH of the
    /// two nodes' P-256 keys, then HKDF-SHA256 with a label of its own and both node IDs in
    /// byte order. The key that signs this node's TLS handshakes agrees the secret: ECDSA and
    /// ECDH with one key are jointly secure (Degabriele, Lehmann, Paterson, Smart and Strefler,
    /// "On the Joint Security of Encryption and Signature in EMV", CT-RSA 2012), and the label
    /// keeps the secret apart from any other use of the key.
    ///
    /// - Parameter peerCertificateDER: The peer's certificate, as the TLS handshake verified it.
    /// - Returns: ``pairSecretLength`` bytes.
    /// - Throws: ``IdentityError`` `.invalidCertificate` when `peerCertificateDER` is not an
    ///   X.509 certificate with a P-256 key.
    public func pairSecret(withPeerCertificate peerCertificateDER: [UInt8]) throws(IdentityError) -> [UInt8] {
        let peerKey: P256.KeyAgreement.PublicKey
        let ownKey: P256.KeyAgreement.PrivateKey
        do {
            let certificate = try Certificate(derEncoded: peerCertificateDER)
            guard let signingKey = P256.Signing.PublicKey(certificate.publicKey) else {
                throw IdentityError(code: .invalidCertificate, message: "the peer's certificate has no P-256 key")
            }
            peerKey = try P256.KeyAgreement.PublicKey(rawRepresentation: signingKey.rawRepresentation)
            ownKey = try P256.KeyAgreement.PrivateKey(rawRepresentation: self.privateKey.rawRepresentation)
        } catch let error as IdentityError {
            throw error
        } catch {
            throw IdentityError(
                code: .invalidCertificate,
                message: "cannot agree a secret with the peer's certificate: \(error)",
                cause: error
            )
        }
        let shared: SharedSecret
        do {
            shared = try ownKey.sharedSecretFromKeyAgreement(with: peerKey)
        } catch {
            throw IdentityError(
                code: .invalidCertificate,
                message: "cannot agree a secret with the peer's certificate: \(error)",
                cause: error
            )
        }
        let ids = [self.nodeID, NodeFingerprint(certificateDER: peerCertificateDER)].sorted()
        let key = shared.hkdfDerivedSymmetricKey(
            using: SHA256.self,
            salt: Array("oplog-sync pair secret v1".utf8),
            sharedInfo: ids[0].bytes + ids[1].bytes,
            outputByteCount: Self.pairSecretLength
        )
        return key.withUnsafeBytes { Array($0) }
    }
}
