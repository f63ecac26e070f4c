/// Redial delays: exponential from `initial` up to `maximum`, each with up to `jitter` (a
/// fraction) added at random, so that nodes that lost each other do not redial in step.
///
/// The randomness is an input: tests pass a seeded generator and get the same delays each run.
struct Backoff<Generator: RandomNumberGenerator & Sendable>: Sendable {
    let initial: Duration
    let maximum: Duration
    let jitter: Double
    private var current: Duration
    private var generator: Generator

    init(initial: Duration, maximum: Duration, jitter: Double = 0.5, generator: Generator) {
        precondition(initial > .zero && maximum >= initial, "backoff delays must be positive and ordered")
        precondition((0...1).contains(jitter), "jitter is a fraction")
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self.current = initial
        self.generator = generator
    }

    /// The delay before the next attempt: the current step with its jitter; the step then
    /// doubles, up to ``maximum``.
    mutating func next() -> Duration {
        let delay = self.current * (1 + Double.random(in: 0...self.jitter, using: &self.generator))
        self.current = min(self.current * 2, self.maximum)
        return delay
    }

    /// Back to ``initial``: the last attempt got through.
    mutating func reset() {
        self.current = self.initial
    }
}

/// A small seeded generator (SplitMix64, as swift-argument-parser's examples use), for
/// replayable jitter in tests.
struct SplitMix64: RandomNumberGenerator, Sendable {
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
}

/// Where a dialler's jitter comes from: the system's generator, or a seeded one
/// (``AgentConfiguration/LinkSettings/redialSeed``).
enum JitterSource: RandomNumberGenerator, Sendable {
    case system
    case seeded(SplitMix64)

    mutating func next() -> UInt64 {
        switch self {
        case .system:
            var generator = SystemRandomNumberGenerator()
            return generator.next()
        case .seeded(var generator):
            let value = generator.next()
            self = .seeded(generator)
            return value
        }
    }
}
