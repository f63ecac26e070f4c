import OpLog

@testable import OpLogReplication

// DESIGN §3, checked on the simulated files once the healed world is quiet.
extension SimulationWorld {
    /// One replica's file of one session, parsed.
    struct ParsedFile {
        var entries: [OpEntry] = []
        var position: [OpID: Int] = [:]
    }

    func checkInvariants() {
        for session in self.parameters.sessions {
            let files = self.replicas.indices.map { self.parse(session: session, at: $0) }
            self.checkContents(session: session, files: files)
            self.checkCausalOrder(session: session, files: files)
            self.checkCanonicalAgreement(session: session, files: files)
            self.checkCheckpoints(session: session, files: files)
        }
        self.checkEngines()
        self.checkResumption()
    }

    /// Parses a file, checking (2) no duplicates, (3) verbatim lines, (6) max + 1 and (8) no bad
    /// line from elsewhere.
    func parse(session: SessionID, at index: Int) -> ParsedFile {
        var parsed = ParsedFile()
        guard let files = self.replicas[index].files[session] else { return parsed }
        if let last = files.bytes.last, last != UInt8(ascii: "\n") {
            self.violate("file", "n\(index)'s \(session) ends in an unterminated line")
        }
        var highest = 0
        for line in files.bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            let line = Array(line)
            if self.forgedLines.contains(line) {
                self.violate("8 bad input stays out", "n\(index)'s \(session) holds a line corrupted on the wire")
            }
            guard let entry = self.entry(for: line) else {
                self.violate("8 bad input stays out", "n\(index)'s \(session) holds a line that does not parse")
                continue
            }
            let id = entry.opID
            // (6) Lamport clocks merge: a line this replica's own writers appended is above every
            // line before it in the file, those that came from peers included.
            // (An entry this replica made that a restore from a backup cut away, and that came back
            // from a peer, is not such a line.)
            if files.writtenHere.contains(id), entry.lamportTimestamp <= highest {
                self.violate(
                    "6 max+1",
                    "n\(index)'s writer wrote \(id) at \(entry.lamportTimestamp) in \(session), after a line at \(highest)"
                )
            }
            highest = max(highest, entry.lamportTimestamp)
            if parsed.position[id] != nil {
                self.violate("2 no duplicates", "\(id) appears twice in n\(index)'s \(session)")
                continue
            }
            if let origin = self.badLocal[id] {
                if origin != index { self.violate("8 bad input stays out", "n\(origin)'s forged local line \(id) reached n\(index)") }
                continue
            }
            guard let made = self.made[id] else {
                self.violate("3 verbatim", "n\(index)'s \(session) holds \(id), which no writer made")
                continue
            }
            if made.entry.line != line {
                self.violate("3 verbatim", "\(id) on n\(index) differs from the line n\(made.origin) wrote")
            }
            parsed.position[id] = parsed.entries.count
            parsed.entries.append(entry)
        }
        if files.highestTimestamp + 1 <= highest {
            self.violate("6 max+1", "the next timestamp on n\(index)'s \(session) would be \(files.highestTimestamp + 1), but the file holds \(highest)")
        }
        return parsed
    }

    /// (1) no loss and (10) read-only: every entry of a read-write replica is everywhere; a
    /// read-only replica's own entries are nowhere else.
    func checkContents(session: SessionID, files: [ParsedFile]) {
        var missing: [String] = []
        for id in self.madeOrder {
            guard let made = self.made[id], self.replicas[made.origin].files[session]?.opIDs.contains(id) == true else { continue }
            for index in self.replicas.indices where index != made.origin {
                let isPresent = files[index].position[id] != nil
                if self.replicas[made.origin].isReadOnly {
                    if isPresent { self.violate("10 read-only", "read-only n\(made.origin)'s entry \(id) is on n\(index)") }
                } else if !isPresent {
                    missing.append("\(id.rawValue.prefix(15)) of n\(made.origin) on n\(index)")
                }
            }
        }
        if !missing.isEmpty {
            self.violate("1 no loss", "\(missing.count) entries of \(session) missing, e.g. \(missing.prefix(4).joined(separator: ", "))")
        }
    }

    /// (4) causal files: every entry comes after each of its parents that is in the file.
    func checkCausalOrder(session: SessionID, files: [ParsedFile]) {
        for (index, file) in files.enumerated() {
            for (position, entry) in file.entries.enumerated() {
                for parent in entry.parentOpIDs {
                    guard let parentPosition = file.position[parent], parentPosition > position else { continue }
                    self.violate("4 causal", "on n\(index) \(session) line \(position + 1) (\(entry.opID)) comes before its parent at line \(parentPosition + 1)")
                }
            }
        }
    }

    /// (5) one canonical order: the same entries give the same canonical order and the same
    /// structured deltas everywhere (a read-only replica's own entries aside).
    func checkCanonicalAgreement(session: SessionID, files: [ParsedFile]) {
        var reference: (index: Int, order: [OpID], deltas: [StructuredDelta])?
        for (index, file) in files.enumerated() {
            let shared = file.entries.filter { entry in
                guard let origin = self.made[entry.opID]?.origin else { return false }
                return !self.replicas[origin].isReadOnly
            }
            let order = shared.canonicallySorted().map(\.opID)
            let deltas = ["music", "code"].map { StructuredDelta(domain: $0, entries: shared) }
            guard let reference else {
                reference = (index, order, deltas)
                continue
            }
            if order != reference.order {
                let extra = Set(order).symmetricDifference(reference.order).sorted().prefix(3)
                let who = extra.map { "\($0.rawValue.prefix(15)) of n\(self.made[$0]?.origin ?? -1)" }
                self.violate(
                    "5 canonical order",
                    "n\(index) and n\(reference.index) order \(session)'s entries differently"
                        + (extra.isEmpty ? "" : " (held by one only: \(who.joined(separator: ", ")))")
                )
            } else if deltas != reference.deltas {
                self.violate("5 canonical order", "n\(index) and n\(reference.index) compute different deltas of \(session)")
            }
        }
        // Since the checkpoint, on read-write replicas (which share the checkpoint).
        var sinceCheckpoint: (index: Int, delta: StructuredDelta)?
        for (index, file) in files.enumerated() where !self.replicas[index].isReadOnly {
            let checkpoint = self.replicas[index].files[session]?.checkpoint
            let pending = file.entries.filter { checkpoint?.covers(actorID: $0.actorID, lamportTimestamp: $0.lamportTimestamp) != true }
            let delta = StructuredDelta(domain: "music", entries: pending)
            guard let reference = sinceCheckpoint else {
                sinceCheckpoint = (index, delta)
                continue
            }
            if delta != reference.delta {
                self.violate("5 canonical order", "n\(index) and n\(reference.index) compute different deltas of \(session) since their checkpoints")
            }
        }
    }

    /// (7) checkpoints converge on the greatest a read-write replica wrote (of those still in a
    /// file or an engine when the faults stopped); none is lost from the histories; a read-only
    /// replica's own are nowhere else.
    func checkCheckpoints(session: SessionID, files: [ParsedFile]) {
        let made = self.checkpointsMade.filter { $0.session == session }
        func greatest(_ checkpoints: [Checkpoint]) -> Checkpoint? {
            checkpoints.max { Checkpoint.precedes($0, $1) }
        }
        let candidates = Set((self.checkpointCandidates[session] ?? []).map(\.bytes))
        let live = made.filter { candidates.contains($0.checkpoint.bytes) }
        let readWriteGreatest = greatest(live.filter { !self.replicas[$0.replica].isReadOnly }.map(\.checkpoint))
        for index in self.replicas.indices {
            let current = self.replicas[index].files[session]?.checkpoint
            let expected: Checkpoint?
            if self.replicas[index].isReadOnly {
                expected = greatest(live.filter { $0.replica == index }.map(\.checkpoint) + [readWriteGreatest].compactMap { $0 })
            } else {
                expected = readWriteGreatest
            }
            if current?.bytes != expected?.bytes {
                self.violate(
                    "7 checkpoints",
                    "n\(index)'s \(session) checkpoint is \(Self.describe(current)), expected \(Self.describe(expected))"
                )
            }
            let history = Set((self.replicas[index].files[session]?.history ?? []).map(\.bytes))
            for other in made where other.replica != index && self.replicas[other.replica].isReadOnly && history.contains(other.checkpoint.bytes) {
                self.violate("10 read-only", "read-only n\(other.replica)'s checkpoint \(other.checkpoint.snapshotID) is in n\(index)'s history")
            }
        }
        let everywhere = Set(self.replicas.flatMap { ($0.files[session]?.history ?? []).map(\.bytes) })
        for other in made where !everywhere.contains(other.checkpoint.bytes) {
            self.violate("7 checkpoints", "checkpoint \(other.checkpoint.snapshotID) of n\(other.replica) is in no history")
        }
    }

    static func describe(_ checkpoint: Checkpoint?) -> String {
        guard let checkpoint else { return "none" }
        let createdAt = checkpoint.createdAt.split(separator: "T").last ?? ""
        return "(\(checkpoint.lamportTimestamp), \(checkpoint.snapshotID), \(createdAt))"
    }

    /// Liveness and bookkeeping: nothing held, every link fully acknowledged, the engine's count
    /// of durable entries matches the file, statistics match the reports, no orphans where every
    /// parent exists.
    func checkEngines() {
        for (index, replica) in self.replicas.enumerated() {
            guard let engine = replica.engine else {
                self.violate("liveness", "n\(index) is not running after healing")
                continue
            }
            if engine.heldEntryCount != 0 { self.violate("liveness", "n\(index) still holds \(engine.heldEntryCount) entries") }
            for (session, files) in replica.files {
                let valid = files.opIDs.filter { self.badLocal[$0] == nil }.count
                if engine.durableCount(of: session) != valid {
                    self.violate("bookkeeping", "n\(index)'s engine counts \(engine.durableCount(of: session)) durable entries of \(session), its file holds \(valid)")
                }
                for link in self.links where link.low == index || link.high == index {
                    let peer = self.replicas[link.low == index ? link.high : link.low].node
                    let acknowledged = engine.acknowledgedSequence(of: peer, session: session)
                    if acknowledged != UInt64(engine.durableCount(of: session)) {
                        self.violate("liveness", "n\(index) has \(acknowledged) of \(engine.durableCount(of: session)) entries of \(session) acknowledged by \(peer)")
                    }
                }
            }
            if engine.statistics.entriesRejected != replica.rejectedEntryReports {
                self.violate("8 bad input stays out", "n\(index) counted \(engine.statistics.entriesRejected) rejected entries but reported \(replica.rejectedEntryReports)")
            }
            if engine.statistics.messagesRejected != replica.rejectedMessageReports || replica.rejectedMessageReports < replica.rogueMessages {
                self.violate(
                    "8 bad input stays out",
                    "n\(index) counted \(engine.statistics.messagesRejected) rejected messages, reported \(replica.rejectedMessageReports), was sent \(replica.rogueMessages) bad ones"
                )
            }
        }
        let orphans = self.replicas.map(\.orphanReports).reduce(0, +)
        let hasMissingParents = self.made.values.contains { $0.hasMissingParent && !self.replicas[$0.origin].isReadOnly }
        if self.parameters.missingParentRate == 0, orphans > 0 {
            self.violate("4 causal", "\(orphans) entries were written as orphans, yet every parent exists")
        } else if self.parameters.missingParentRate > 0, hasMissingParents, orphans == 0 {
            self.violate("4 held", "entries whose parent never exists were never reported as orphans")
        }
    }
}
