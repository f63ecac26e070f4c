import OpLog
import SystemPackage

/// How often the watcher tries again to watch a session folder it could not watch.
public struct WatchRetryPolicy: Sendable, Hashable {
    /// The wait after the first failure; each further failure doubles it.
    public var initialDelay: Duration
    /// The longest wait between two attempts.
    public var maximumDelay: Duration

    /// `initialDelay` 1 s, doubling up to `maximumDelay` 10 s. The watching thread wakes at
    /// least once a second, so attempts fall due with about a second's precision.
    public init(initialDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(10)) {
        self.initialDelay = initialDelay
        self.maximumDelay = max(initialDelay, maximumDelay)
    }
}

/// The session folders the watcher failed to watch, and when to try each again: a state
/// machine with `now` as an input and no I/O (STYLE §7).
struct WatchRetries {
    /// One folder that is not watched.
    struct Failure: Equatable {
        var error: Errno
        /// Failed attempts so far (at least 1).
        var attempts: Int
        /// The wait before the next attempt.
        var delay: Duration
        var nextAttempt: ContinuousClock.Instant
    }

    /// What the owner should log after a failed attempt.
    enum FailureNote: Equatable {
        /// The first failure for this folder, or a failure with another error than the last:
        /// a warning.
        case failed
        /// The wait reached ``WatchRetryPolicy/maximumDelay`` just now: a warning that it keeps
        /// failing.
        case reachedMaximumDelay
        /// Failing again as before: debug at most.
        case failedAgain
        /// The folder does not exist (any more): it is forgotten, not retried; if it comes
        /// back, its creation event watches it.
        case vanished
    }

    let policy: WatchRetryPolicy
    private(set) var failures: [SessionID: Failure] = [:]

    init(policy: WatchRetryPolicy) {
        self.policy = policy
    }

    /// The sessions not watched now, in order.
    var unwatched: [SessionID] { self.failures.keys.sorted() }

    /// An attempt to watch `session` failed with `error` at `now`.
    mutating func failed(_ session: SessionID, error: Errno, now: ContinuousClock.Instant) -> FailureNote {
        if error == .noSuchFileOrDirectory || error == .notDirectory {
            self.failures[session] = nil
            return .vanished
        }
        guard var failure = self.failures[session] else {
            let delay = self.policy.initialDelay
            self.failures[session] = Failure(error: error, attempts: 1, delay: delay, nextAttempt: now + delay)
            return .failed
        }
        let previousDelay = failure.delay
        failure.attempts += 1
        failure.delay = min(failure.delay * 2, self.policy.maximumDelay)
        failure.nextAttempt = now + failure.delay
        let isNewError = failure.error != error
        failure.error = error
        self.failures[session] = failure
        if isNewError { return .failed }
        if failure.delay == self.policy.maximumDelay && previousDelay < self.policy.maximumDelay {
            return .reachedMaximumDelay
        }
        return .failedAgain
    }

    /// An attempt to watch `session` succeeded; returns how it had failed before, if it had.
    mutating func succeeded(_ session: SessionID) -> Failure? {
        self.failures.removeValue(forKey: session)
    }

    /// The sessions whose next attempt is due at `now`, in order.
    func due(at now: ContinuousClock.Instant) -> [SessionID] {
        self.failures.filter { $0.value.nextAttempt <= now }.map(\.key).sorted()
    }

    /// Makes every attempt due at `now` (events were lost, so look at everything again).
    mutating func makeAllDue(at now: ContinuousClock.Instant) {
        for session in self.failures.keys { self.failures[session]?.nextAttempt = now }
    }

    /// Forgets every failure (the whole tree is being watched afresh).
    mutating func removeAll() {
        self.failures.removeAll()
    }
}
