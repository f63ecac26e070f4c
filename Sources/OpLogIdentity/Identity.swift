public import Crypto
public import Foundation
import SwiftASN1
public import X509

/// A node's identity: its P-256 private key and the self-signed X.509 certificate it presents
/// on every link, whose SHA-256 is its ``nodeID``.
///
/// Made once per node by ``generate(now:)`` and kept in the state folder by ``IdentityStore``;
/// ``LinkTLS`` builds the TLS contexts from it. A value type: safe to share between threads.
public struct Identity: Sendable {
    /// The name in the certificate's subject and issuer. Nothing checks it: peers know each
    /// other by ``nodeID`` alone.
    public static let commonName = "oplog-sync"

    /// The private key; it never leaves the node (only ``IdentityStore`` writes it, mode 0600).
    public let privateKey: P256.Signing.PrivateKey
    /// The certificate, parsed.
    public let certificate: Certificate
    /// The certificate exactly as stored and presented in the TLS handshake: what ``nodeID`` is
    /// the hash of.
    public let certificateDER: [UInt8]
    /// The node ID: SHA-256 of ``certificateDER``.
    public let nodeID: NodeFingerprint

    /// An identity from a key and the DER bytes of the certificate made for it.
    ///
    /// - Throws: ``IdentityError`` `.invalidCertificate` when `certificateDER` is not an X.509
    ///   certificate, `.mismatchedPair` when its public key is not `privateKey`'s. The message
    ///   names neither file; ``IdentityStore`` says which.
    public init(privateKey: P256.Signing.PrivateKey, certificateDER: [UInt8]) throws(IdentityError) {
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: certificateDER)
        } catch {
            throw IdentityError(code: .invalidCertificate, message: "not an X.509 certificate: \(error)", cause: error)
        }
        guard certificate.publicKey == Certificate.PublicKey(privateKey.publicKey) else {
            throw IdentityError(code: .mismatchedPair, message: "the key is not the one the certificate was made for")
        }
        self.privateKey = privateKey
        self.certificate = certificate
        self.certificateDER = certificateDER
        self.nodeID = NodeFingerprint(certificateDER: certificateDER)
    }

    /// A new identity: a fresh P-256 key and a self-signed certificate for it (X.509 v3, a
    /// random 20-byte serial number, subject and issuer `CN=oplog-sync`, ECDSA with SHA-256,
    /// not a CA, key usage digital signature, extended key usage TLS server and client).
    ///
    /// Valid from a day before `now` (a peer whose clock is behind still sees it valid) until
    /// 9999-12-31 23:59:59 UTC, RFC 5280's "no well-defined expiration date": a node ID must
    /// not expire, since renewing the certificate would change it.
    ///
    /// - Throws: ``IdentityError`` `.invalidCertificate` if swift-certificates cannot make or
    ///   encode the certificate (not expected).
    public static func generate(now: Date = Date()) throws(IdentityError) -> Identity {
        let key = P256.Signing.PrivateKey()
        let signingKey = Certificate.PrivateKey(key)
        do {
            let name = try DistinguishedName { CommonName(Self.commonName) }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: signingKey.publicKey,
                notValidBefore: now.addingTimeInterval(-86_400),
                notValidAfter: Date(timeIntervalSince1970: 253_402_300_799),
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: signingKey
            )
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return try Identity(privateKey: key, certificateDER: serializer.serializedBytes)
        } catch let error as IdentityError {
            throw error
        } catch {
            throw IdentityError(code: .invalidCertificate, message: "cannot make a certificate: \(error)", cause: error)
        }
    }

    /// The key as PEM (PKCS #8, `-----BEGIN PRIVATE KEY-----`), with a final newline: what
    /// `identity/key.pem` holds.
    public var privateKeyPEM: String { self.privateKey.pemRepresentation + "\n" }

    /// The certificate as PEM (`-----BEGIN CERTIFICATE-----`), with a final newline: what
    /// `identity/cert.pem` holds.
    public var certificatePEM: String {
        PEMDocument(type: "CERTIFICATE", derBytes: self.certificateDER).pemString + "\n"
    }
}
