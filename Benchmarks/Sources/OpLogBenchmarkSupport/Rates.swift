public import Benchmark

/// Custom throughput metrics in the units the targets use: lines and bytes per second,
/// computed per iteration from the interval measured around the work (`.throughput` counts
/// whole iterations per second, rounded to an integer, too coarse for iterations of 0.1–1 s).
public enum Rates {
    public static let linesPerSecond = BenchmarkMetric.custom(
        "linesPerSecond",
        polarity: .prefersLarger,
        useScalingFactor: false
    )
    public static let bytesPerSecond = BenchmarkMetric.custom(
        "bytesPerSecond",
        polarity: .prefersLarger,
        useScalingFactor: false
    )

    /// The configuration every suite uses: the rates, in plain counts so exports keep every digit,
    /// plus the standard metrics that show where time and allocations go.
    public static func configuration(maxIterations: Int, maxDuration: Duration) -> Benchmark.Configuration {
        Benchmark.Configuration(
            metrics: [.throughput, .wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident, .readSyscalls, .writeSyscalls]
                + [Self.linesPerSecond, Self.bytesPerSecond],
            timeUnits: .microseconds,
            units: [Self.linesPerSecond: .count, Self.bytesPerSecond: .count],
            warmupIterations: 1,
            maxDuration: maxDuration,
            maxIterations: maxIterations
        )
    }

    /// Runs `work` between `startMeasurement()` and `stopMeasurement()` and returns how long
    /// it took, measured around it alone.
    public static func measure(_ benchmark: Benchmark, _ work: () throws -> Void) rethrows -> Duration {
        benchmark.startMeasurement()
        let start = ContinuousClock.now
        try work()
        let elapsed = ContinuousClock.now - start
        benchmark.stopMeasurement()
        return elapsed
    }

    /// Records `lines` and `bytes` done in `elapsed` as this iteration's rates.
    public static func record(_ benchmark: Benchmark, lines: Int, bytes: Int, elapsed: Duration) {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        guard seconds > 0 else { return }
        benchmark.measurement(Self.linesPerSecond, Int((Double(lines) / seconds).rounded()))
        benchmark.measurement(Self.bytesPerSecond, Int((Double(bytes) / seconds).rounded()))
    }
}
