import Foundation
import Testing

/// Seeded randomized simulations of five or six replicas (DESIGN §6): after a fault phase the
/// world heals, runs until quiet, and every invariant of DESIGN §3 is checked on the files.
///
/// 300 seeds by default (160 lossy, 80 stream, 60 orphans). `OPLOG_SIM_SEEDS=N` runs seeds
/// `0..<N` of each sweep (from `OPLOG_SIM_FIRST_SEED` if set); `OPLOG_SIM_SEED=N` runs seed N alone; `OPLOG_SIM_VERBOSE=1` adds the
/// end state of a failed run to its message.
/// A failure names the seed, the variant and the invariant broken.
@Suite("Replication simulation")
struct SimulationTests {
    @Test("Lossy network: delay, drop, duplication, corruption, partitions, crash-restarts", arguments: SimulationSeeds.seeds(defaultCount: 160))
    func lossyNetwork(seed: UInt64) {
        Self.check(SimulationParameters(seed: seed, variant: .lossy))
    }

    @Test(
        "Stream transport with the engine's default timeouts: corruption, failed appends, partitions, crash-restarts",
        arguments: SimulationSeeds.seeds(defaultCount: 80)
    )
    func streamTransport(seed: UInt64) {
        Self.check(SimulationParameters(seed: seed, variant: .stream))
    }

    @Test("Entries whose parent never exists are held, then written everywhere", arguments: SimulationSeeds.seeds(defaultCount: 60))
    func neverExistingParents(seed: UInt64) {
        Self.check(SimulationParameters(seed: seed, variant: .orphans))
    }

    @Test("The same seed replays exactly", arguments: SimulationVariant.allCases)
    func sameSeedReplaysExactly(variant: SimulationVariant) {
        for seed in SimulationSeeds.seeds(defaultCount: 1).prefix(1) {
            let parameters = SimulationParameters(seed: seed, variant: variant)
            let first = SimulationWorld(parameters: parameters, isTracing: true)
            first.run()
            let second = SimulationWorld(parameters: parameters, isTracing: true)
            second.run()
            #expect(first.events > 100)
            #expect(
                first.digest == second.digest && first.events == second.events,
                "\(variant) seed \(seed) did not replay: \(first.events) vs \(second.events) events, digests \(first.digest.value) vs \(second.digest.value)"
            )
        }
    }

    static func check(_ parameters: SimulationParameters, sourceLocation: SourceLocation = #_sourceLocation) {
        let world = SimulationWorld(parameters: parameters)
        world.isRecording = ProcessInfo.processInfo.environment["OPLOG_SIM_VERBOSE"] != nil
        world.run()
        if world.madeCount < parameters.entryTarget / 2 {
            Issue.record("\(parameters.variant) seed \(parameters.seed): only \(world.madeCount) entries were written", sourceLocation: sourceLocation)
        }
        guard !world.violations.isEmpty else { return }
        let details = ProcessInfo.processInfo.environment["OPLOG_SIM_VERBOSE"] == nil ? "" : "\n" + world.diagnostics()
        let replay = "replay: OPLOG_SIM_SEED=\(parameters.seed) swift test --scratch-path .build-sim --skip-build --filter OpLogReplicationTests.SimulationTests"
        Issue.record(
            """
            \(parameters.variant) seed \(parameters.seed): \(world.violationCount) violations; first: \(world.violations[0])
            \(world.violations.dropFirst().joined(separator: "\n"))
            \(parameters)
            \(replay)\(details)
            """,
            sourceLocation: sourceLocation
        )
    }
}

enum SimulationSeeds {
    /// `0..<defaultCount`, or what `OPLOG_SIM_SEED` / `OPLOG_SIM_SEEDS` ask for.
    static func seeds(defaultCount: Int) -> [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["OPLOG_SIM_SEED"], let seed = UInt64(text) {
            return [seed]
        }
        let count = environment["OPLOG_SIM_SEEDS"].flatMap { Int($0) } ?? defaultCount
        let first = environment["OPLOG_SIM_FIRST_SEED"].flatMap { UInt64($0) } ?? 0
        return (first..<first + UInt64(max(count, 1))).map { $0 }
    }
}
