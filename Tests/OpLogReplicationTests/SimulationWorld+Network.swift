import Foundation
import OpLog

@testable import OpLogReplication

// The simulated network: links that go down and up, messages delayed, lost, duplicated and
// corrupted, and a peer that now and then sends frames that must be refused.
extension SimulationWorld {
    /// Whether both ends are running and the link is not partitioned.
    func shouldConnect(_ link: Link) -> Bool {
        !link.isPartitioned && self.replicas[link.low].engine != nil && self.replicas[link.high].engine != nil
    }

    func updateLinks(of index: Int) {
        for link in self.links.indices where self.links[link].low == index || self.links[link].high == index {
            self.updateLink(link)
        }
    }

    /// Brings the link up or down to match its ends and partition, telling both engines.
    func updateLink(_ link: Int) {
        let shouldConnect = self.shouldConnect(self.links[link])
        guard shouldConnect != self.links[link].isConnected else { return }
        self.links[link].isConnected = shouldConnect
        self.links[link].epoch += 1
        self.links[link].lastArrival = [self.now, self.now]
        self.noteReconnect(link)
        let (low, high) = (self.links[link].low, self.links[link].high)
        // Both ends get the same key, new at every connection, drawn apart from `random` so
        // that the seeds' runs do not move.
        var keys = SplitMix64(seed: UInt64(link) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(self.links[link].epoch))
        let key = ReconciliationKey(k0: keys.next(), k1: keys.next())
        // The pair key is the link's for good, as two nodes' identities make it. One link in
        // seven gives it to its low end only (a node of an older release at the other end), so
        // the first steps there never match and reconciliation goes the long way.
        var pairKeys = SplitMix64(seed: UInt64(link) &* 0xD1B5_4A32_D192_ED03)
        let pairKey = ReconciliationKey(k0: pairKeys.next(), k1: pairKeys.next())
        let ends = self.random.chance(0.5) ? [(low, high), (high, low)] : [(high, low), (low, high)]
        for (end, other) in ends {
            let peer = self.replicas[other].node
            let givenPairKey = link % 7 == 3 && end == high ? nil : pairKey
            self.feed(
                shouldConnect ? .peerConnected(peer, key: key, pairKey: givenPairKey) : .peerDisconnected(peer),
                to: end
            )
        }
    }

    func transmit(_ message: ReplicationMessage, from index: Int, to peer: NodeID) {
        guard let target = self.nodeIndex[peer], let link = self.linkIndex[Self.pairKey(index, target)] else {
            self.violate("contract", "n\(index) sent to \(peer), which is not its neighbour")
            return
        }
        guard self.links[link].isConnected else {
            self.violate("contract", "n\(index) sent to \(peer) while their link is down")
            return
        }
        self.lastSend = self.now
        if self.isRecording {
            self.recentSends.append("t=\(self.now) n\(index)->\(peer): \(Self.summary(message))")
            if self.recentSends.count > 12 { self.recentSends.removeFirst() }
            if ProcessInfo.processInfo.environment["OPLOG_SIM_TRACE"] != nil {
                print("t=\(self.now) n\(index)->\(peer): \(Self.summary(message))")
            }
        }
        let isFaulty = !self.isHealing
        if isFaulty, self.random.chance(self.parameters.dropRate) { return }
        var message = message
        if isFaulty, self.random.chance(self.parameters.corruptRate), case .entries(var batch) = message, !batch.lines.isEmpty {
            let victim = self.random.below(batch.lines.count)
            batch.lines[victim] = self.corrupt(batch.lines[victim])
            self.forgedLines.insert(batch.lines[victim])
            message = .entries(batch)
        }
        let copies = isFaulty && self.random.chance(self.parameters.duplicateRate) ? 2 : 1
        for _ in 0..<copies {
            var arrival = self.now + self.random.duration(.milliseconds(1)...self.parameters.maximumDelay)
            if self.parameters.isInOrder {
                let direction = index == self.links[link].low ? 0 : 1
                arrival = max(arrival, self.links[link].lastArrival[direction])
                self.links[link].lastArrival[direction] = arrival
            }
            let delivery = Delivery(from: index, to: target, link: link, epoch: self.links[link].epoch, message: message)
            self.queue.schedule(.deliver(delivery), at: arrival)
            self.inFlight += 1
        }
    }

    func deliver(_ delivery: Delivery) {
        self.inFlight -= 1
        let link = self.links[delivery.link]
        guard link.isConnected, link.epoch == delivery.epoch else { return }
        self.deliveries += 1
        if case .entries(let batch) = delivery.message {
            self.deliveredLines += batch.lines.count
            for line in batch.lines {
                if let entry = self.lines[line] {
                    self.payloadReceipts[delivery.to][entry.opID, default: 0] += 1
                    if !self.steadyReceipts.isEmpty { self.steadyReceipts[delivery.to][entry.opID, default: 0] += 1 }
                }
            }
        }
        if case .entries(let batch) = delivery.message, self.parameters.missingParentRate > 0 {
            for line in batch.lines {
                guard let entry = self.lines[line], self.replicas[delivery.to].arrivals[entry.opID] == nil else { continue }
                self.replicas[delivery.to].arrivals[entry.opID] = self.now
            }
        }
        self.feed(.received(delivery.message, from: self.replicas[delivery.from].node), to: delivery.to)
    }

    /// A line that must fail validation: cut short (not JSON), or, for a content-addressed
    /// entry, a changed id or changed content (the `sha256:` id no longer matches). An opaque id
    /// cannot be checked, so those lines are only ever cut short.
    func corrupt(_ line: [UInt8]) -> [UInt8] {
        let text = String(decoding: line, as: UTF8.self)
        let isContentAddressed = text.contains(#""op_id":"sha256:"#)
        switch isContentAddressed ? self.random.below(3) : 0 {
        case 0:
            return Array(line.prefix(self.random.below(line.count)))
        case 1:
            guard let range = text.firstRange(of: #""op_id":"sha256:"#) else { return Array(line.prefix(10)) }
            var bytes = Array(text.utf8)
            let digit = text.utf8.distance(from: text.startIndex, to: range.upperBound) + self.random.below(64)
            bytes[digit] = bytes[digit] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
            return bytes
        default:
            return Array(text.replacingOccurrences(of: #""domain":""#, with: #""domain":"x"#).utf8)
        }
    }

    /// A connected peer sends a frame that must be refused as a whole.
    func injectRogueMessage(at index: Int) {
        guard self.replicas[index].engine != nil else { return }
        let neighbours = self.links.filter { $0.isConnected && ($0.low == index || $0.high == index) }.map { $0.low == index ? $0.high : $0.low }
        guard !neighbours.isEmpty else { return }
        let peer = self.replicas[self.random.pick(neighbours)].node
        let session = self.random.pick(self.parameters.sessions).rawValue
        let line = self.made.isEmpty ? Array("{}".utf8) : self.made[self.madeOrder[self.random.below(self.madeOrder.count)]]?.entry.line ?? []
        let message: ReplicationMessage
        switch self.random.below(4) {
        case 0:
            message = .entries(EntryBatch(session: "../\(self.random.hex(6))", after: 0, through: 1, lines: [line]))
        case 1:
            message = .entries(EntryBatch(session: session, after: 7, through: 7, lines: []))
        case 2:
            message = .entries(EntryBatch(session: session, after: 0, through: 1, lines: [line, line]))
        default:
            message = .checkpoint(session: session, bytes: Array("{\"session_id\": \"\(session)\"".utf8))
        }
        self.replicas[index].rogueMessages += 1
        self.feed(.received(message, from: peer), to: index)
    }

    static func summary(_ message: ReplicationMessage) -> String {
        switch message {
        case .entries(let batch):
            "entries \(batch.session) (\(batch.after), \(batch.through)] \(batch.lines.count) lines \(batch.notices.count) notices"
                + (batch.isLive ? " live" : "")
        case .acknowledge(let session, let after, let through): "ack \(session) (\(after), \(through)]"
        case .checkpoint(let session, let bytes): "checkpoint \(session) \(Self.describe(try? Checkpoint(bytes: bytes)))"
        case .checkpointAcknowledge(let session, let lamport, let snapshot, _): "checkpoint ack \(session) \(lamport) \(snapshot)"
        case .retransmit(let session): "retransmit \(session)"
        case .reconcile(let session, let exchange, let step, let ranges):
            "reconcile \(session) \(exchange) step \(step) \(ranges.map { "\($0.payload)..\($0.upperBound)" })"
        case .prune(let session): "prune \(session)"
        case .graft(let session, let sequences): "graft \(session) \(sequences)"
        }
    }

    // MARK: - Replay trace

    func trace(_ event: Event) {
        self.digest.add(UInt64(self.now / .microseconds(1)))
        switch event {
        case .deliver(let delivery): self.digest.add("deliver \(delivery.from) \(delivery.to) \(delivery.epoch)")
        case .tick(let index): self.digest.add("tick \(index)")
        case .write(let index): self.digest.add("write \(index)")
        case .checkpoint(let index): self.digest.add("checkpoint \(index)")
        case .watch(let index): self.digest.add("watch \(index)")
        case .partition(let link): self.digest.add("partition \(link)")
        case .crash(let index): self.digest.add("crash \(index)")
        case .restart(let index): self.digest.add("restart \(index)")
        case .rogue(let index): self.digest.add("rogue \(index)")
        case .finishWrite(let index, let session): self.digest.add("finish write \(index) \(session)")
        case .heal: self.digest.add("heal")
        }
    }

    func trace(_ action: ReplicationAction, at index: Int) {
        self.digest.add(UInt64(index))
        switch action {
        case .send(let message, let peer):
            self.digest.add("send \(peer)")
            switch message {
            case .entries(let batch):
                self.digest.add("entries \(batch.session) \(batch.after) \(batch.through) \(batch.isLive)")
                for line in batch.lines { self.digest.add(line) }
                for notice in batch.notices { self.digest.add("notice \(notice.sequence) \(notice.hash) \(notice.contentHash)") }
            case .acknowledge(let session, let after, let through):
                self.digest.add("ack \(session) \(after) \(through)")
            case .checkpoint(let session, let bytes):
                self.digest.add("checkpoint \(session)")
                self.digest.add(bytes)
            case .checkpointAcknowledge(let session, let lamportTimestamp, let snapshotID, let digest):
                self.digest.add("checkpoint ack \(session) \(lamportTimestamp) \(snapshotID)")
                self.digest.add(digest)
            case .retransmit(let session):
                self.digest.add("retransmit \(session)")
            case .reconcile(let session, let exchange, let step, let ranges):
                self.digest.add("reconcile \(session) \(exchange) \(step) \(ranges)")
            case .prune(let session):
                self.digest.add("prune \(session)")
            case .graft(let session, let sequences):
                self.digest.add("graft \(session) \(sequences)")
            }
        case .ship(let shipment):
            self.digest.add("ship \(shipment.peer) \(shipment.session) \(shipment.after) \(shipment.through) \(shipment.isLive)")
            for location in shipment.locations { self.digest.add("\(location.offset):\(location.length)") }
            for notice in shipment.notices { self.digest.add("notice \(notice.sequence) \(notice.hash)") }
        case .append(let request):
            self.digest.add("append \(request.token) \(request.session)")
            for line in request.lines { self.digest.add(line) }
        case .writeCheckpoint(let session, let checkpoint):
            self.digest.add("write checkpoint \(session)")
            self.digest.add(checkpoint.bytes)
        case .recordRemoteCheckpoint(let session, let checkpoint):
            self.digest.add("remote checkpoint \(session)")
            self.digest.add(checkpoint.bytes)
        case .recordArrivals(let session, let arrivals):
            self.digest.add("arrivals \(session) \(arrivals.map { "\($0.opID) \($0.peer)" })")
        case .recordProgress(let peer, let session, let acknowledged):
            self.digest.add("progress \(peer) \(session) \(acknowledged)")
        case .resetSession(let session):
            self.digest.add("reset \(session)")
        case .recordOrigins(let session, let firstSequence, let origins):
            self.digest.add("origins \(session) \(firstSequence) \(origins.map { $0?.rawValue ?? "-" })")
        case .recordIndex(let session, let firstSequence, let entries, let lastLineDigest):
            self.digest.add("index \(session) \(firstSequence) \(entries.map(\.opID)) \(lastLineDigest)")
        case .report(let report):
            self.digest.add("report \(report)")
        }
    }
}

extension SimulationWorld {
    /// How often each replica received the line of each of the steady phase's counted entries
    /// (not the writer's own), over all such (replica, entry) pairs: the most, and the mean.
    var steadyReceiptSummary: (most: Int, mean: Double, pairs: Int) {
        guard let start = self.steadyStart, !self.steadyReceipts.isEmpty else { return (0, 0, 0) }
        var counts: [Int] = []
        for id in self.madeOrder[start...] {
            guard let origin = self.made[id]?.origin else { continue }
            for replica in self.replicas.indices where replica != origin {
                counts.append(self.steadyReceipts[replica][id] ?? 0)
            }
        }
        guard !counts.isEmpty else { return (0, 0, 0) }
        return (counts.max() ?? 0, Double(counts.reduce(0, +)) / Double(counts.count), counts.count)
    }

    /// How often the replicas received the entries' lines over their links: the most times one
    /// replica received one entry, and the mean over the (replica, entry) pairs where it did.
    var payloadReceiptSummary: (most: Int, mean: Double) {
        let counts = self.payloadReceipts.flatMap(\.values)
        guard !counts.isEmpty else { return (0, 0) }
        return (counts.max() ?? 0, Double(counts.reduce(0, +)) / Double(counts.count))
    }
}
