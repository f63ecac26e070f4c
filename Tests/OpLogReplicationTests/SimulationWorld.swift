import OpLog

@testable import OpLogReplication

/// N replicas of the merge engine on a simulated network and virtual clock, each with in-memory
/// session files that survive its crashes. The world plays the host: it carries out every
/// action the engines return, in order, and records every breach of the contract it sees.
final class SimulationWorld {
    enum Event {
        case deliver(Delivery)
        case tick(Int)
        case write(Int)
        case checkpoint(Int)
        case watch(Int)
        case partition(Int)
        case crash(Int)
        case restart(Int)
        case rogue(Int)
        case finishWrite(Int, SessionID)
        case heal
    }

    struct Delivery {
        var from: Int
        var to: Int
        var link: Int
        var epoch: Int
        var message: ReplicationMessage
    }

    struct Link {
        let low: Int
        let high: Int
        var isPartitioned = false
        var isConnected = false
        /// Bumped whenever the link goes down or up: older deliveries are lost.
        var epoch = 0
        /// Per direction (low to high, high to low), the last scheduled arrival (in-order links).
        var lastArrival: [Duration] = [.zero, .zero]
    }

    /// One session's files on one replica; they survive the replica's crashes.
    struct SessionFiles {
        var bytes: [UInt8] = []
        /// How far the host's watcher has fed the engine (reset by a restart).
        var watchedOffset = 0
        /// Op ids of every parseable line, in file order.
        var opIDs: Set<OpID> = []
        /// The valid entries in the file, for writers choosing parents.
        var validEntries: [OpEntry] = []
        var parseableCount = 0
        /// The writer's Lamport clock: the highest `lamport_ts` it has seen in the file.
        var highestTimestamp = 0
        var highestByActor: [String: Int] = [:]
        var checkpoint: Checkpoint?
        var checkpointVersion = 0
        var fedCheckpointVersion = 0
        var history: [Checkpoint] = []
        /// A local writer's line only partly written: its op id and the bytes still to come
        /// (the rest of the line and its `\n`). While it is there, the file ends in an
        /// unterminated line.
        var unfinished: (id: OpID, rest: [UInt8])?
        /// The op ids of the lines this replica's own writers appended to this file.
        var writtenHere: Set<OpID> = []
    }

    struct Replica {
        let node: NodeID
        let isReadOnly: Bool
        let actors: [String]
        var engine: ReplicationEngine?
        var files: [SessionID: SessionFiles] = [:]
        var isWatchScheduled = false
        // Counted since the engine last started.
        var rejectedEntryReports = 0
        var rejectedMessageReports = 0
        var rogueMessages = 0
        var arrivals: [OpID: Duration] = [:]
        // Counted over the whole run.
        var orphanReports = 0
        var restarts = 0
        // The state folder: what the host records for the engine, kept across crashes.
        var savedProgress: [NodeID: [SessionID: UInt64]] = [:]
        var savedOrigins: [SessionID: [NodeID?]] = [:]
        /// The greatest checkpoint received from peers, per session (`.recordRemoteCheckpoint`).
        var savedRemoteCheckpoints: [SessionID: Checkpoint] = [:]
        /// What a read-only engine recorded before its appends (`.recordArrivals`).
        var savedArrivals: [SessionID: [Arrival]] = [:]
        /// The host's entry index (`.recordIndex`): every other restart takes the entries from
        /// it instead of feeding the whole file.
        var savedIndex: [SessionID: [IndexedEntry]] = [:]
    }

    /// A valid entry some writer made.
    struct Made {
        var entry: OpEntry
        var origin: Int
        var hasMissingParent: Bool
    }

    let parameters: SimulationParameters
    var random: SplitMix64
    /// Draws for the file faults, apart from ``random``, so that a run without them draws as
    /// it did before there were any.
    var fileRandom: SplitMix64
    var now: Duration = .zero
    var queue = SimulationQueue<Event>()
    var replicas: [Replica] = []
    var links: [Link] = []
    var linkIndex: [Int: Int] = [:]
    var nodeIndex: [NodeID: Int] = [:]
    var isHealing = false
    var healStarted: Duration = .zero
    var inFlight = 0
    var lastSend: Duration = .zero
    var madeCount = 0
    /// Reconciliations completed, over all replicas.
    var reconciliations = 0
    /// Reconciliation messages sent that split a range into fingerprinted parts.
    var rangeSplits = 0
    /// Files cut back while their replica was down (``cutFile(at:)``).
    var fileCuts = 0
    /// Files cut back while their replica ran (``cutFile(at:isRunning:)``).
    var runningFileCuts = 0
    var checkpointCount = 0
    /// By replica: how many times each entry's line arrived over a link (valid or not, duplicate
    /// or not), for the entries the run made.
    var payloadReceipts: [[OpID: Int]] = []
    /// As ``payloadReceipts``, from the start of the steady phase's counted writes (empty
    /// until then).
    var steadyReceipts: [[OpID: Int]] = []
    /// Where in ``madeOrder`` the steady phase's counted writes begin.
    var steadyStart: Int?
    /// Writes the steady phase still has to make.
    var steadyWritesLeft = 0

    var made: [OpID: Made] = [:]
    var madeOrder: [OpID] = []
    var lines: [[UInt8]: OpEntry] = [:]
    var forgedLines: Set<[UInt8]> = []
    var badLocal: [OpID: Int] = [:]
    var missingParents: Set<OpID> = []
    var checkpointsMade: [(replica: Int, session: SessionID, checkpoint: Checkpoint)] = []
    /// Per session, every checkpoint in a `checkpoint.json`, held by a running engine or in a
    /// host's record of peer checkpoints when the faults stop: what the healed world must
    /// converge on. (A checkpoint a local writer
    /// replaced while its engine was down, before any engine passed it on, is gone from every
    /// engine and file; only the history keeps it.)
    var checkpointCandidates: [SessionID: [Checkpoint]] = [:]

    /// Links that came up while healing, by link (see ``Reconnect``).
    var reconnects: [Int: Reconnect] = [:]

    var violations: [String] = []
    var violationCount = 0
    let isTracing: Bool
    var isRecording = false
    var recentSends: [String] = []
    var digest = TraceDigest()
    var deliveries = 0
    var deliveredLines = 0
    var events = 0

    init(parameters: SimulationParameters, isTracing: Bool = false) {
        self.parameters = parameters
        self.random = SplitMix64(seed: parameters.seed &* 0x2545_F491_4F6C_DD1D ^ parameters.variant.salt)
        self.fileRandom = SplitMix64(seed: parameters.historySeed ^ 0xF11E_FA17)
        self.isTracing = isTracing
        for index in 0..<parameters.replicaCount {
            let node = NodeID("n\(index)")
            self.nodeIndex[node] = index
            self.replicas.append(
                Replica(node: node, isReadOnly: parameters.readOnly.contains(index), actors: ["n\(index)-agent", "n\(index)-human"])
            )
        }
        self.payloadReceipts = Array(repeating: [:], count: parameters.replicaCount)
        for (low, high) in parameters.topology {
            self.linkIndex[Self.pairKey(low, high)] = self.links.count
            self.links.append(Link(low: low, high: high))
        }
    }

    static func pairKey(_ one: Int, _ other: Int) -> Int { min(one, other) * 64 + max(one, other) }

    /// Records a breach of invariant `invariant`.
    func violate(_ invariant: String, _ detail: String) {
        self.violationCount += 1
        if self.violations.count < 12 {
            self.violations.append("[\(invariant)] \(detail) (t=\(self.now))")
        }
    }

    // MARK: - Running

    /// Runs the fault phase, heals, waits for quiescence and checks the invariants.
    func run() {
        let parameters = self.parameters
        self.writeHistory()
        for index in self.replicas.indices {
            self.start(index)
            self.queue.schedule(.tick(index), at: self.random.duration(.milliseconds(1)...parameters.tickInterval))
            self.queue.schedule(.write(index), at: self.random.duration(.zero...self.writeInterval))
            self.queue.schedule(.checkpoint(index), at: self.random.duration(.seconds(1)...parameters.checkpointInterval))
            if parameters.hasCrashes { self.queue.schedule(.crash(index), at: self.random.duration(.seconds(5)...parameters.faultDuration)) }
            if let interval = parameters.rogueInterval { self.queue.schedule(.rogue(index), at: self.random.duration(.seconds(1)...interval)) }
        }
        if parameters.hasPartitions {
            for link in self.links.indices {
                self.queue.schedule(.partition(link), at: self.random.duration(.seconds(2)...parameters.faultDuration))
            }
        }
        self.queue.schedule(.heal, at: parameters.faultDuration)

        let quietPeriod = parameters.engine.retransmitTimeout + parameters.tickInterval * 2 + parameters.maximumDelay
        // Held entries may take a hold timeout per hop to arrive, unless every parent exists
        // (lossy): then nothing may stay held long after healing.
        let holdAllowance = parameters.missingParentRate > 0 || parameters.isInOrder ? parameters.engine.holdTimeout * (parameters.replicaCount + 1) : .zero
        let deadline = parameters.faultDuration + holdAllowance + parameters.engine.retransmitTimeout * 10 + .seconds(120)
        guard self.runUntilQuiet(quietPeriod: quietPeriod, deadline: deadline) else {
            self.checkInvariants()
            return
        }
        if parameters.steadyWrites > 0 { self.runSteadyPhase(quietPeriod: quietPeriod) }
        self.checkInvariants()
    }

    /// Runs events until the healed world is quiet (true), or reports a liveness violation at
    /// `deadline` (false).
    func runUntilQuiet(quietPeriod: Duration, deadline: Duration) -> Bool {
        while case let (time, event)? = self.queue.next() {
            self.now = time
            self.events += 1
            self.process(event)
            guard self.isHealing, case .tick = event else { continue }
            if self.steadyWritesLeft == 0, self.isQuiescent(quietPeriod: quietPeriod) { return true }
            if self.now > deadline {
                let held = self.replicas.map { $0.engine?.heldEntryCount ?? -1 }
                self.violate(
                    "liveness",
                    "not quiescent \(self.now - self.healStarted) after healing: \(self.inFlight) messages in flight, last send at \(self.lastSend), held \(held)"
                )
                return false
            }
        }
        return true
    }

    /// After the faults, on the healed network: a few writes in every session settle the
    /// broadcast trees, then ``SimulationParameters/steadyWrites`` more, a second apart from
    /// random writers, are counted in ``steadyReceipts`` (how often each replica received
    /// each one's line).
    func runSteadyPhase(quietPeriod: Duration) {
        let writers = self.replicas.indices.filter { !self.replicas[$0].isReadOnly }
        guard !writers.isEmpty else { return }
        for round in 0..<2 {
            let count = round == 0 ? self.parameters.sessions.count * 2 : self.parameters.steadyWrites
            if round == 1 {
                self.steadyReceipts = Array(repeating: [:], count: self.replicas.count)
                self.steadyStart = self.madeOrder.count
            }
            self.steadyWritesLeft = count
            for write in 0..<count {
                self.queue.schedule(.write(self.random.pick(writers)), at: self.now + .seconds(1) * (write + 1))
            }
            let start = self.now
            guard self.runUntilQuiet(quietPeriod: quietPeriod, deadline: start + .seconds(count) + .seconds(300)) else { return }
        }
    }

    /// The most time between one replica's writes: on average the replicas together write the
    /// run's target within the fault phase. Networks of more than six replicas write as six
    /// would (and stop at the target), or a few writes each would leave many runs short of it.
    var writeInterval: Duration {
        self.parameters.faultDuration * min(self.parameters.replicaCount, 6) / self.parameters.entryTarget * 2
    }

    func isQuiescent(quietPeriod: Duration) -> Bool {
        guard self.inFlight == 0, self.now - self.lastSend >= quietPeriod else { return false }
        return self.replicas.allSatisfy { replica in
            guard let engine = replica.engine, !replica.isWatchScheduled, engine.heldEntryCount == 0 else { return false }
            return replica.files.values.allSatisfy { $0.watchedOffset == $0.bytes.count && $0.fedCheckpointVersion == $0.checkpointVersion }
        }
    }

    func process(_ event: Event) {
        if self.isTracing { self.trace(event) }
        switch event {
        case .deliver(let delivery):
            self.deliver(delivery)
        case .tick(let index):
            if self.parameters.runningCutRate > 0, !self.isHealing, self.replicas[index].engine != nil,
                self.fileRandom.chance(self.parameters.runningCutRate)
            {
                self.cutFile(at: index, isRunning: true)
            }
            self.feed(.tick, to: index)
            self.queue.schedule(.tick(index), at: self.now + self.parameters.tickInterval)
        case .write(let index):
            if self.steadyWritesLeft > 0 {
                // One of the steady phase's writes, on the healed network.
                self.steadyWritesLeft -= 1
                if self.replicas[index].engine != nil { self.writeEntry(at: index) }
                return
            }
            guard !self.isHealing, self.madeCount < self.parameters.entryTarget else { return }
            self.writeEntry(at: index)
            self.queue.schedule(.write(index), at: self.now + self.random.duration(.milliseconds(1)...self.writeInterval))
        case .checkpoint(let index):
            guard !self.isHealing else { return }
            if !self.replicas[index].isReadOnly || self.random.chance(0.3) { self.writeLocalCheckpoint(at: index) }
            self.queue.schedule(.checkpoint(index), at: self.now + self.random.duration(.seconds(1)...self.parameters.checkpointInterval * 2))
        case .watch(let index):
            self.replicas[index].isWatchScheduled = false
            self.watch(index)
        case .partition(let link):
            guard !self.isHealing else { return }
            self.links[link].isPartitioned.toggle()
            self.updateLink(link)
            let next = self.links[link].isPartitioned ? self.random.duration(.seconds(1)...self.parameters.maximumPartition) : self.random.duration(.seconds(3)...self.parameters.faultDuration)
            self.queue.schedule(.partition(link), at: self.now + next)
        case .crash(let index):
            guard !self.isHealing, self.replicas[index].engine != nil else { return }
            self.replicas[index].engine = nil
            if self.random.chance(0.3) {
                // The record of what peers acknowledged is lost: the links reconcile instead.
                self.replicas[index].savedProgress = [:]
            }
            if self.parameters.fileCutRate > 0, self.fileRandom.chance(self.parameters.fileCutRate) {
                self.cutFile(at: index)
            }
            self.updateLinks(of: index)
            self.queue.schedule(.restart(index), at: self.now + self.random.duration(.milliseconds(500)...(.seconds(15))))
        case .restart(let index):
            guard self.replicas[index].engine == nil else { return }
            self.start(index)
            if !self.isHealing {
                self.queue.schedule(.crash(index), at: self.now + self.random.duration(.seconds(5)...self.parameters.faultDuration))
            }
        case .rogue(let index):
            guard !self.isHealing, let interval = self.parameters.rogueInterval else { return }
            self.injectRogueMessage(at: index)
            self.queue.schedule(.rogue(index), at: self.now + self.random.duration(.seconds(1)...interval))
        case .finishWrite(let index, let session):
            self.finishWrite(session: session, at: index)
        case .heal:
            self.isHealing = true
            self.healStarted = self.now
            self.recordCheckpointCandidates()
            for index in self.replicas.indices where self.replicas[index].engine == nil {
                self.start(index)
            }
            for link in self.links.indices {
                self.links[link].isPartitioned = false
                self.updateLink(link)
            }
        }
    }

    func recordCheckpointCandidates() {
        for session in self.parameters.sessions {
            var candidates: [Checkpoint] = []
            for replica in self.replicas {
                if let checkpoint = replica.files[session]?.checkpoint { candidates.append(checkpoint) }
                if let checkpoint = replica.engine?.sessions[session]?.checkpoint { candidates.append(checkpoint) }
                if let shared = replica.engine?.sessions[session]?.shared { candidates.append(shared.checkpoint) }
                // The host's record of the greatest peer checkpoint: a restart puts it back.
                if let checkpoint = replica.savedRemoteCheckpoints[session] { candidates.append(checkpoint) }
            }
            self.checkpointCandidates[session] = candidates
        }
    }
}
