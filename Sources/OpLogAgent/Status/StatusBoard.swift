import Synchronization

/// Where the core publishes the node's ``NodeStatus`` and any other service reads it: a lock
/// around one value, so readers never wait for the core or see a half-made snapshot.
public final class StatusBoard: Sendable {
    private let current: Mutex<NodeStatus?>

    public init() {
        self.current = Mutex(nil)
    }

    /// The latest snapshot; `nil` until the node has indexed its sessions.
    public var snapshot: NodeStatus? {
        self.current.withLock { $0 }
    }

    /// Replaces the snapshot. The core calls it; `package` so that tests of the readers can
    /// publish a snapshot of their own.
    package func publish(_ status: NodeStatus) {
        self.current.withLock { $0 = status }
    }
}
