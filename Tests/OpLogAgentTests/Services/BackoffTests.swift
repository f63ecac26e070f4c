import Testing

@testable import OpLogAgent

/// Redial delays: doubling to a cap, jittered by a generator the test controls.
@Suite struct BackoffTests {
    @Test func delaysDoubleUpToTheCapWithJitterInRange() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1), jitter: 0.5, generator: SplitMix64(seed: 7))
        let steps: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)]
        for step in steps {
            let delay = backoff.next()
            #expect(delay >= step && delay <= step * 1.5, "delay \(delay) for step \(step)")
        }
        backoff.reset()
        let delay = backoff.next()
        #expect(delay >= .milliseconds(100) && delay <= .milliseconds(150))
    }

    @Test func theSameSeedGivesTheSameDelays() {
        func delays(seed: UInt64) -> [Duration] {
            var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(10), generator: JitterSource.seeded(SplitMix64(seed: seed)))
            return (0..<8).map { _ in backoff.next() }
        }
        #expect(delays(seed: 42) == delays(seed: 42))
        #expect(delays(seed: 42) != delays(seed: 43))
    }

    @Test func noJitterGivesTheStepsExactly() {
        var backoff = Backoff(initial: .milliseconds(50), maximum: .milliseconds(150), jitter: 0, generator: SplitMix64(seed: 1))
        #expect((0..<4).map { _ in backoff.next() } == [.milliseconds(50), .milliseconds(100), .milliseconds(150), .milliseconds(150)])
    }
}
