import OpLog

@testable import OpLogReplication

// The host: what the world does with each engine's actions, and how it feeds the engines.
extension SimulationWorld {
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
            case .resetSession(let session):
                self.replicas[index].savedOrigins[session] = nil
                self.replicas[index].savedIndex[session] = nil
                for peer in self.replicas[index].savedProgress.keys where self.replicas[index].savedProgress[peer]?[session] != nil {
                    self.replicas[index].savedProgress[peer]?[session] = 0
                }
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
        case .peerLacksAcknowledged, .duplicateReceived, .repeatedLocalOpID:
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
        let batch = EntryBatch(shipment, lines: lines)
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
