import Foundation
import Synchronization

/// What the node knows of the connections it refused before admitting them (DESIGN §7): how
/// many, for which reason, and the refused IDs that tried to dial in (``NodeStatus/pending``).
///
/// Written from event loops (a TLS handshake's refusal, a deadline that passed) and read by the
/// core for the status snapshot: a `final class` around a `Mutex`, each call brief. Bounded:
/// at most `maximumPending` IDs are kept (the one refused longest ago goes first), and the
/// counters are one integer per reason, so strangers cannot grow it.
final class AdmissionBook: Sendable {
    private struct State {
        var pending: [NodeStatus.PendingPeer] = []
        var refused: [NodeStatus.RefusalReason: Int] = [:]
        /// When each ID's refusal was last logged, for the rate limit.
        var lastLogged: [String: ContinuousClock.Instant] = [:]
        /// Refusals counted so far, of every reason: the status is due when it moves.
        var total = 0
    }

    let maximumPending: Int
    let logInterval: Duration
    private let state = Mutex(State())

    /// A book keeping at most `maximumPending` refused IDs and logging each at most once per
    /// `logInterval`.
    init(maximumPending: Int, logInterval: Duration) {
        self.maximumPending = maximumPending
        self.logInterval = logInterval
    }

    /// Counts one connection refused for `reason`.
    func count(_ reason: NodeStatus.RefusalReason) {
        self.state.withLock {
            $0.refused[reason, default: 0] += 1
            $0.total += 1
        }
    }

    /// Counts a refusal of `id` for `reason` and, for an unknown ID that dialled in
    /// (`isPending`), lists it as pending with `address` and the time; returns whether the
    /// refusal should be logged: the first time for this ID and reason, then at most once per
    /// ``logInterval``.
    func refused(
        _ id: String,
        address: String,
        reason: NodeStatus.RefusalReason,
        isPending: Bool,
        now: ContinuousClock.Instant = .now,
        wallClock: Date = Date()
    ) -> Bool {
        self.state.withLock { state in
            state.refused[reason, default: 0] += 1
            state.total += 1
            if isPending {
                state.pending.removeAll { $0.id == id }
                state.pending.append(NodeStatus.PendingPeer(id: id, address: address, lastAttempt: wallClock))
                if state.pending.count > self.maximumPending {
                    state.pending.removeFirst(state.pending.count - self.maximumPending)
                }
            }
            let key = "\(reason)|\(id)"
            if let last = state.lastLogged[key], now - last < self.logInterval { return false }
            state.lastLogged[key] = now
            // Bounded as `pending` is: forget the oldest marks once there are many.
            if state.lastLogged.count > 4 * self.maximumPending {
                let cutoff = now - self.logInterval
                state.lastLogged = state.lastLogged.filter { $0.value > cutoff }
            }
            return true
        }
    }

    /// The refused IDs that dialled in, the one refused longest ago first.
    var pending: [NodeStatus.PendingPeer] { self.state.withLock { $0.pending } }

    /// Connections refused so far, by reason.
    var refusals: [NodeStatus.RefusalReason: Int] { self.state.withLock { $0.refused } }

    /// Connections refused so far, of every reason: moves whenever ``pending`` or
    /// ``refusals`` does.
    var totalRefusals: Int { self.state.withLock { $0.total } }
}
