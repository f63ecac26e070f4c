import Synchronization

/// Who uses libinotifytools in this process: its state (`inotifytools_initialize`, the watch
/// table) is global, so one user at a time claims it.
package enum InotifyToolsOwnership {
    private static let isClaimed = Mutex(false)

    /// Claims libinotifytools if nobody holds it; returns whether this call did.
    static func tryClaim() -> Bool {
        self.isClaimed.withLock { isClaimed in
            defer { isClaimed = true }
            return !isClaimed
        }
    }

    static func release() {
        self.isClaimed.withLock { $0 = false }
    }

    /// Runs `body` holding libinotifytools, waiting (polling every 10 ms, at most `timeout`)
    /// for another user to finish; for code outside ``OpLogWatcher`` that calls
    /// libinotifytools directly, such as tests of the C target.
    package static func withClaim<Result>(
        timeout: Duration = .seconds(60),
        _ body: () throws -> Result
    ) async throws -> Result {
        let deadline = ContinuousClock.now + timeout
        while !self.tryClaim() {
            guard ContinuousClock.now < deadline else {
                throw ClaimTimeout()
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        defer { self.release() }
        return try body()
    }

    /// libinotifytools stayed in use for the whole wait.
    package struct ClaimTimeout: Error {}
}
