import OpLog

@testable import OpLogReplication

// Local writers: Muse-like processes appending entries and rewriting checkpoints, whether or not
// the replica's engine is running.
extension SimulationWorld {
    /// Appends one entry to a random session, as a Muse writer would: Lamport timestamp one
    /// above the highest in the file, parents chosen from the file.
    func writeEntry(at index: Int) {
        let session = self.random.pick(self.parameters.sessions)
        var files = self.replicas[index].files[session] ?? SessionFiles()
        // One line at a time: another writer's line would interleave with one mid-append.
        guard files.unfinished == nil else { return }
        let actor = self.random.pick(self.replicas[index].actors)
        let lamport = files.highestTimestamp + 1
        var parents: [OpID] = []
        if let last = files.validEntries.last {
            let roll = self.random.below(100)
            if roll < 50 {
                parents = [last.opID]
            } else if roll < 75 {
                parents = [self.random.pick(files.validEntries).opID]
            } else if roll < 80 {
                let other = self.random.pick(files.validEntries).opID
                parents = other == last.opID ? [last.opID] : [last.opID, other]
            }
        }
        var hasMissingParent = false
        if self.random.chance(self.parameters.missingParentRate) {
            let missing = try! OpID(validating: self.random.chance(0.5) ? "sha256:" + self.random.hex(64) : self.uuid())
            self.missingParents.insert(missing)
            parents.append(missing)
            hasMissingParent = true
        }
        let domain = self.random.chance(0.7) ? "music" : "code"
        let kind = self.random.pick(["insert", "delete", "update", "move", ""])
        self.madeCount += 1
        let number = self.madeCount
        let entry: OpEntry
        if self.random.chance(self.parameters.opaqueRate) {
            entry = self.opaqueEntry(actor: actor, lamport: lamport, parents: parents, domain: domain, kind: kind, number: number)
        } else {
            var members: [JSONObject.Member] = []
            if !kind.isEmpty { members.append(.init(key: "op", value: .string(kind))) }
            members.append(.init(key: "n", value: .number(JSONNumber(number))))
            if number % 3 == 0 { members.append(.init(key: "text", value: .string("caf\u{E9} \u{1F3B5} \"q\""))) }
            entry = try! OpEntry.make(
                actorID: actor,
                lamportTimestamp: lamport,
                parentOpIDs: parents,
                domain: domain,
                domainOp: .object(JSONObject(members)),
                createdAt: "2026-01-01T00:00:\(number)+00:00",
                intentID: number % 4 == 0 ? "intent-\(number)" : ""
            )
        }
        var line = entry.line
        if entry.opID.isContentAddressed, self.random.chance(self.parameters.badLocalRate) {
            // A buggy local writer: the content changed after the id was computed.
            line = Array(String(decoding: line, as: UTF8.self).replacingOccurrences(of: #""n":\#(number)"#, with: #""n":\#(number + 1)"#).utf8)
            let forged = try! OpEntry(line: line)
            self.badLocal[forged.opID] = index
            files.writtenHere.insert(forged.opID)
            Self.record(forged, isValid: false, in: &files)
        } else {
            self.made[entry.opID] = Made(entry: entry, origin: index, hasMissingParent: hasMissingParent)
            files.writtenHere.insert(entry.opID)
            self.madeOrder.append(entry.opID)
            self.lines[entry.line] = entry
            Self.record(entry, isValid: true, in: &files)
        }
        if self.parameters.partialWriteRate > 0, line.count > 1, self.fileRandom.chance(self.parameters.partialWriteRate) {
            // A writer mid-append: part of the line now, the rest (and its `\n`) later.
            let cut = self.fileRandom.within(1...(line.count - 1))
            files.bytes += line[..<cut]
            files.unfinished = (id: try! OpEntry(line: line).opID, rest: Array(line[cut...]) + [UInt8(ascii: "\n")])
            let delay = self.fileRandom.duration(.milliseconds(1)...(.milliseconds(1500)))
            self.queue.schedule(.finishWrite(index, session), at: self.now + delay)
        } else {
            files.bytes += line
            files.bytes.append(UInt8(ascii: "\n"))
        }
        self.replicas[index].files[session] = files
        self.scheduleWatch(index)
    }

    /// The writer mid-append writes the rest of its line.
    func finishWrite(session: SessionID, at index: Int) {
        guard var files = self.replicas[index].files[session], let unfinished = files.unfinished else { return }
        files.bytes += unfinished.rest
        files.unfinished = nil
        self.replicas[index].files[session] = files
        self.scheduleWatch(index)
    }

    func uuid() -> String {
        "\(self.random.hex(8))-\(self.random.hex(4))-4\(self.random.hex(3))-a\(self.random.hex(3))-\(self.random.hex(12))"
    }

    /// An entry from an older writer: a UUID op id, an unknown field, escapes as Python writes them.
    func opaqueEntry(actor: String, lamport: Int, parents: [OpID], domain: String, kind: String, number: Int) -> OpEntry {
        let parentList = parents.map { "\"\($0.rawValue)\"" }.joined(separator: ",")
        let op = kind.isEmpty ? #"{"n":\#(number)}"# : #"{"op":"\#(kind)","n":\#(number),"text":"na\u00efve"}"#
        let line =
            #"{"op_id":"\#(self.uuid())","actor_id":"\#(actor)","lamport_ts":\#(lamport),"parent_op_ids":[\#(parentList)],"domain":"\#(domain)","domain_op":\#(op),"created_at":"2026-01-01T00:00:\#(number)+00:00","intent_id":"","reservation_id":"","x_client":{"kept":[1,2.50]}}"#
        return try! OpEntry(line: Array(line.utf8))
    }

    /// Muse's `checkpoint(snapshot_id)`: the highest timestamp and the entry count of the file,
    /// plus the frontier. Half the snapshot ids are derived from the state alone, so replicas
    /// that checkpoint the same state make checkpoints equal in (`lamport_ts`, `snapshot_id`)
    /// and different in bytes (`created_at`).
    func writeLocalCheckpoint(at index: Int) {
        let session = self.random.pick(self.parameters.sessions)
        guard var files = self.replicas[index].files[session], files.parseableCount > 0 else { return }
        self.checkpointCount += 1
        let snapshot = self.random.chance(self.parameters.stateSnapshotRate) ? "snap-\(files.highestTimestamp)-\(files.parseableCount)" : "snap-n\(index)-\(self.checkpointCount)"
        let checkpoint = Checkpoint.make(
            sessionID: session,
            snapshotID: snapshot,
            lamportTimestamp: files.highestTimestamp,
            opCount: files.parseableCount,
            createdAt: "2026-01-01T\(self.now / .milliseconds(1))-n\(index)",
            frontier: Frontier(files.highestByActor)
        )
        self.checkpointsMade.append((index, session, checkpoint))
        files.checkpoint = checkpoint
        files.checkpointVersion += 1
        files.history.append(checkpoint)
        self.replicas[index].files[session] = files
        self.scheduleWatch(index)
    }
}
