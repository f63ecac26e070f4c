import OpLog
import SystemPackage
import Testing

@testable import OpLogWatch

/// The retry schedule for session folders that could not be watched: events in, notes out.
@Suite("watch retries")
struct WatchRetriesTests {
    let session: SessionID
    let start = ContinuousClock.now

    init() throws {
        self.session = try SessionID(validating: "s")
    }

    @Test func failuresBackOffToTheMaximumAndSayWhenToWarn() {
        var retries = WatchRetries(policy: WatchRetryPolicy(initialDelay: .seconds(1), maximumDelay: .seconds(4)))
        #expect(retries.failed(self.session, error: .noSpace, now: self.start) == .failed)
        #expect(retries.due(at: self.start).isEmpty)
        #expect(retries.due(at: self.start + .seconds(1)) == [self.session])
        #expect(retries.failed(self.session, error: .noSpace, now: self.start + .seconds(1)) == .failedAgain)
        #expect(retries.failures[self.session]?.delay == .seconds(2))
        #expect(retries.failed(self.session, error: .noSpace, now: self.start + .seconds(3)) == .reachedMaximumDelay)
        #expect(retries.failed(self.session, error: .noSpace, now: self.start + .seconds(7)) == .failedAgain)
        #expect(retries.failures[self.session]?.delay == .seconds(4))
        // Another reason is news again.
        #expect(retries.failed(self.session, error: .permissionDenied, now: self.start + .seconds(11)) == .failed)
        #expect(retries.unwatched == [self.session])
        #expect(retries.succeeded(self.session)?.attempts == 5)
        #expect(retries.unwatched.isEmpty)
        #expect(retries.succeeded(self.session) == nil)
    }

    @Test func aVanishedFolderIsForgottenNotRetried() {
        var retries = WatchRetries(policy: WatchRetryPolicy())
        _ = retries.failed(self.session, error: .noSpace, now: self.start)
        #expect(retries.failed(self.session, error: .noSuchFileOrDirectory, now: self.start) == .vanished)
        #expect(retries.unwatched.isEmpty)
        #expect(retries.due(at: self.start + .seconds(3600)).isEmpty)
    }

    @Test func aRescanMakesEveryRetryDue() throws {
        var retries = WatchRetries(policy: WatchRetryPolicy(initialDelay: .seconds(60)))
        let other = try SessionID(validating: "t")
        _ = retries.failed(other, error: .noSpace, now: self.start)
        _ = retries.failed(self.session, error: .noSpace, now: self.start)
        #expect(retries.due(at: self.start + .seconds(1)).isEmpty)
        retries.makeAllDue(at: self.start + .seconds(1))
        #expect(retries.due(at: self.start + .seconds(1)) == [self.session, other])
    }
}
