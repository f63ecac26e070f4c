import OpLog

@testable import OpLogReplication

/// The kinds of simulated run.
enum SimulationVariant: String, Sendable, CaseIterable {
    /// A datagram-like network: random delay (so reordering), drop, duplication, corrupted
    /// frames, partitions and crash-restarts. Entries are held far longer than the fault phase
    /// lasts, so every parent arrives in time and no orphan is ever written.
    case lossy
    /// A stream-like transport (TCP): in order per link, nothing lost while a link is up, all of
    /// it lost when it goes down; partitions, crash-restarts; the engine's default timeouts.
    case stream
    /// As `lossy`, but some entries name a parent that never exists anywhere: they must be held
    /// for the hold timeout, then written everywhere (held, never dropped).
    case orphans
    /// Networks of up to 32 replicas in every shape of ``SimulationShape``, on a stream-like
    /// transport with links and replicas going down and coming back (partitions, crash-restarts).
    case topologies

    var salt: UInt64 {
        switch self {
        case .lossy: 0x1000_0000
        case .stream: 0x2000_0000
        case .orphans: 0x3000_0000
        case .topologies: 0x4000_0000
        }
    }
}

/// Everything a run is made of, derived from its seed and variant alone.
struct SimulationParameters: CustomStringConvertible {
    var seed: UInt64
    var variant: SimulationVariant
    var replicaCount: Int
    var readOnly: Set<Int>
    /// Neighbour pairs (low index first).
    var topology: [(Int, Int)]
    var shape: SimulationShape
    var isLine: Bool
    var lineOrder: [Int]
    var sessions: [SessionID]
    var entryTarget: Int
    var faultDuration: Duration
    var maximumDelay: Duration
    var isInOrder: Bool
    var dropRate: Double
    var duplicateRate: Double
    var corruptRate: Double
    var appendFailureRate: Double
    var badLocalRate: Double
    var opaqueRate: Double
    var missingParentRate: Double
    var rogueInterval: Duration?
    var hasPartitions: Bool
    var maximumPartition: Duration
    var hasCrashes: Bool
    var checkpointInterval: Duration
    /// How often a checkpoint's snapshot id is derived from the state alone (see ``SimulationWorld/writeLocalCheckpoint(at:)``).
    var stateSnapshotRate = 0.5
    /// Entries every replica already holds of the first session when the run starts (0, or now
    /// and then a few thousand), each missing a few scattered ones: links that first come up
    /// must reconcile large sets, which splits ranges (``SimulationWorld/writeHistory()``).
    var historyCount = 0
    /// Seeds the history's own generator, apart from the run's, so seeds without a history run
    /// exactly as they did before there was one.
    var historySeed: UInt64 = 0
    /// How often a local writer's line goes into the file in two writes, some time apart (a
    /// writer mid-append); drawn like the history.
    var partialWriteRate = 0.0
    /// How often a crash leaves a session's file cut back to an earlier line (restored from an
    /// older backup); drawn like the history, and off with `OPLOG_SIM_FILE_CUTS=0`.
    var fileCutRate = 0.0
    /// How often, per tick of a running replica, one of its session files is cut back under it
    /// (replaced by a shorter copy, or truncated); drawn like the history, and off with
    /// `OPLOG_SIM_FILE_CUTS=0`.
    var runningCutRate = 0.0
    /// How often each replica's engine is ticked. Broadcast trees send notices and grafts at
    /// ticks, so the topologies tick as the agent does, about every 100 ms (250 ms here).
    var tickInterval: Duration = .seconds(2)
    /// Writes made after the faults on the healed network, whose receipts are counted (see
    /// ``SimulationWorld/runSteadyPhase(quietPeriod:)``); none in most variants.
    var steadyWrites = 0
    var engine: ReplicationEngine.Configuration

    init(seed: UInt64, variant: SimulationVariant) {
        var random = SplitMix64(seed: seed ^ variant.salt)
        self.seed = seed
        self.variant = variant
        self.replicaCount = random.chance(0.8) ? 5 : 6
        let isLine = random.chance(0.5)
        var readOnly = Set<Int>()
        if random.chance(0.6) {
            readOnly.insert(random.below(self.replicaCount))
            if random.chance(0.2) { readOnly.insert(random.below(self.replicaCount)) }
        }
        self.readOnly = readOnly
        // A mesh floods every entry over every link: six replicas only in a line, to keep runs short.
        self.isLine = isLine || self.replicaCount == 6
        var order = Array(0..<self.replicaCount)
        for index in order.indices.reversed() where index > 0 {
            order.swapAt(index, random.below(index + 1))
        }
        self.lineOrder = order
        self.shape = self.isLine ? .line : .mesh
        if self.isLine {
            self.topology = (1..<order.count).map { (min(order[$0 - 1], order[$0]), max(order[$0 - 1], order[$0])) }
        } else {
            let count = self.replicaCount
            self.topology = (0..<count).flatMap { low in ((low + 1)..<count).map { (low, $0) } }
        }
        let names = ["live-1", "agent.run_2", "Studio-3"]
        self.sessions = Array(names.prefix(random.within(2...3))).map { try! SessionID(validating: $0) }
        self.entryTarget = random.within(30...60)
        self.faultDuration = .seconds(random.within(15...35))
        self.maximumDelay = .milliseconds(random.within(5...400))
        self.isInOrder = variant == .stream
        let isLossy = variant != .stream
        self.dropRate = isLossy ? Double(random.below(variant == .orphans ? 5 : 9)) / 100 : 0
        self.duplicateRate = isLossy ? Double(random.below(6)) / 100 : 0
        self.corruptRate = Double(random.below(4)) / 100
        self.appendFailureRate = random.chance(0.3) ? 0.03 : 0
        self.badLocalRate = random.chance(0.5) ? 0.03 : 0
        self.opaqueRate = Double(random.below(4)) / 10
        self.missingParentRate = variant == .orphans ? 0.05 + Double(random.below(6)) / 100 : 0
        self.rogueInterval = random.chance(0.5) ? .seconds(random.within(3...10)) : nil
        self.hasPartitions = random.chance(0.75)
        self.maximumPartition = .seconds(variant == .orphans ? 6 : 20)
        self.hasCrashes = random.chance(0.6)
        self.checkpointInterval = .seconds(random.within(4...20))

        // Drawn from a generator of their own, after everything else: adding them changed no
        // other parameter of any seed.
        var extra = SplitMix64(seed: seed ^ variant.salt ^ 0x5EED_0000_0000_0000)
        self.historySeed = extra.next()
        self.historyCount = extra.chance(1.0 / 100) ? extra.within(2000...3000) : 0
        self.partialWriteRate = extra.chance(0.3) ? 0.15 : 0
        // On unless OPLOG_SIM_FILE_CUTS=0 (see SimulationWorld+Files.swift).
        let hasFileCuts = extra.chance(0.3)
        self.fileCutRate = SimulationSeeds.areFileCutsEnabled && hasFileCuts ? 0.4 : 0
        let hasRunningCuts = extra.chance(0.3)
        self.runningCutRate = SimulationSeeds.areFileCutsEnabled && hasRunningCuts ? 0.05 : 0

        var engine = ReplicationEngine.Configuration()
        switch variant {
        case .lossy:
            engine.retransmitTimeout = .seconds(random.within(1...6))
            // Longer than any fault phase: every parent arrives before its child's hold ends.
            engine.holdTimeout = .seconds(3600)
        case .stream, .topologies:
            break
        case .orphans:
            // Long enough for a dropped parent to be sent again a few times, so only a parent
            // that never exists leaves a child waiting the full hold.
            engine.retransmitTimeout = .seconds(random.within(3...5))
            engine.holdTimeout = .seconds(random.within(35...45))
        }
        engine.maximumInFlight = [2, 5, 32, 8192][random.below(4)]
        if self.historyCount > 0 {
            // The window counts sequence numbers, those skipped because the peer holds them
            // included: with a few thousand entries a tiny window makes catching up after a
            // reconciliation take hundreds of round trips, longer than the run allows.
            engine.maximumInFlight = max(engine.maximumInFlight, 1024)
        }
        engine.maximumBatchLines = [1, 2, 7, 1024][random.below(4)]
        engine.maximumBatchBytes = [200, 1500, 1 << 20][random.below(3)]
        self.engine = engine
        if variant == .topologies { self.makeTopology() }
    }

    /// The topologies variant: a shape by seed (so that a few seeds cover every shape), up to 32
    /// replicas (a mesh up to 8: flooding it costs (N-1)^2 sends an entry), a stream-like
    /// transport, partitions and crash-restarts always; drawn from a generator of its own.
    private mutating func makeTopology() {
        var random = SplitMix64(seed: self.seed ^ self.variant.salt ^ 0x70B0_0000_0000_0000)
        let shapes = SimulationShape.allCases
        self.shape = shapes[Int(self.seed % UInt64(shapes.count))]
        self.replicaCount = self.shape == .mesh ? random.within(4...8) : random.within(8...32)
        self.readOnly = random.chance(0.5) ? [random.below(self.replicaCount)] : []
        self.topology = self.shape.links(among: self.replicaCount, random: &random)
        self.isLine = self.shape == .line
        self.lineOrder = []
        self.entryTarget = random.within(40...80)
        self.isInOrder = true
        self.dropRate = 0
        self.duplicateRate = 0
        self.missingParentRate = 0
        self.hasPartitions = true
        self.hasCrashes = true
        self.historyCount = 0
        self.fileCutRate = 0
        self.runningCutRate = 0
        self.tickInterval = .milliseconds(250)
        self.steadyWrites = 12
    }

    /// How many neighbours each replica has.
    var degrees: [Int] {
        var degrees = [Int](repeating: 0, count: self.replicaCount)
        for (low, high) in self.topology {
            degrees[low] += 1
            degrees[high] += 1
        }
        return degrees
    }

    func configuration(of replica: Int) -> ReplicationEngine.Configuration {
        var configuration = self.engine
        configuration.isReadOnly = self.readOnly.contains(replica)
        configuration.localNode = NodeID("n\(replica)")
        return configuration
    }

    var description: String {
        let degrees = self.degrees
        let shape =
            self.isLine && !self.lineOrder.isEmpty
            ? "line \(self.lineOrder.map { "n\($0)" }.joined(separator: "-"))"
            : "\(self.shape.rawValue) of \(self.topology.count) links (degree \(degrees.min() ?? 0)-\(degrees.max() ?? 0))"
        let readOnly = self.readOnly.sorted().map { "n\($0)" }.joined(separator: ",")
        return """
            \(self.variant) seed \(self.seed): \(self.replicaCount) replicas, \(shape), read-only [\(readOnly)], \
            \(self.sessions.count) sessions, ~\(self.entryTarget) entries over \(self.faultDuration), \
            delay <= \(self.maximumDelay), drop \(self.dropRate), dup \(self.duplicateRate), corrupt \(self.corruptRate), \
            append failures \(self.appendFailureRate), partitions \(self.hasPartitions), crashes \(self.hasCrashes), \
            retransmit \(self.engine.retransmitTimeout), hold \(self.engine.holdTimeout), window \(self.engine.maximumInFlight), \
            batch \(self.engine.maximumBatchLines) lines/\(self.engine.maximumBatchBytes) bytes, \
            history \(self.historyCount), partial writes \(self.partialWriteRate), file cuts \(self.fileCutRate), running cuts \(self.runningCutRate)
            """
    }
}
