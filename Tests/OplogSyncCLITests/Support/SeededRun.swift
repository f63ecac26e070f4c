import Foundation
import Testing

/// SplitMix64: a tiny seedable generator, so a randomized process test replays its choices
/// (apple/swift-argument-parser: Examples/roll/SplitMix64.swift).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A duration of a whole number of milliseconds in `milliseconds`.
    mutating func milliseconds(in milliseconds: ClosedRange<Int>) -> Duration {
        .milliseconds(Int.random(in: milliseconds, using: &self))
    }
}

/// The seed of one randomized process test: `OPLOG_CRASH_SEED` when set (to replay a failure),
/// else a fresh one. Every failure the test records names it.
///
/// Only the test's own choices (when to kill, how long to stay down) follow the seed; the
/// scheduling of the processes does not, so a replay repeats the schedule, not every byte.
struct TestSeed: Sendable, CustomStringConvertible {
    let value: UInt64

    init() {
        let environment = ProcessInfo.processInfo.environment["OPLOG_CRASH_SEED"]
        self.value = environment.flatMap { UInt64($0) } ?? UInt64.random(in: 0..<1_000_000)
    }

    var description: String { "seed \(self.value) (replay with OPLOG_CRASH_SEED=\(self.value))" }

    /// A generator that starts from this seed.
    func makeGenerator() -> SplitMix64 { SplitMix64(seed: self.value) }
}

/// An error raised in a seeded test, with the seed that replays the test's schedule.
struct SeededFailure: Error, CustomStringConvertible {
    var seed: TestSeed
    var underlying: any Error
    var description: String { "\(self.seed): \(self.underlying)" }
}

/// Runs `body`; an error it throws comes back as a ``SeededFailure`` naming `seed`.
func withSeed<T>(
    _ seed: TestSeed,
    isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> T
) async throws -> T {
    do {
        return try await body()
    } catch let error as SeededFailure {
        throw error
    } catch {
        throw SeededFailure(seed: seed, underlying: error)
    }
}
