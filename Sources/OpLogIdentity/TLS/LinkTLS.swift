import Crypto
public import NIOCore
public import NIOSSL

/// TLS for links between nodes (DESIGN §7): the two `NIOSSLContext`s made once from the node's
/// identity, and per connection a handler whose verification pins the peer's node ID.
///
/// Both contexts speak TLS 1.3 only (minimum and maximum), present the node's certificate and
/// require the peer's (`certificateVerification: .noHostnameVerification`: no host names, no
/// CA, no trust roots loaded). A custom verification callback replaces BoringSSL's chain
/// checks: it hashes the peer's leaf certificate (``NodeFingerprint/init(certificateDER:)``) and
/// admits the handshake exactly when the ``PeerPolicy`` does and the ID is not this node's own;
/// otherwise the handshake fails with a TLS alert, before any application byte passes, and the
/// refused ID goes to the caller's sink. The peer still proves it holds the certificate's key
/// (TLS 1.3's CertificateVerify), so an ID cannot be claimed by copying a certificate.
///
/// Making a `LinkTLS` is the costly part (two contexts); handlers are cheap. A value holding
/// thread-safe contexts: share it between event loops.
public struct LinkTLS: Sendable {
    /// This node's ID, refused in every handshake.
    public let ownID: NodeFingerprint
    /// The identity the contexts were made from, for ``pairSecret(on:)``.
    private let identity: Identity
    /// The listener's context.
    let serverContext: NIOSSLContext
    /// The dialler's context.
    let clientContext: NIOSSLContext

    /// Builds the server and client contexts from `identity`.
    ///
    /// Does no disk I/O (no system trust store is loaded), but it is CPU work: call it once at
    /// start, off the event loops.
    /// - Throws: ``IdentityError`` `.tls` when BoringSSL refuses the key or certificate.
    public init(identity: Identity) throws(IdentityError) {
        do {
            let certificate = try NIOSSLCertificate(bytes: identity.certificateDER, format: .der)
            let key = try NIOSSLPrivateKey(bytes: Array(identity.privateKey.pemRepresentation.utf8), format: .pem)
            self.serverContext = try NIOSSLContext(
                configuration: Self.configuration(
                    .makeServerConfiguration(
                        certificateChain: [.certificate(certificate)],
                        privateKey: .privateKey(key)
                    )
                )
            )
            var client = TLSConfiguration.makeClientConfiguration()
            client.certificateChain = [.certificate(certificate)]
            client.privateKey = .privateKey(key)
            self.clientContext = try NIOSSLContext(configuration: Self.configuration(client))
        } catch {
            throw IdentityError(
                code: .tls,
                message: "cannot set up TLS with the identity of node \(identity.nodeID): \(error)",
                cause: error
            )
        }
        self.ownID = identity.nodeID
        self.identity = identity
    }

    /// `base` (which holds the certificate and key) restricted to links: TLS 1.3 only, the
    /// peer's certificate required, checked by our callback alone.
    private static func configuration(_ base: TLSConfiguration) -> TLSConfiguration {
        var configuration = base
        configuration.minimumTLSVersion = .tlsv13
        configuration.maximumTLSVersion = .tlsv13
        configuration.certificateVerification = .noHostnameVerification
        // The callback replaces chain validation, so no roots are needed; an empty list keeps
        // the context from reading the system's trust store.
        configuration.trustRoots = .certificates([])
        return configuration
    }

    /// A handler for an accepted connection: admits a peer whose ID `policy` accepts.
    ///
    /// Put it first in the child channel's pipeline. A refused certificate is passed to
    /// `onRefusal` (on the channel's event loop: do not block there) and fails the handshake;
    /// a peer without a certificate, or offering only TLS 1.2 or older, fails it before the
    /// check and is not reported.
    public func makeServerHandler(
        accepting policy: PeerPolicy,
        onRefusal: @escaping @Sendable (PeerRefusal) -> Void
    ) -> NIOSSLServerHandler {
        NIOSSLServerHandler(
            context: self.serverContext,
            customVerificationCallbackWithMetadata: self.verification(policy, onRefusal)
        )
    }

    /// A handler for a dialled connection: admits only a peer presenting `peer`'s certificate.
    ///
    /// Put it first in the channel's pipeline. A different certificate is passed to
    /// `onRefusal` (on the channel's event loop) and fails the handshake. No server name is sent.
    /// - Throws: ``IdentityError`` `.tls` if NIOSSL cannot make the handler (not expected: no
    ///   host name is given).
    public func makeClientHandler(
        expecting peer: NodeFingerprint,
        onRefusal: @escaping @Sendable (PeerRefusal) -> Void
    ) throws(IdentityError) -> NIOSSLClientHandler {
        do {
            return try NIOSSLClientHandler(
                context: self.clientContext,
                serverHostname: nil,
                customVerificationCallbackWithMetadata: self.verification(.only(peer), onRefusal)
            )
        } catch {
            throw IdentityError(
                code: .tls,
                message: "cannot make a TLS handler to dial \(peer): \(error)",
                cause: error
            )
        }
    }

    /// The pinning check: the leaf's ID, admitted or refused.
    private func verification(
        _ policy: PeerPolicy,
        _ onRefusal: @escaping @Sendable (PeerRefusal) -> Void
    ) -> NIOSSLCustomVerificationCallbackWithMetadata {
        let ownID = self.ownID
        return { certificates, promise in
            guard let leaf = certificates.first, let der = try? leaf.toDERBytes() else {
                promise.succeed(.failed)
                return
            }
            let presented = NodeFingerprint(certificateDER: der)
            if let reason = policy.refusal(of: presented, ownID: ownID) {
                onRefusal(PeerRefusal(presentedID: presented, reason: reason))
                promise.succeed(.failed)
            } else {
                // The pinned leaf is the whole chain we trust; NIOSSL keeps it for
                // `verifiedPeer(in:)`.
                promise.succeed(.certificateVerified(VerificationMetadata(ValidatedCertificateChain([leaf]))))
            }
        }
    }

    /// The node ID the pinning check admitted on this channel, or `nil` when it admitted none
    /// (yet).
    ///
    /// Ask after the handshake completed (`TLSUserEvent.handshakeCompleted`, or once the first
    /// application bytes arrived): then it is the ID of the certificate whose key the peer
    /// proved to hold, which the hello's node id must equal. Call it on the channel's event
    /// loop, while the channel is open (a closed channel's pipeline holds no handlers).
    /// - Throws: ``IdentityError`` `.tls` when the pipeline has no NIOSSL handler.
    public static func verifiedPeer(
        in pipeline: ChannelPipeline.SynchronousOperations
    ) throws(IdentityError) -> NodeFingerprint? {
        let handler: NIOSSLHandler
        do {
            handler = try pipeline.handler(type: NIOSSLHandler.self)
        } catch {
            throw IdentityError(code: .tls, message: "the channel has no TLS handler", cause: error)
        }
        guard let leaf = handler.peerValidatedCertificateChain?.leaf, let der = try? leaf.toDERBytes() else {
            return nil
        }
        return NodeFingerprint(certificateDER: der)
    }

    /// The secret this node shares with the peer the pinning check admitted on `channel`
    /// (``Identity/pairSecret(withPeerCertificate:)``), or `nil` when it admitted none (yet).
    /// Ask, from any thread, once ``verifiedPeer(of:)`` named the peer.
    ///
    /// - Throws: ``IdentityError`` `.tls` when the pipeline has no NIOSSL handler (or the
    ///   channel's event loop is shut down), `.invalidCertificate` when the peer's certificate
    ///   holds no P-256 key.
    public func pairSecret(on channel: any Channel) async throws(IdentityError) -> [UInt8]? {
        let der: [UInt8]?
        do {
            der = try await channel.eventLoop.submit { () throws -> [UInt8]? in
                let handler = try channel.pipeline.syncOperations.handler(type: NIOSSLHandler.self)
                return try handler.peerValidatedCertificateChain?.leaf.toDERBytes()
            }.get()
        } catch {
            throw IdentityError(code: .tls, message: "cannot ask the channel for its peer: \(error)", cause: error)
        }
        guard let der else { return nil }
        return try self.identity.pairSecret(withPeerCertificate: der)
    }

    /// ``verifiedPeer(in:)`` from any thread: runs it on `channel`'s event loop.
    ///
    /// - Throws: ``IdentityError`` `.tls` when the pipeline has no NIOSSL handler (or the
    ///   channel's event loop is shut down).
    public static func verifiedPeer(of channel: any Channel) async throws(IdentityError) -> NodeFingerprint? {
        do {
            return try await channel.eventLoop.submit {
                try Self.verifiedPeer(in: channel.pipeline.syncOperations)
            }.get()
        } catch let error as IdentityError {
            throw error
        } catch {
            throw IdentityError(code: .tls, message: "cannot ask the channel for its peer: \(error)", cause: error)
        }
    }
}
