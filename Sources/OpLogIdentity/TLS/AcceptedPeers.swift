import Synchronization

/// A set of node IDs shared between the code that changes it and the TLS handshakes that read
/// it (``PeerPolicy/members(of:)``): a listener's accepted IDs, which may change while it runs.
///
/// A `final class` around a `Mutex`: every call takes the lock briefly, from any thread; a
/// handshake sees the set as it is when its peer's certificate is checked.
public final class AcceptedPeers: Sendable {
    private let ids: Mutex<Set<NodeFingerprint>>

    /// A set holding `ids`.
    public init(_ ids: [NodeFingerprint] = []) {
        self.ids = Mutex(Set(ids))
    }

    /// Whether `id` is in the set.
    public func contains(_ id: NodeFingerprint) -> Bool {
        self.ids.withLock { $0.contains(id) }
    }

    /// Adds `id`; later handshakes admit it.
    public func insert(_ id: NodeFingerprint) {
        _ = self.ids.withLock { $0.insert(id) }
    }

    /// Removes `id`; later handshakes refuse it (links already up are the caller's to close).
    public func remove(_ id: NodeFingerprint) {
        _ = self.ids.withLock { $0.remove(id) }
    }

    /// Replaces the whole set with `ids`, at once.
    public func replaceAll(with ids: some Sequence<NodeFingerprint>) {
        let new = Set(ids)
        self.ids.withLock { $0 = new }
    }

    /// The IDs in the set now.
    public var snapshot: Set<NodeFingerprint> {
        self.ids.withLock { $0 }
    }
}
