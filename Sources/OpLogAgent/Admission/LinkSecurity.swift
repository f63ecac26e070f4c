import Logging
import NIOCore
import NIOSSL
import OpLogIdentity
import OpLogWire
import Synchronization

/// Everything a link's pipeline needs to admit a peer (DESIGN §7): the TLS contexts made once
/// from the node's identity, the IDs the listener accepts, the book of refusals and the count
/// of connections not admitted yet.
///
/// Shared by the listener and the dialler (a `final class`, `Sendable`): handlers are made per
/// connection from it on event loops, so each of its calls is quick.
final class LinkSecurity: Sendable {
    let tls: LinkTLS
    let accepted: AcceptedPeers
    let book: AdmissionBook
    let handshakeTimeout: Duration
    let maximumUnadmitted: Int
    let logger: Logger
    private let unadmitted = Atomic<Int>(0)

    init(
        tls: LinkTLS,
        accepted: AcceptedPeers,
        book: AdmissionBook,
        handshakeTimeout: Duration,
        maximumUnadmitted: Int,
        logger: Logger
    ) {
        self.tls = tls
        self.accepted = accepted
        self.book = book
        self.handshakeTimeout = handshakeTimeout
        self.maximumUnadmitted = maximumUnadmitted
        self.logger = logger
    }

    /// Takes a slot among the connections not yet admitted; `false` when all are taken.
    func reserveSlot() -> Bool {
        var current = self.unadmitted.load(ordering: .relaxed)
        while current < self.maximumUnadmitted {
            let (exchanged, original) = self.unadmitted.compareExchange(
                expected: current,
                desired: current + 1,
                ordering: .acquiringAndReleasing
            )
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Gives a slot back.
    func releaseSlot() {
        self.unadmitted.subtract(1, ordering: .acquiringAndReleasing)
    }

    /// Connections holding a slot now.
    var unadmittedCount: Int { self.unadmitted.load(ordering: .relaxed) }

    /// The handler for a connection accepted from `address`: admits the accepted IDs; an
    /// unknown ID is counted, listed as pending and logged (at most once per interval per ID)
    /// with the option that lets it in.
    func serverHandler(address: String, admission: LinkAdmission) -> NIOSSLServerHandler {
        let book = self.book
        let logger = self.logger
        return self.tls.makeServerHandler(accepting: .members(of: self.accepted)) { refusal in
            admission.markRefused()
            let id = refusal.presentedID.description
            switch refusal.reason {
            case .notAccepted:
                guard book.refused(id, address: address, reason: .notAccepted, isPending: true) else { return }
                logger.warning(
                    "refused a node that is not accepted; to let it in, run with --accept \(id)",
                    metadata: ["peer.node": "\(id)", "address": "\(address)", "hint": "--accept \(id)"]
                )
            case .ownID:
                guard book.refused(id, address: address, reason: .ownID, isPending: false) else { return }
                logger.warning(
                    "refused a connection presenting this node's own ID",
                    metadata: ["peer.node": "\(id)", "address": "\(address)"]
                )
            }
        }
    }

    /// The handler for a connection dialled to `peer` at `address`: admits only `peer`'s ID;
    /// another is counted and logged (at most once per interval per ID).
    ///
    /// - Throws: ``IdentityError`` when NIOSSL cannot make the handler.
    func clientHandler(
        expecting peer: NodeFingerprint,
        address: String,
        admission: LinkAdmission
    ) throws(IdentityError) -> NIOSSLClientHandler {
        let book = self.book
        let logger = self.logger
        return try self.tls.makeClientHandler(expecting: peer) { refusal in
            admission.markRefused()
            let id = refusal.presentedID.description
            let reason: NodeStatus.RefusalReason = refusal.reason == .ownID ? .ownID : .wrongPeer
            guard book.refused(id, address: address, reason: reason, isPending: false) else { return }
            logger.warning(
                "dialled address answered with another node ID than its --peer names; not linking",
                metadata: [
                    "address": "\(address)", "peer.expected": "\(peer)", "peer.presented": "\(id)",
                ]
            )
        }
    }
}
