import FuzzSupport
import OpLog
import OpLogReplication

/// Builds well-formed messages with hostile content from the fuzz input: the values a peer
/// could put in a frame that decodes.
struct HostileMessages {
    /// Alice's last reconcile message to each peer: what a reply would answer.
    var lastReconcile: [NodeID: (exchange: UInt64, step: UInt32, ranges: [ReconciliationRange])] = [:]

    func session(_ input: inout FuzzInput) -> String {
        switch input.byte() % 8 {
        case 0: "live-2"
        case 1: "../x"
        case 2: ""
        case 3: String(decoding: input.shortBytes(), as: UTF8.self)
        default: Fixtures.session.rawValue
        }
    }

    mutating func message(_ input: inout FuzzInput, from peer: NodeID) -> ReplicationMessage {
        switch input.byte() % 12 {
        case 0, 1, 2, 3: self.reconcile(&input, from: peer)
        case 10: .prune(session: self.session(&input))
        case 11:
            .graft(
                session: self.session(&input),
                sequences: (0..<Int(input.byte() % 16)).map { _ in self.number(&input) }
            )
        case 4, 5: .entries(self.entries(&input))
        case 6: .checkpoint(session: self.session(&input), bytes: self.checkpointBytes(&input))
        case 7:
            .checkpointAcknowledge(
                session: self.session(&input),
                lamportTimestamp: input.integer(as: Int64.self),
                snapshotID: String(decoding: input.shortBytes(), as: UTF8.self),
                digest: input.shortBytes()
            )
        case 8: .acknowledge(session: self.session(&input), after: self.number(&input), through: self.number(&input))
        default: .retransmit(session: self.session(&input))
        }
    }

    /// A sequence number: small, near the session's size, or anything.
    func number(_ input: inout FuzzInput) -> UInt64 {
        switch input.byte() % 4 {
        case 0: UInt64(input.byte())
        case 1: 250 + UInt64(input.byte() % 64)
        case 2: .max - UInt64(input.byte())
        default: input.integer()
        }
    }

    // MARK: - Reconcile

    func reconcile(_ input: inout FuzzInput, from peer: NodeID) -> ReplicationMessage {
        let last = self.lastReconcile[peer]
        let exchange: UInt64 =
            switch input.byte() % 6 {
            case 0: input.integer()
            case 1: (last?.exchange ?? 0) ^ (1 << 63)
            case 2: UInt64(input.byte())
            default: last?.exchange ?? input.integer()
            }
        let step: UInt32 =
            switch input.byte() % 6 {
            case 0: 0
            case 1: input.integer()
            case 2: last?.step ?? 0
            case 3: (last?.step ?? 0) &+ 2
            default: (last?.step ?? 0) &+ 1
            }
        let count =
            switch input.byte() % 8 {
            case 0: 0
            case 1: 200 + Int(input.byte())
            default: 1 + Int(input.byte() % 24)
            }
        var ranges: [ReconciliationRange] = []
        for index in 0..<count {
            let bound = self.bound(&input, index: index, of: count, last: last?.ranges, previous: ranges.last)
            ranges.append(ReconciliationRange(upperBound: bound, payload: self.payload(&input, last: last?.ranges)))
        }
        if count > 0, input.byte() % 4 != 0 {
            // Mostly in order and ending at the end, as a message must be to get past the first checks.
            ranges.sort { $0.upperBound < $1.upperBound }
            ranges[ranges.count - 1].upperBound = .end
        }
        return .reconcile(session: self.session(&input), exchange: exchange, step: step, ranges: ranges)
    }

    func bound(
        _ input: inout FuzzInput,
        index: Int,
        of count: Int,
        last: [ReconciliationRange]?,
        previous: ReconciliationRange?
    ) -> ReconciliationBound {
        let entryBounds = prepared.bounds
        switch input.byte() % 8 {
        case 0: return .start
        case 1: return .end
        case 2: return ReconciliationBound(lamport: input.integer(), hash: input.integer())
        case 3:
            // Just above or below a real entry's place.
            let bound = input.pick(entryBounds)
            return ReconciliationBound(lamport: bound.lamport, hash: bound.hash &+ UInt64(input.byte()) &- 128)
        case 4, 5:
            if let last, !last.isEmpty { return input.pick(last).upperBound }
            return input.pick(entryBounds)
        default:
            // Evenly through the entries, so ranges split the session as a real peer would.
            let position = entryBounds.count * (index + 1) / (count + 1)
            return entryBounds[min(entryBounds.count - 1, position)]
        }
    }

    func payload(_ input: inout FuzzInput, last: [ReconciliationRange]?) -> ReconciliationPayload {
        // What alice sent: fingerprints to answer or echo, ids to answer with a bitmap or echo.
        let fingerprints = (last ?? []).compactMap { range -> (UInt64, UInt64)? in
            guard case .fingerprint(let count, let sum) = range.payload else { return nil }
            return (count, sum)
        }
        let idLists = (last ?? []).compactMap { range -> [UInt64]? in
            guard case .ids(let ids) = range.payload else { return nil }
            return ids
        }
        switch input.byte() % 6 {
        case 0: return .skip
        case 1: return .matched
        case 2:
            if let echoed = fingerprints.isEmpty ? nil : input.pick(fingerprints), input.bool() {
                return .fingerprint(count: echoed.0, sum: echoed.1)
            }
            let count: UInt64 = input.bool() ? UInt64(input.byte()) : input.integer()
            return .fingerprint(count: count, sum: input.integer())
        case 3:
            var ids: [UInt64] = idLists.isEmpty ? [] : input.pick(idLists)
            switch input.byte() % 4 {
            case 0: ids = (0..<Int(input.byte() % 40)).map { _ in input.integer() }
            case 1: ids = Array(ids.dropLast(Int(input.byte() % 4)))
            case 2: ids += (0..<Int(input.byte() % 8)).map { _ in input.integer() }
            default: break
            }
            return .ids(ids)
        default:
            // A bitmap of the right size for some id list alice sent, or of any size.
            let idCount = idLists.isEmpty ? Int(input.byte()) : input.pick(idLists).count
            let size: Int =
                switch input.byte() % 4 {
                case 0: Int(input.byte() % 40)
                case 1: max(0, (idCount + 7) / 8 + Int(input.byte() % 3) - 1)
                default: (idCount + 7) / 8
                }
            return .lacking((0..<size).map { _ in input.byte() })
        }
    }

    // MARK: - Entries and checkpoints

    func entries(_ input: inout FuzzInput) -> EntryBatch {
        let session = self.session(&input)
        let after = self.number(&input)
        let through = input.bool() ? after &+ UInt64(input.byte()) : self.number(&input)
        let lineCount = Int(input.byte() % 12)
        let lines = (0..<lineCount).map { _ in self.line(&input) }
        let notices = (0..<Int(input.byte() % 6)).map { _ in self.notice(&input, after: after, through: through) }
        return EntryBatch(
            session: session,
            after: after,
            through: through,
            lines: lines,
            notices: notices,
            isLive: input.bool()
        )
    }

    /// A notice: of a real entry or of none, numbered inside the batch's range or anywhere.
    func notice(_ input: inout FuzzInput, after: UInt64, through: UInt64) -> EntryNotice {
        let sequence =
            input.bool() && through > after
            ? after &+ 1 &+ UInt64(input.byte()) % (through - after) : self.number(&input)
        guard input.bool() else {
            return EntryNotice(sequence: sequence, hash: input.integer(), contentHash: input.integer())
        }
        let (bound, contentHash) = ReconciliationBound.placing(input.pick(prepared.entries))
        return EntryNotice(sequence: sequence, hash: bound.hash, contentHash: contentHash)
    }

    func line(_ input: inout FuzzInput) -> [UInt8] {
        switch input.byte() % 6 {
        case 0, 1: return input.pick(prepared.entries).line
        case 2:
            // A real line with one byte changed: a content id no longer matches, or the JSON breaks.
            var line = input.pick(prepared.entries).line
            line[input.index(below: line.count)] = input.byte()
            return line
        case 3, 4:
            // A new entry with an opaque id: accepted as it is, however odd its clock and parents.
            let id = "m-\(input.integer(as: UInt16.self))"
            let lamport: String =
                switch input.byte() % 4 {
                case 0: "9223372036854775807"
                case 1: "9007199254740992"
                case 2: String(input.integer(as: UInt16.self))
                default: String(input.integer(as: UInt64.self))
                }
            var parents: [String] = []
            for _ in 0..<Int(input.byte() % 4) {
                parents.append(input.bool() ? input.pick(prepared.entries).opID.rawValue : "m-\(input.byte())")
            }
            let parentList = parents.map { "\"\($0)\"" }.joined(separator: ",")
            let line =
                #"{"op_id":"\#(id)","actor_id":"mallory","lamport_ts":\#(lamport),"#
                + #""parent_op_ids":[\#(parentList)],"domain":"music","domain_op":{}}"#
            return Array(line.utf8)
        default:
            return input.shortBytes()
        }
    }

    func checkpointBytes(_ input: inout FuzzInput) -> [UInt8] {
        switch input.byte() % 6 {
        case 0:
            let lamport = Int(input.integer(as: UInt64.self) % (1 << 53))
            return Fixtures.checkpoint(snapshot: "s-\(input.byte())", lamport: lamport).bytes
        case 1:
            return Fixtures.checkpoint(session: Fixtures.otherSession, snapshot: "s", lamport: 5).bytes
        case 2:
            let lamport = input.pick(["9000000000000000000", "9007199254740992", "-1", "1e3", "12", "\"7\""])
            return Fixtures.museCheckpoint(snapshot: "s-\(input.byte())", lamport: lamport)
        case 3:
            var bytes = Fixtures.checkpoint(snapshot: "s", lamport: 40).bytes
            bytes[input.index(below: bytes.count)] = input.byte()
            return bytes
        case 4:
            return Fixtures.museCheckpoint(
                session: self.session(&input),
                snapshot: "s-m",
                lamport: String(input.byte())
            )
        default:
            return input.shortBytes()
        }
    }
}
