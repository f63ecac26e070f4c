import OpLog
import OpLogReplication
import Testing

@testable import OpLogAgent

/// The bounded record of when entries became durable, from which a peer's lag in seconds is
/// read: exact while it has room, never younger than the truth once it merges, and bounded.
@Suite struct DurabilityTimelineTests {
    private let session = try! SessionID(validating: "live-1")

    @Test func eachSequenceGetsTheTimeOfTheFirstMarkThatCoversIt() {
        var timeline = DurabilityTimeline()
        timeline.noteDurable(self.session, through: 10, at: .seconds(1))
        timeline.noteDurable(self.session, through: 25, at: .seconds(3))
        #expect(timeline.durableTime(of: self.session, sequence: 1) == .seconds(1))
        #expect(timeline.durableTime(of: self.session, sequence: 10) == .seconds(1))
        #expect(timeline.durableTime(of: self.session, sequence: 11) == .seconds(3))
        #expect(timeline.durableTime(of: self.session, sequence: 25) == .seconds(3))
        #expect(timeline.durableTime(of: self.session, sequence: 26) == nil, "not durable yet")
        #expect(timeline.durableTime(of: try! SessionID(validating: "other"), sequence: 1) == nil)
    }

    @Test func marksWithinTheResolutionExtendTheLastOne() {
        var timeline = DurabilityTimeline(resolution: .milliseconds(50))
        timeline.noteDurable(self.session, through: 1, at: .milliseconds(1000))
        timeline.noteDurable(self.session, through: 2, at: .milliseconds(1020))
        timeline.noteDurable(self.session, through: 3, at: .milliseconds(1100))
        #expect(
            timeline.marks(of: self.session) == [
                .init(through: 2, at: .milliseconds(1000)), .init(through: 3, at: .milliseconds(1100)),
            ]
        )
    }

    @Test func aRenumberedSessionDropsTheMarksBeyondItsNewEnd() {
        var timeline = DurabilityTimeline()
        timeline.noteDurable(self.session, through: 10, at: .seconds(1))
        timeline.noteDurable(self.session, through: 20, at: .seconds(2))
        timeline.noteDurable(self.session, through: 5, at: .seconds(3))
        #expect(timeline.marks(of: self.session) == [.init(through: 5, at: .seconds(3))])
        timeline.forget(self.session)
        #expect(timeline.marks(of: self.session).isEmpty)
    }

    /// An hour of one batch a second into a timeline of 64 marks: it stays at 64, every age read
    /// back is at least the true one, and recent entries keep a fine resolution while old ones
    /// get coarse (the error stays a fraction of the age).
    @Test func mergingKeepsItBoundedAndNeverYoungerThanTheTruth() {
        var timeline = DurabilityTimeline(capacity: 64)
        var truth: [(through: UInt64, at: Duration)] = []
        for second in 1...3600 {
            let through = UInt64(second) * 10
            timeline.noteDurable(self.session, through: through, at: .seconds(second))
            truth.append((through, .seconds(second)))
            #expect(timeline.marks(of: self.session).count <= 64)
        }
        let now = Duration.seconds(3600)
        for (through, at) in truth {
            let recorded = timeline.durableTime(of: self.session, sequence: through)
            guard let recorded else {
                Issue.record("sequence \(through) lost its time")
                continue
            }
            #expect(recorded <= at, "sequence \(through): recorded \(recorded), durable at \(at)")
            let trueAge = (now - at).inSeconds
            let recordedAge = (now - recorded).inSeconds
            #expect(recordedAge - trueAge <= 0.25 * trueAge + 2, "sequence \(through): age \(recordedAge) for \(trueAge)")
        }
        let newest = timeline.durableTime(of: self.session, sequence: 36_000)
        #expect(newest == .seconds(3600), "the newest mark is never merged away")
    }
}
