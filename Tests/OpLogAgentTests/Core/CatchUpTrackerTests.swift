import OpLogReplication
import Testing

@testable import OpLogAgent

/// Which peers are catching up, at what rate, and when the core logs it: events in, what to do
/// out, no I/O.
@Suite struct CatchUpTrackerTests {
    private let peer = NodeID("laptop")

    @Test func aPeerBelowTheBacklogIsNotCatchingUp() {
        var tracker = CatchUpTracker(backlog: 1_000)
        #expect(tracker.observe(self.peer, done: 1, total: 1_000, now: .zero) == .quiet)
        #expect(tracker.catchUp(of: self.peer) == nil)
    }

    @Test func aCatchUpStartsLogsMeasuresAndEndsOnce() {
        var tracker = CatchUpTracker(backlog: 1_000, sampleInterval: .seconds(1), samplesKept: 3, logInterval: .seconds(5))
        #expect(
            tracker.observe(self.peer, done: 0, total: 10_000, now: .zero)
                == .catchingUp(done: 0, total: 10_000, ratePerSecond: nil),
            "logged at its start"
        )
        #expect(tracker.catchUp(of: self.peer) == NodeStatus.CatchUp(done: 0, total: 10_000, ratePerSecond: nil))
        // Within the sample interval: the position moves, no second sample, so no rate yet.
        #expect(tracker.observe(self.peer, done: 500, total: 10_000, now: .milliseconds(500)) == .quiet)
        #expect(tracker.catchUp(of: self.peer) == NodeStatus.CatchUp(done: 500, total: 10_000, ratePerSecond: nil))
        #expect(tracker.observe(self.peer, done: 1_000, total: 10_000, now: .seconds(1)) == .quiet)
        #expect(tracker.catchUp(of: self.peer)?.ratePerSecond == 1_000)
        #expect(tracker.catchUp(of: self.peer)?.etaSeconds == 9)
        // Three samples kept: the rate spans the last two seconds only.
        _ = tracker.observe(self.peer, done: 2_000, total: 10_000, now: .seconds(2))
        _ = tracker.observe(self.peer, done: 5_000, total: 10_000, now: .seconds(3))
        #expect(tracker.catchUp(of: self.peer)?.ratePerSecond == 2_000)
        #expect(
            tracker.observe(self.peer, done: 6_000, total: 10_000, now: .seconds(5))
                == .catchingUp(done: 6_000, total: 10_000, ratePerSecond: 4_000.0 / 3),
            "logged again after the log interval"
        )
        // Below the backlog now, but still catching up until it lacks nothing.
        #expect(tracker.observe(self.peer, done: 9_999, total: 10_000, now: .seconds(6)) == .quiet)
        #expect(tracker.catchUp(of: self.peer) != nil)
        #expect(tracker.observe(self.peer, done: 10_000, total: 10_000, now: .seconds(7)) == .caughtUp(total: 10_000))
        #expect(tracker.catchUp(of: self.peer) == nil)
        #expect(tracker.observe(self.peer, done: 10_000, total: 10_000, now: .seconds(8)) == .quiet, "once")
    }

    @Test func aDisconnectEndsTheCatchUpWithoutCaughtUp() {
        var tracker = CatchUpTracker(backlog: 10)
        _ = tracker.observe(self.peer, done: 0, total: 100, now: .zero)
        tracker.peerDisconnected(self.peer)
        #expect(tracker.catchUp(of: self.peer) == nil)
        #expect(tracker.observe(self.peer, done: 100, total: 100, now: .seconds(1)) == .quiet)
    }

    @Test func aPeerThatFallsBackIsMeasuredAfresh() {
        var tracker = CatchUpTracker(backlog: 10, sampleInterval: .seconds(1))
        _ = tracker.observe(self.peer, done: 50, total: 100, now: .zero)
        _ = tracker.observe(self.peer, done: 60, total: 100, now: .seconds(1))
        #expect(tracker.catchUp(of: self.peer)?.ratePerSecond == 10)
        _ = tracker.observe(self.peer, done: 0, total: 100, now: .seconds(2))
        #expect(tracker.catchUp(of: self.peer)?.ratePerSecond == nil, "no rate from before the fall")
    }
}
