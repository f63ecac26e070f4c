import Foundation
import OpLogIdentity
import Synchronization

/// Node identities made in the test process for the agents of one cluster, so that every
/// agent can be told every other's ID before any of them starts: real keys and certificates,
/// pinned by real TLS, as `oplog-sync id` would make them.
///
/// The pool starts with `initialCount` identities and makes more when they run out (agents
/// started before that do not accept the new ones until they restart).
final class IdentityPool: Sendable {
    private let state: Mutex<(identities: [Identity], taken: Int)>

    init(initialCount: Int = 16) throws {
        self.state = Mutex((try (0..<initialCount).map { _ in try Identity.generate() }, 0))
    }

    /// The next identity nobody has.
    func take() throws -> Identity {
        let next: Identity? = self.state.withLock { state in
            guard state.taken < state.identities.count else { return nil }
            defer { state.taken += 1 }
            return state.identities[state.taken]
        }
        if let next { return next }
        let made = try Identity.generate()
        self.state.withLock { state in
            state.identities.append(made)
            state.taken = state.identities.count
        }
        return made
    }

    /// Every ID of the pool, taken or not.
    var ids: [String] { self.state.withLock { $0.identities.map(\.nodeID.description) } }

    /// Writes `identity` as `STATE/identity/key.pem` (0600) and `cert.pem` (0644), as
    /// `IdentityStore` lays it out; the folders are made (0700) if missing.
    static func install(_ identity: Identity, inStateFolder state: String) throws {
        let folder = state + "/identity"
        try FileManager.default.createDirectory(
            atPath: folder,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: state)
        try Data(identity.privateKeyPEM.utf8).write(to: URL(fileURLWithPath: folder + "/key.pem"))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: folder + "/key.pem")
        try Data(identity.certificatePEM.utf8).write(to: URL(fileURLWithPath: folder + "/cert.pem"))
    }
}
