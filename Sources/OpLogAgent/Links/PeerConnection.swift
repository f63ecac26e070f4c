import Logging
import NIOCore
import NIOSSL
import OpLogIdentity
import OpLogReplication
import OpLogWire

#if canImport(Glibc)
import Glibc
#endif

/// One TLS connection to a peer, from handshake to close.
enum PeerConnection {
    /// Runs the connection: once the TLS handshake completed, exchanges hellos (`hello` with a
    /// nonce of its own for this connection, so that each link has its own reconciliation key,
    /// and `takesEntries` false for a peer whose rules say `receive: false`), checks that the
    /// peer's hello names the node ID its certificate proved (``LinkTLS/verifiedPeer(of:)``),
    /// agrees the pair's key with it (``LinkTLS/pairSecret(on:)``, the same at every
    /// connection to this peer, for the fingerprints the engine keeps between them),
    /// admits it (``LinkAdmission/admit()``: full-size frames, no deadline), registers the link
    /// with the core, then pumps
    /// messages both ways until either side closes it. Returns the peer's node id once the
    /// handshake succeeded (`nil` if it did not).
    ///
    /// Outgoing messages queue in the link's ``LinkOutbox`` (bounded in bytes; entries queue as
    /// places in the file and are read when written) and are written as the socket accepts
    /// them, so a slow peer slows this link's writer and nothing else. Incoming messages are handed to the core one at a time, so a busy core makes
    /// NIO stop reading from the socket.
    ///
    /// A connection refused before its link is registered (no hello, a hello that fails
    /// ``Hello/validate(peer:)``, a second link to a linked peer) is counted by the core under
    /// its ``NodeStatus/RefusalReason``. The link carries `adopted`'s traffic counts and `dialled`, so
    /// the status shows both.
    static func run(
        _ adopted: LinkPipeline.Adopted,
        admission: LinkAdmission,
        tls: LinkTLS,
        dialled: PeerAddress?,
        core: AgentCore,
        hello: Hello,
        logger: Logger
    ) async -> NodeID? {
        let channel = adopted.connection
        let address = channel.channel.remoteAddress.map(Self.describe) ?? "unknown"
        let underlying = channel.channel
        var peerID: NodeID?
        var hello = hello
        hello.nonce = Hello.makeNonce()
        do {
            try await channel.executeThenClose { inbound, outbound in
                // The hello says whether this node takes the peer's entries, by the peer's
                // rules: known once TLS has verified who the peer is, which neither side needs
                // the other's hello for.
                try await adopted.handshake.get()
                if let verified = try await LinkTLS.verifiedPeer(of: underlying) {
                    hello.takesEntries = core.configuration.rules(for: verified)?.isReceiving ?? true
                }
                try await outbound.write(.hello(hello))
                var messages = inbound.makeAsyncIterator()
                guard let first = try await messages.next() else {
                    await core.connectionRefused(.noHello)
                    throw AgentError(
                        code: .handshake,
                        message: "peer at \(address) closed the connection before its hello"
                    )
                }
                guard case .hello(let peerHello) = first else {
                    await core.connectionRefused(.noHello)
                    throw AgentError(code: .handshake, message: "peer at \(address) spoke before its hello")
                }
                do throws(WireError) {
                    try hello.validate(peer: peerHello)
                } catch {
                    await core.connectionRefused(NodeStatus.RefusalReason(error))
                    throw AgentError(code: .handshake, message: "refusing peer at \(address): \(Self.describe(error))")
                }
                let verified = try await Self.checkIdentity(of: peerHello, on: underlying, address: address, core: core)
                let pairKey = try await tls.pairSecret(on: underlying).map(ReconciliationKey.init(pairSecret:))
                admission.admit()
                let peer = verified.nodeID
                peerID = peer
                let configured = core.configuration.rules(for: verified) ?? .everything
                let outbox = LinkOutbox(budget: core.configuration.links.maximumLinkQueueBytes)
                let link = LinkHandle(
                    peer: peer,
                    reconciliationKey: hello.reconciliationKey(with: peerHello),
                    pairKey: pairKey,
                    dialer: dialled != nil ? core.nodeID : peer,
                    address: address,
                    rules: PeerRules(
                        sessions: configured.sessions,
                        receives: configured.isReceiving,
                        peerReceives: peerHello.takesEntries
                    ),
                    dialled: dialled,
                    outbox: outbox,
                    traffic: adopted.traffic,
                    close: { underlying.close(promise: nil) }
                )
                guard await core.register(link) else { return }
                let reader = ShipmentReader(layout: core.configuration.layout, logger: logger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await item in outbox.items {
                            outbox.taken(item)
                            switch item {
                            case .message(let message):
                                try await outbound.write(message)
                            case .shipment(let shipment):
                                try await outbound.write(.replication(.entries(reader.batch(for: shipment))))
                            }
                            outbox.written()
                        }
                    }
                    defer {
                        outbox.finish()
                        group.cancelAll()
                    }
                    do {
                        while let message = try await messages.next() {
                            switch message {
                            case .replication(.entries(let batch)):
                                // Parsed and checked here, beside the core, which then only
                                // merges them.
                                await core.receive(CheckedEntryBatch(batch), on: link)
                            case .replication(let replication):
                                await core.receive(replication, on: link)
                            case .hello:
                                throw AgentError(
                                    code: .peerProtocol,
                                    message: "peer \(peer) at \(address) sent a second hello"
                                )
                            case .ping, .pong:
                                continue
                            }
                        }
                        await core.unregister(link)
                    } catch {
                        await core.unregister(link)
                        throw error
                    }
                }
            }
        } catch is CancellationError {
            logger.debug("connection closed on shutdown", metadata: ["address": "\(address)"])
        } catch {
            let level: Logger.Level
            if peerID != nil {
                level = .info
            } else if admission.wasReported {
                // The refusal or the deadline was counted and logged (rate-limited) already.
                level = .debug
            } else if error is NIOSSLError || error is BoringSSLError {
                core.admissions.count(.tlsFailed)
                level = .info
            } else {
                level = .warning
            }
            logger.log(
                level: level,
                "connection closed: \(Self.describe(error))",
                metadata: ["address": "\(address)", "peer": "\(peerID?.rawValue ?? "unknown")"]
            )
        }
        return peerID
    }

    /// The ID the peer's certificate proved, which its hello must name too (compared as node
    /// IDs: case and dashes aside); the peer must be one the node admits.
    ///
    /// - Throws: ``AgentError`` `.handshake` when the hello names another ID (counted), or the
    ///   channel has no verified peer.
    private static func checkIdentity(
        of hello: Hello,
        on channel: any Channel,
        address: String,
        core: AgentCore
    ) async throws -> NodeFingerprint {
        guard let verified = try await LinkTLS.verifiedPeer(of: channel) else {
            throw AgentError(code: .handshake, message: "peer at \(address) has no verified certificate")
        }
        guard let named = try? NodeFingerprint(parsing: hello.nodeID), named == verified else {
            core.admissions.count(.helloMismatch)
            throw AgentError(
                code: .handshake,
                message: "refusing peer at \(address): its certificate is node \(verified) but its hello names "
                    + "\(String(reflecting: hello.nodeID))"
            )
        }
        guard core.configuration.admittedIDs.contains(verified) else {
            throw AgentError(code: .handshake, message: "refusing peer \(verified) at \(address): not accepted")
        }
        return verified
    }

    static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? AgentError { return error.message }
        if let error = error as? WireError { return error.message }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        return "\(error)"
    }
}
