import NIOCore
import NIOEmbedded
import NIOSSL
import OpLogIdentity
import Testing

/// DESIGN §7: links are TLS 1.3 only, both sides present their certificate, and each side pins
/// the other's node ID. Real handshakes over loopback TCP.
@Suite("TLS links")
struct LinkTLSTests {
    let listener: Identity
    let dialler: Identity
    let stranger: Identity

    init() throws {
        self.listener = try Identity.generate()
        self.dialler = try Identity.generate()
        self.stranger = try Identity.generate()
    }

    @Test func pinnedPeersLinkAndBytesFlowBothWays() async throws {
        let listening = try LinkTLS(identity: self.listener)
        let dialling = try LinkTLS(identity: self.dialler)
        let diallerRefusals = Recorder<PeerRefusal>()
        let listenerID = self.listener.nodeID
        try await LoopbackLinks.withListener(listening, accepting: .only(self.dialler.nodeID)) { server in
            let dialled = await LoopbackLinks.dial(port: server.port, tls: dialling) {
                try dialling.makeClientHandler(expecting: listenerID) { diallerRefusals.append($0) }
            }
            #expect(dialled.received == Array(LoopbackLinks.serverGreeting.utf8), "\(dialled)")
            #expect(dialled.peer == self.listener.nodeID)
            let served = try await server.nextServed()
            #expect(served.received == Array(LoopbackLinks.clientGreeting.utf8), "\(served)")
            #expect(served.peer == self.dialler.nodeID)
            // Both ends agree the pair's secret from the certificates the handshake verified.
            let expected = try self.listener.pairSecret(withPeerCertificate: self.dialler.certificateDER)
            #expect(served.pairSecret == expected)
            #expect(dialled.pairSecret == expected)
            #expect(server.refusals.all.isEmpty)
            #expect(diallerRefusals.all.isEmpty)
        }
    }

    @Test func aWrongPinFailsTheHandshakeAndReportsWhatWasPresented() async throws {
        let listening = try LinkTLS(identity: self.listener)
        let dialling = try LinkTLS(identity: self.dialler)
        let diallerRefusals = Recorder<PeerRefusal>()
        let strangerID = self.stranger.nodeID
        try await LoopbackLinks.withListener(listening, accepting: .only(self.dialler.nodeID)) { server in
            // The dialler expects the stranger at this address; the listener answers.
            let dialled = await LoopbackLinks.dial(port: server.port) {
                try dialling.makeClientHandler(expecting: strangerID) { diallerRefusals.append($0) }
            }
            #expect(dialled.received.isEmpty, "\(dialled)")
            #expect(dialled.error != nil)
            #expect(dialled.peer == nil)
            #expect(diallerRefusals.all == [PeerRefusal(presentedID: self.listener.nodeID, reason: .notAccepted)])
            let served = try await server.nextServed()
            #expect(served.received.isEmpty, "\(served)")
            #expect(served.error != nil)
        }
    }

    @Test func anUnknownClientGetsNoDataAndIsReported() async throws {
        let listening = try LinkTLS(identity: self.listener)
        let unknown = try LinkTLS(identity: self.stranger)
        let listenerID = self.listener.nodeID
        try await LoopbackLinks.withListener(listening, accepting: .only(self.dialler.nodeID)) { server in
            // The stranger pins the listener correctly; in TLS 1.3 its own handshake completes
            // before the listener has checked it, so what matters is that nothing comes back.
            let dialled = await LoopbackLinks.dial(port: server.port) {
                try unknown.makeClientHandler(expecting: listenerID) { _ in }
            }
            #expect(dialled.received.isEmpty, "\(dialled)")
            let served = try await server.nextServed()
            #expect(served.received.isEmpty, "the listener read nothing it sent: \(served)")
            #expect(served.peer == nil)
            #expect(server.refusals.all == [PeerRefusal(presentedID: self.stranger.nodeID, reason: .notAccepted)])
        }
    }

    @Test func theAcceptedSetMayChangeWhileListening() async throws {
        let listening = try LinkTLS(identity: self.listener)
        let dialling = try LinkTLS(identity: self.dialler)
        let accepted = AcceptedPeers()
        let listenerID = self.listener.nodeID
        let dial: @Sendable (Int) async -> LoopbackLinks.Dialled = { port in
            await LoopbackLinks.dial(port: port) { try dialling.makeClientHandler(expecting: listenerID) { _ in } }
        }
        try await LoopbackLinks.withListener(listening, accepting: .members(of: accepted)) { server throws in
            #expect(await dial(server.port).received.isEmpty)
            #expect(try await server.nextServed().received.isEmpty)
            accepted.insert(self.dialler.nodeID)
            #expect(await dial(server.port).received == Array(LoopbackLinks.serverGreeting.utf8))
            #expect(try await server.nextServed().peer == self.dialler.nodeID)
            accepted.remove(self.dialler.nodeID)
            #expect(await dial(server.port).received.isEmpty)
            #expect(try await server.nextServed().received.isEmpty)
            #expect(server.refusals.all.map(\.presentedID) == [self.dialler.nodeID, self.dialler.nodeID])
            #expect(accepted.snapshot.isEmpty)
        }
    }

    @Test func ourOwnIDIsRefusedEvenWhenThePolicyAdmitsIt() async throws {
        let listening = try LinkTLS(identity: self.listener)
        let listenerID = self.listener.nodeID
        let copy = try LoopbackLinks.plainClientContext(presenting: self.listener, maximumVersion: .tlsv13)
        try await LoopbackLinks.withListener(listening, accepting: PeerPolicy { _ in true }) { server in
            // A client presenting the listener's own certificate (a copied identity).
            let dialled = await LoopbackLinks.dial(port: server.port) {
                try NIOSSLClientHandler(context: copy, serverHostname: nil)
            }
            #expect(dialled.received.isEmpty, "\(dialled)")
            _ = try await server.nextServed()
            #expect(server.refusals.all == [PeerRefusal(presentedID: listenerID, reason: .ownID)])

            // A node dialling itself refuses on its own side too.
            let selfRefusals = Recorder<PeerRefusal>()
            let looped = await LoopbackLinks.dial(port: server.port) {
                try listening.makeClientHandler(expecting: listenerID) { selfRefusals.append($0) }
            }
            #expect(looped.received.isEmpty)
            #expect(selfRefusals.all == [PeerRefusal(presentedID: listenerID, reason: .ownID)])
        }
    }

    @Test func aTLS12OnlyClientIsRefused() async throws {
        let listening = try LinkTLS(identity: self.listener)
        let old = try LoopbackLinks.plainClientContext(presenting: self.dialler, maximumVersion: .tlsv12)
        try await LoopbackLinks.withListener(listening, accepting: .only(self.dialler.nodeID)) { server in
            let dialled = await LoopbackLinks.dial(port: server.port) {
                try NIOSSLClientHandler(context: old, serverHostname: nil)
            }
            #expect(dialled.received.isEmpty, "\(dialled)")
            #expect(dialled.error != nil)
            let served = try await server.nextServed()
            #expect(served.received.isEmpty)
            #expect(served.error != nil)
            #expect(server.refusals.all.isEmpty, "refused before any certificate was looked at")
        }
    }

    @Test func theSameClientOverTLS13IsAdmitted() async throws {
        // The control for the TLS 1.2 test: the same plain client, only its version differs.
        let listening = try LinkTLS(identity: self.listener)
        let current = try LoopbackLinks.plainClientContext(presenting: self.dialler, maximumVersion: .tlsv13)
        try await LoopbackLinks.withListener(listening, accepting: .only(self.dialler.nodeID)) { server in
            let dialled = await LoopbackLinks.dial(port: server.port) {
                try NIOSSLClientHandler(context: current, serverHostname: nil)
            }
            #expect(dialled.received == Array(LoopbackLinks.serverGreeting.utf8), "\(dialled)")
            let served = try await server.nextServed()
            #expect(served.peer == self.dialler.nodeID)
        }
    }

    @Test func policyRefusals() throws {
        let own = self.listener.nodeID
        let peer = self.dialler.nodeID
        #expect(PeerPolicy.only(peer).refusal(of: peer, ownID: own) == nil)
        #expect(PeerPolicy.only(peer).refusal(of: self.stranger.nodeID, ownID: own) == .notAccepted)
        #expect(PeerPolicy.only(own).refusal(of: own, ownID: own) == .ownID)
        #expect(PeerPolicy { _ in true }.refusal(of: own, ownID: own) == .ownID)
        #expect(PeerPolicy.members(of: AcceptedPeers([peer])).refusal(of: peer, ownID: own) == nil)
    }

    @Test func noVerifiedPeerBeforeAHandshakeNorWithoutTLS() throws {
        let plain = EmbeddedChannel()
        let error = try #require(throws: IdentityError.self) {
            try LinkTLS.verifiedPeer(in: plain.pipeline.syncOperations)
        }
        #expect(error.code == .tls)
        let tls = try LinkTLS(identity: self.listener)
        let idle = EmbeddedChannel(handler: tls.makeServerHandler(accepting: .only(self.dialler.nodeID)) { _ in })
        #expect(try LinkTLS.verifiedPeer(in: idle.pipeline.syncOperations) == nil)
    }
}
