import DequeModule
import OpLog
import OpLogReplication

/// When each stretch of a session's sequence became durable on this node, kept in bounded
/// memory: what the age of a peer's oldest unacknowledged entry (its lag in seconds) is read
/// from.
///
/// Each session keeps at most ``capacity`` marks, "entries up to `through` were durable at
/// `at`", rising in both. When a new mark would pass the capacity, the two neighbouring marks
/// whose merge costs the least accuracy relative to their age are merged into one that keeps
/// the earlier time: old stretches get coarse, recent ones stay fine, and an age read back is
/// never younger than the truth, only older by at most the gap merged away (a few percent of
/// the age with the default capacity).
struct DurabilityTimeline: Sendable {
    /// One stretch: the entries after the previous mark's `through` up to this one's became
    /// durable by `at` (the core's clock).
    struct Mark: Sendable, Equatable {
        var through: UInt64
        var at: Duration
    }

    /// The most marks a session keeps.
    let capacity: Int
    /// A mark within this much time of the last one extends it instead of adding one.
    let resolution: Duration
    private var marks: [SessionID: Deque<Mark>] = [:]

    init(capacity: Int = 64, resolution: Duration = .milliseconds(50)) {
        precondition(capacity >= 2, "a timeline keeps at least two marks")
        self.capacity = capacity
        self.resolution = resolution
    }

    /// Notes that the session's entries up to `through` are durable at `at` (not earlier than
    /// any time noted before). A `through` at or below an earlier mark's (the session was
    /// renumbered) drops the marks from there on first.
    /// - Complexity: O(``capacity``) when the session is at its capacity, else O(1).
    mutating func noteDurable(_ session: SessionID, through: UInt64, at: Duration) {
        var marks = self.marks[session] ?? []
        while let last = marks.last, last.through >= through { marks.removeLast() }
        if let last = marks.last, at - last.at < self.resolution {
            marks[marks.count - 1].through = through
        } else {
            marks.append(Mark(through: through, at: at))
        }
        if marks.count > self.capacity { Self.mergeCheapestPair(&marks, now: at) }
        self.marks[session] = marks
    }

    /// When the entry with sequence number `sequence` became durable, as far as the marks
    /// tell; `nil` when no mark covers it (not durable yet, or the session is unknown).
    /// - Complexity: O(log ``capacity``).
    func durableTime(of session: SessionID, sequence: UInt64) -> Duration? {
        guard let marks = self.marks[session] else { return nil }
        var low = 0
        var high = marks.count
        while low < high {
            let middle = (low + high) / 2
            if marks[middle].through >= sequence { high = middle } else { low = middle + 1 }
        }
        return low < marks.count ? marks[low].at : nil
    }

    /// Forgets the session (its file was replaced and is numbered anew).
    mutating func forget(_ session: SessionID) {
        self.marks[session] = nil
    }

    /// The session's marks, oldest first (for tests).
    func marks(of session: SessionID) -> [Mark] {
        Array(self.marks[session] ?? [])
    }

    /// Merges the neighbouring pair whose time gap is smallest relative to its age at `now`,
    /// keeping the earlier time and the later `through`.
    private static func mergeCheapestPair(_ marks: inout Deque<Mark>, now: Duration) {
        var cheapest = 0
        var cheapestCost = Double.infinity
        // The newest mark is never merged away: it is what the next mark extends.
        for index in 0..<(marks.count - 2) {
            let gap = (marks[index + 1].at - marks[index].at).inSeconds
            let age = (now - marks[index + 1].at).inSeconds + 1
            let cost = gap / age
            if cost < cheapestCost {
                cheapestCost = cost
                cheapest = index
            }
        }
        marks[cheapest].through = marks[cheapest + 1].through
        marks.remove(at: cheapest + 1)
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var inSeconds: Double {
        let parts = self.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
