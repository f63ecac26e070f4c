import OpLog
import OpLogReplication

/// What each peer acknowledged, per session, as the engine reported it, and how its record in
/// the state folder stands.
struct ProgressBook: Sendable {
    /// The latest acknowledged sequence per peer and session.
    private(set) var acknowledged: [NodeID: [SessionID: UInt64]] = [:]
    /// Changed since the record was last handed to be written.
    var isDirty = false
    var lastSave = ContinuousClock.now
    /// Records handed to the thread pool and not written yet.
    var savesInFlight = 0

    /// The progress restored at start.
    mutating func restore(_ acknowledged: [NodeID: [SessionID: UInt64]]) {
        self.acknowledged = acknowledged
    }

    mutating func record(peer: NodeID, session: SessionID, acknowledged: UInt64) {
        self.acknowledged[peer, default: [:]][session] = acknowledged
        self.isDirty = true
    }

    /// Every peer's progress of `session` is 0 now (its local file was reset).
    mutating func resetSession(_ session: SessionID) {
        for peer in self.acknowledged.keys where self.acknowledged[peer]?[session] != nil {
            self.acknowledged[peer]?[session] = 0
            self.isDirty = true
        }
    }

    /// Whether a record is due: something changed and the last save is `interval` old.
    func isSaveDue(interval: Duration) -> Bool {
        self.isDirty && ContinuousClock.now - self.lastSave >= interval
    }
}
