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
    var checkpointCount = 0

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
        let holdAllowance = parameters.missingParentRate > 0 || parameters.variant == .stream ? parameters.engine.holdTimeout * (parameters.replicaCount + 1) : .zero
        let deadline = parameters.faultDuration + holdAllowance + parameters.engine.retransmitTimeout * 10 + .seconds(120)
        while case let (time, event)? = self.queue.next() {
            self.now = time
            self.events += 1
            self.process(event)
            guard self.isHealing, case .tick = event else { continue }
            if self.isQuiescent(quietPeriod: quietPeriod) { break }
            if self.now > deadline {
                let held = self.replicas.map { $0.engine?.heldEntryCount ?? -1 }
                self.violate(
                    "liveness",
                    "not quiescent \(self.now - self.healStarted) after healing: \(self.inFlight) messages in flight, last send at \(self.lastSend), held \(held)"
                )
                break
            }
        }
        self.checkInvariants()
    }

    var writeInterval: Duration {
        self.parameters.faultDuration * self.parameters.replicaCount / self.parameters.entryTarget * 2
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
            self.feed(.tick, to: index)
            self.queue.schedule(.tick(index), at: self.now + self.parameters.tickInterval)
        case .write(let index):
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

    // MARK: - The host

    /// Feeds one event to replica `index`'s engine (if it is running) and carries out what it
    /// returns.
    func feed(_ event: ReplicationEvent, to index: Int) {
        guard self.replicas[index].engine != nil else { return }
        let actions = self.replicas[index].engine?.handle(event, now: self.now) ?? []
        self.perform(actions, at: index)
    }

    /// A fresh engine (first start or restart): fed every file in full, then its checkpoints,
    /// then connected.
    func start(_ index: Int) {
        self.replicas[index].engine = ReplicationEngine(configuration: self.parameters.configuration(of: index))
        self.replicas[index].rejectedEntryReports = 0
        self.replicas[index].rejectedMessageReports = 0
        self.replicas[index].rogueMessages = 0
        self.replicas[index].arrivals = [:]
        self.replicas[index].restarts += 1
        // Every other restart from the recorded index, the others by feeding whole files.
        let isFromIndex = self.replicas[index].restarts % 2 == 0
        var indexed: [SessionID: [IndexedEntry]] = [:]
        for session in self.replicas[index].files.keys.sorted() {
            self.replicas[index].files[session]?.watchedOffset = 0
            if isFromIndex, let saved = self.replicas[index].savedIndex[session], let last = saved.last {
                indexed[session] = saved
                // Lines after the last indexed one (other writers', or rejected) are read again.
                self.replicas[index].files[session]?.watchedOffset = Int(last.location.offset) + Int(last.location.length) + 1
            }
        }
        let restore = ReplicationEngine.Restore(
            origins: self.replicas[index].savedOrigins,
            arrivals: self.replicas[index].savedArrivals,
            remoteCheckpoints: self.replicas[index].savedRemoteCheckpoints,
            indexedEntries: indexed
        )
        let actions = self.replicas[index].engine?.restore(restore) ?? []
        self.perform(actions, at: index)
        for session in self.replicas[index].files.keys.sorted() {
            self.feedNewLines(of: session, at: index)
        }
        let savedProgress = self.replicas[index].savedProgress
        self.replicas[index].engine?.restoreProgress(savedProgress)
        for session in self.replicas[index].files.keys.sorted() {
            guard let files = self.replicas[index].files[session] else { continue }
            self.replicas[index].files[session]?.fedCheckpointVersion = files.checkpointVersion
            if let checkpoint = files.checkpoint { self.feed(.localCheckpoint(session: session, checkpoint), to: index) }
        }
        self.updateLinks(of: index)
    }

    func scheduleWatch(_ index: Int) {
        guard !self.replicas[index].isWatchScheduled else { return }
        self.replicas[index].isWatchScheduled = true
        self.queue.schedule(.watch(index), at: self.now + self.random.duration(.zero...(.milliseconds(300))))
    }

    /// The host's watcher: new complete lines become `.localEntries`, a changed checkpoint file
    /// becomes `.localCheckpoint`.
    func watch(_ index: Int) {
        guard self.replicas[index].engine != nil else { return }
        for session in self.replicas[index].files.keys.sorted() {
            self.feedNewLines(of: session, at: index)
            guard let files = self.replicas[index].files[session], files.fedCheckpointVersion != files.checkpointVersion else { continue }
            self.replicas[index].files[session]?.fedCheckpointVersion = files.checkpointVersion
            if let checkpoint = files.checkpoint { self.feed(.localCheckpoint(session: session, checkpoint), to: index) }
        }
    }

    func feedNewLines(of session: SessionID, at index: Int) {
        guard let files = self.replicas[index].files[session] else { return }
        var offset = files.watchedOffset
        var locals: [LocalEntry] = []
        while let newline = files.bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(files.bytes[offset..<newline])
            // The host skips lines that do not parse, as Muse's reader does.
            if let entry = self.entry(for: line) { locals.append(LocalEntry(entry: entry, offset: Int64(offset))) }
            offset = newline + 1
        }
        self.replicas[index].files[session]?.watchedOffset = offset
        guard !locals.isEmpty else { return }
        self.feed(.localEntries(session: session, entries: locals), to: index)
    }

    func entry(for line: [UInt8]) -> OpEntry? {
        if let entry = self.lines[line] { return entry }
        return try? OpEntry(line: line)
    }

    func perform(_ actions: [ReplicationAction], at index: Int) {
        for action in actions {
            if self.isTracing { self.trace(action, at: index) }
            switch action {
            case .send(let message, let peer):
                if case .reconcile(_, _, _, let ranges) = message,
                    ranges.count(where: { if case .fingerprint = $0.payload { true } else { false } }) > 1
                {
                    self.rangeSplits += 1
                }
                self.transmit(message, from: index, to: peer)
            case .ship(let shipment):
                self.ship(shipment, from: index)
            case .append(let request):
                self.append(request, at: index)
            case .writeCheckpoint(let session, let checkpoint):
                self.replaceCheckpoint(session: session, with: checkpoint, at: index)
            case .recordRemoteCheckpoint(let session, let checkpoint):
                self.replicas[index].savedRemoteCheckpoints[session] = checkpoint
            case .recordArrivals(let session, let arrivals):
                self.replicas[index].savedArrivals[session, default: []] += arrivals
            case .recordProgress(let peer, let session, let acknowledged):
                self.replicas[index].savedProgress[peer, default: [:]][session] = acknowledged
            case .recordOrigins(let session, let firstSequence, let origins):
                var saved = self.replicas[index].savedOrigins[session] ?? []
                let skip = max(0, saved.count - Int(firstSequence - 1))
                if Int(firstSequence - 1) <= saved.count, skip < origins.count {
                    saved += origins[skip...]
                }
                self.replicas[index].savedOrigins[session] = saved
            case .recordIndex(let session, let firstSequence, let entries, _):
                var saved = self.replicas[index].savedIndex[session] ?? []
                let skip = max(0, saved.count - Int(firstSequence - 1))
                if Int(firstSequence - 1) <= saved.count, skip < entries.count {
                    saved += entries[skip...]
                }
                self.replicas[index].savedIndex[session] = saved
            case .report(let report):
                self.count(report, at: index)
            }
        }
    }

    func count(_ report: ReplicationReport, at index: Int) {
        switch report {
        case .rejectedEntry:
            self.replicas[index].rejectedEntryReports += 1
        case .rejectedMessage:
            self.replicas[index].rejectedMessageReports += 1
        case .orphansWritten(_, let count):
            self.replicas[index].orphanReports += count
        case .checkpointAdopted:
            break
        case .reconciled:
            self.reconciliations += 1
        case .peerLacksAcknowledged:
            break
        }
    }

    func ship(_ shipment: Shipment, from index: Int) {
        let bytes = self.replicas[index].files[shipment.session]?.bytes ?? []
        var lines: [[UInt8]] = []
        for location in shipment.locations {
            let start = Int(location.offset)
            let end = start + Int(location.length)
            guard start >= 0, end < bytes.count, bytes[end] == UInt8(ascii: "\n"), start == 0 || bytes[start - 1] == UInt8(ascii: "\n") else {
                self.violate("ship", "n\(index) shipped \(location) of \(shipment.session), which is not a whole line of its \(bytes.count)-byte file")
                continue
            }
            let line = Array(bytes[start..<end])
            if let entry = self.entry(for: line) {
                if let origin = self.badLocal[entry.opID] {
                    self.violate("8 bad input stays out", "n\(index) shipped the forged local line \(entry.opID) of n\(origin)")
                }
                if self.replicas[index].isReadOnly, self.made[entry.opID]?.origin == index {
                    self.violate("10 read-only", "read-only n\(index) shipped its own entry \(entry.opID) to \(shipment.peer)")
                }
            }
            lines.append(line)
        }
        self.noteShipped(lines, session: shipment.session, from: index, to: shipment.peer)
        let batch = EntryBatch(session: shipment.session.rawValue, after: shipment.after, through: shipment.through, lines: lines)
        self.transmit(.entries(batch), from: index, to: shipment.peer)
    }

    func append(_ request: AppendRequest, at index: Int) {
        if !self.isHealing, self.random.chance(self.parameters.appendFailureRate) {
            self.feed(.appendFailed(token: request.token), to: index)
            return
        }
        var files = self.replicas[index].files[request.session] ?? SessionFiles()
        guard files.unfinished == nil else {
            // A writer is mid-append: appending now would glue our line to its. The host waits
            // (the engine asks again after its retry delay).
            self.feed(.appendFailed(token: request.token), to: index)
            return
        }
        // The host has read every line before this append: it may tell the engine where the
        // lines went instead of feeding them back (half the time, so both ways are exercised).
        let isInPlace = files.watchedOffset == files.bytes.count && self.random.chance(0.5)
        let firstOffset = files.bytes.count
        var inRequest = Set<OpID>()
        for line in request.lines {
            if self.forgedLines.contains(line) {
                self.violate("8 bad input stays out", "n\(index) appended a line corrupted on the wire: \(String(decoding: line.prefix(80), as: UTF8.self))")
            }
            guard let entry = self.entry(for: line) else {
                self.violate("8 bad input stays out", "n\(index) appended a line that does not parse")
                continue
            }
            let id = entry.opID
            if let origin = self.badLocal[id] {
                self.violate("8 bad input stays out", "n\(index) appended n\(origin)'s forged local line \(id)")
            }
            if let made = self.made[id], made.origin != index, self.replicas[made.origin].isReadOnly {
                self.violate("10 read-only", "n\(index) appended \(id), written by read-only n\(made.origin)")
            }
            if files.opIDs.contains(id) || inRequest.contains(id) {
                self.violate("2 no duplicates", "n\(index) appended \(id) to \(request.session) again")
            }
            for parent in entry.parentOpIDs where !files.opIDs.contains(parent) && !inRequest.contains(parent) {
                if case .held? = self.replicas[index].engine?.sessions[request.session]?.status[parent] {
                    self.violate("4 causal", "n\(index) appended \(id) while its parent \(parent) was held by the same engine")
                }
            }
            if let made = self.made[id], made.hasMissingParent, let arrival = self.replicas[index].arrivals[id],
                self.now < arrival + self.parameters.engine.holdTimeout
            {
                self.violate("4 held", "n\(index) wrote \(id), whose parent never exists, \(self.now - arrival) after it arrived")
            }
            inRequest.insert(id)
            Self.record(entry, isValid: self.made[id] != nil, in: &files)
            files.bytes += line
            files.bytes.append(UInt8(ascii: "\n"))
        }
        if isInPlace { files.watchedOffset = files.bytes.count }
        self.replicas[index].files[request.session] = files
        self.scheduleWatch(index)
        if isInPlace {
            self.feed(.appendCompletedInPlace(token: request.token, firstOffset: Int64(firstOffset)), to: index)
        } else {
            self.feed(.appendCompleted(token: request.token), to: index)
        }
    }

    static func record(_ entry: OpEntry, isValid: Bool, in files: inout SessionFiles) {
        files.opIDs.insert(entry.opID)
        files.parseableCount += 1
        if isValid { files.validEntries.append(entry) }
        files.highestTimestamp = max(files.highestTimestamp, entry.lamportTimestamp)
        files.highestByActor[entry.actorID] = max(files.highestByActor[entry.actorID] ?? 0, entry.lamportTimestamp)
    }

    /// Carries out `.writeCheckpoint` as a compare-and-replace: if a local writer rewrote the
    /// file since the engine last saw it, the write is skipped and the watcher feeds the file
    /// instead (the engine then asks again if it still holds a greater checkpoint). A blind
    /// replace would destroy a local checkpoint no engine has seen.
    func replaceCheckpoint(session: SessionID, with checkpoint: Checkpoint, at index: Int) {
        var files = self.replicas[index].files[session] ?? SessionFiles()
        if files.fedCheckpointVersion != files.checkpointVersion {
            self.scheduleWatch(index)
            return
        }
        if let made = self.checkpointsMade.first(where: { $0.checkpoint.bytes == checkpoint.bytes }), made.replica != index,
            self.replicas[made.replica].isReadOnly
        {
            self.violate("10 read-only", "n\(index) was given read-only n\(made.replica)'s checkpoint \(checkpoint.snapshotID)")
        }
        files.checkpoint = checkpoint
        files.checkpointVersion += 1
        // The engine asked for it: the watcher will see a file the engine already knows.
        files.fedCheckpointVersion = files.checkpointVersion
        files.history.append(checkpoint)
        self.replicas[index].files[session] = files
    }
}
