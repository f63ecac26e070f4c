import Foundation
import Testing

/// Seeded randomized simulations of five or six replicas, and of networks of up to 32 in several
/// shapes (DESIGN §6): after a fault phase the world heals, runs until quiet, and every
/// invariant of DESIGN §3 is checked on the files.
///
/// 320 seeds by default (160 lossy, 80 stream, 60 orphans, 20 topologies; about one in a hundred
/// with a history of a few thousand entries), plus one with such a history always. `OPLOG_SIM_SEEDS=N` runs seeds
/// `0..<N` of each sweep (from `OPLOG_SIM_FIRST_SEED` if set); `OPLOG_SIM_SEED=N` runs seed N alone; `OPLOG_SIM_VERBOSE=1` adds the
/// end state of a failed run to its message (and, with `OPLOG_SIM_TRACE=1` as well, prints every
/// message sent as the run goes); `OPLOG_SIM_FILE_CUTS=0` turns off the files cut back
/// while their replica is down or under it while it runs (on by default).
/// A failure names the seed, the variant and the invariant broken.
///
/// The worlds are CPU-bound and synchronous, so they run one at a time on a thread of their own
/// (`SimulationThread`), never on Swift's cooperative pool: 300 of them there would hold every
/// pool thread for half a minute and starve the tests that run beside them (the inotify
/// watcher's consumer, process tests' waits), which then miss their deadlines.
@Suite("Replication simulation")
struct SimulationTests {
    @Test("Lossy network: delay, drop, duplication, corruption, partitions, crash-restarts", arguments: SimulationSeeds.seeds(defaultCount: 160))
    func lossyNetwork(seed: UInt64) async {
        _ = await Self.check(SimulationParameters(seed: seed, variant: .lossy), test: #function)
    }

    @Test(
        "Stream transport with the engine's default timeouts: corruption, failed appends, partitions, crash-restarts",
        arguments: SimulationSeeds.seeds(defaultCount: 80)
    )
    func streamTransport(seed: UInt64) async {
        _ = await Self.check(SimulationParameters(seed: seed, variant: .stream), test: #function)
    }

    @Test("Entries whose parent never exists are held, then written everywhere", arguments: SimulationSeeds.seeds(defaultCount: 60))
    func neverExistingParents(seed: UInt64) async {
        _ = await Self.check(SimulationParameters(seed: seed, variant: .orphans), test: #function)
    }

    /// Twenty seeds cover each shape four times; `OPLOG_SIM_REPORT=1` prints each run's shape and
    /// how often each replica received each entry's line; `OPLOG_SIM_SEEDS=N` runs a larger sweep.
    ///
    /// After the faults, twelve writes on the healed network (once a couple per session settled
    /// the trees) bound the broadcast trees' cost: on a tree-shaped network (line, star) every
    /// replica gets each entry's line exactly once; elsewhere at most four times, and about once
    /// on average (a second copy comes when a notice outruns the tree by a graft timeout, and the
    /// graft moves the tree onto the faster path). Flooding gives N−1 copies in a full mesh.
    @Test(
        "Topologies of up to 32 replicas (mesh, line, ring, random graphs of degree 3-4, star) with link and replica churn",
        arguments: SimulationSeeds.seeds(defaultCount: 20)
    )
    func topologies(seed: UInt64) async {
        let parameters = SimulationParameters(seed: seed, variant: .topologies)
        let outcome = await Self.run(parameters, test: #function)
        let steady = outcome.steady
        #expect(steady.pairs > 0, "seed \(seed): the steady phase wrote nothing")
        if parameters.shape == .line || parameters.shape == .star {
            #expect(steady.most == 1, "seed \(seed), \(parameters.shape.rawValue): a replica got one entry's line \(steady.most) times")
        } else {
            #expect(steady.most <= 4, "seed \(seed), \(parameters.shape.rawValue): a replica got one entry's line \(steady.most) times")
            #expect(steady.mean <= 1.35, "seed \(seed), \(parameters.shape.rawValue): \(steady.mean) copies of a line per replica")
        }
        if ProcessInfo.processInfo.environment["OPLOG_SIM_REPORT"] == "1" {
            let degrees = parameters.degrees
            print(
                "topologies seed \(seed): \(parameters.shape.rawValue), \(parameters.replicaCount) replicas,"
                    + " \(parameters.topology.count) links (degree \(degrees.min() ?? 0)-\(degrees.max() ?? 0)),"
                    + " \(outcome.made) entries; receipts of an entry's line per replica: most \(outcome.receipts.most),"
                    + " mean \(String(format: "%.2f", outcome.receipts.mean)); steady phase: most \(outcome.steady.most),"
                    + " mean \(String(format: "%.3f", outcome.steady.mean)) over \(outcome.steady.pairs)"
            )
        }
    }

    /// Now and then a sweep's seed has a history of a few thousand entries; these always do, so
    /// that reconciliation's range splitting runs in every default run.
    @Test("Sessions of a few thousand entries: reconciliation splits ranges", arguments: SimulationSeeds.seeds(defaultCount: 1))
    func largeSessions(seed: UInt64) async {
        var parameters = SimulationParameters(seed: seed, variant: .lossy)
        parameters.historyCount = 2000 + Int(seed % 2) * 1000
        let splits = await Self.check(parameters, test: #function)
        #expect(splits > 0, "lossy seed \(seed) with a history of \(parameters.historyCount): no range was split")
    }

    @Test("The same seed replays exactly", arguments: SimulationVariant.allCases)
    func sameSeedReplaysExactly(variant: SimulationVariant) async {
        guard let seed = SimulationSeeds.seeds(defaultCount: 1).first else { return }
        let parameters = SimulationParameters(seed: seed, variant: variant)
        let (first, second) = await SimulationThread.run { () -> (Trace, Trace) in
            func trace() -> Trace {
                let world = SimulationWorld(parameters: parameters, isTracing: true)
                world.run()
                return Trace(digest: world.digest.value, events: world.events)
            }
            return (trace(), trace())
        }
        #expect(first.events > 100)
        #expect(first == second, "\(variant) seed \(seed) did not replay: \(first) vs \(second)")
    }

    /// The printed command names a test that exists and the variable ``SimulationSeeds`` reads.
    @Test func theReplayCommandRunsTheFailingTestWithItsSeed() {
        #expect(
            Self.replayCommand(seed: 17, test: "lossyNetwork(seed:)")
                == "OPLOG_SIM_SEED=17 OPLOG_SIM_VERBOSE=1 swift test --filter 'OpLogReplicationTests.SimulationTests/lossyNetwork'"
        )
        #expect(SimulationSeeds.seedVariable == "OPLOG_SIM_SEED")
    }

    /// What a traced run leaves to compare.
    struct Trace: Equatable, Sendable {
        let digest: UInt64
        let events: Int
    }

    /// The command that runs `test` (a test function's `#function`, e.g. `lossyNetwork(seed:)`)
    /// for `seed` alone, as printed with a failure: from the package folder, it builds what is
    /// needed and runs that one test with that one seed.
    /// A run with file cuts turned off (`OPLOG_SIM_FILE_CUTS=0`) is replayed with them off.
    static func replayCommand(seed: UInt64, test: String) -> String {
        let name = test.prefix { $0 != "(" }
        let cuts = SimulationSeeds.areFileCutsEnabled ? "" : "\(SimulationSeeds.fileCutsVariable)=0 "
        return "\(cuts)\(SimulationSeeds.seedVariable)=\(seed) OPLOG_SIM_VERBOSE=1 swift test --filter 'OpLogReplicationTests.SimulationTests/\(name)'"
    }

    /// What a checked run leaves besides its violations.
    struct Outcome: Sendable {
        var rangeSplits: Int
        var made: Int
        var receipts: (most: Int, mean: Double)
        /// See ``SimulationWorld/steadyReceiptSummary``.
        var steady: (most: Int, mean: Double, pairs: Int)
    }

    static func check(
        _ parameters: SimulationParameters,
        test: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async -> Int {
        await Self.run(parameters, test: test, sourceLocation: sourceLocation).rangeSplits
    }

    /// Runs a world to the end and records its violations as issues.
    static func run(
        _ parameters: SimulationParameters,
        test: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async -> Outcome {
        let isVerbose = ProcessInfo.processInfo.environment["OPLOG_SIM_VERBOSE"] != nil
        let (failures, outcome) = await SimulationThread.run { () -> ([String], Outcome) in
            let world = SimulationWorld(parameters: parameters)
            world.isRecording = isVerbose
            world.run()
            var failures: [String] = []
            if world.madeCount < parameters.entryTarget / 2 {
                failures.append("\(parameters.variant) seed \(parameters.seed): only \(world.madeCount) entries were written")
            }
            let outcome = Outcome(rangeSplits: world.rangeSplits, made: world.madeCount, receipts: world.payloadReceiptSummary, steady: world.steadyReceiptSummary)
            guard !world.violations.isEmpty else { return (failures, outcome) }
            let details = isVerbose ? "\n" + world.diagnostics() : ""
            let replay = "replay: " + Self.replayCommand(seed: parameters.seed, test: test)
            failures.append(
                """
                \(parameters.variant) seed \(parameters.seed): \(world.violationCount) violations; first: \(world.violations[0])
                \(world.violations.dropFirst().joined(separator: "\n"))
                \(parameters)
                \(replay)\(details)
                """
            )
            return (failures, outcome)
        }
        for failure in failures {
            Issue.record(Comment(rawValue: failure), sourceLocation: sourceLocation)
        }
        return outcome
    }
}

/// One thread, outside Swift's cooperative pool, on which simulated worlds run one after another.
enum SimulationThread {
    private static let queue = DispatchQueue(label: "oplog-sync simulation", qos: .utility)

    /// Runs `work` on the simulation thread and returns its result to the awaiting task.
    static func run<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }
}

enum SimulationSeeds {
    /// The environment variable that names the one seed to run.
    static let seedVariable = "OPLOG_SIM_SEED"
    /// The environment variable that turns file cuts off with `0` (``SimulationWorld/cutFile(at:isRunning:)``).
    static let fileCutsVariable = "OPLOG_SIM_FILE_CUTS"

    /// Whether file cuts are on: unless `OPLOG_SIM_FILE_CUTS=0`.
    static var areFileCutsEnabled: Bool {
        ProcessInfo.processInfo.environment[Self.fileCutsVariable] != "0"
    }

    /// `0..<defaultCount`, or what `OPLOG_SIM_SEED` / `OPLOG_SIM_SEEDS` ask for.
    static func seeds(defaultCount: Int) -> [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment[Self.seedVariable], let seed = UInt64(text) {
            return [seed]
        }
        let count = environment["OPLOG_SIM_SEEDS"].flatMap { Int($0) } ?? defaultCount
        let first = environment["OPLOG_SIM_FIRST_SEED"].flatMap { UInt64($0) } ?? 0
        return (first..<first + UInt64(max(count, 1))).map { $0 }
    }
}
