import FuzzSupport
import Glibc
import OpLog
import OpLogReplication

// Alice's engine, linked to a genuine peer (bob) and a hostile one (mallory), is fed a run of
// steps chosen by the input: the genuine exchange's messages, delivered, dropped, repeated or
// altered on their way to alice, and well-formed messages with hostile content (out-of-order
// bounds, huge counts, bitmaps of the wrong size, steps and exchanges out of sequence, bad
// lines and checkpoints) from both peers. Properties:
// - the engine never traps, and every location it ships from is a whole line of its file;
// - every reconcile message alice sends is well-formed: no ranges (given up), or bounds
//   strictly increasing up to the end;
// - afterwards the engine is still usable: bob's link, broken and made again (with the pair key
//   whose whole-session sums the engine keeps between connections), reconciles and
//   each side ends up with every entry the other held; no file holds an op id twice; and no
//   entry waits for parents once the hold timeout has passed.

// SwiftPM links an executable's entry point as `<Module>_main`.
@_cdecl("FuzzReconciliation_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv, testOneInput: fuzzTestOneInput)
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>?,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    SeedWriter.writeIfAsked(Seeds.all)
    _ = prepared.entries.count  // made once, before the first input is timed
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data: data, size: size)
    var run = HostileRun()
    run.play(&input)
    run.checkStillUsable()
    return 0
}

struct HostileRun {
    var conversation = Conversation(prepared.alice, prepared.bob)
    var hostile = HostileMessages()
    /// The last genuine message delivered to alice, to repeat.
    var lastDelivered: ReplicationMessage?
    /// Messages alice sent that were already looked at.
    var seenToBob = 0
    var seenElsewhere = 0

    init() {
        _ = self.conversation.left.handle(
            .peerConnected(PreparedWorld.mallory, key: PreparedWorld.key, pairKey: PreparedWorld.pairKey)
        )
        self.conversation.connect(key: PreparedWorld.key, pairKey: PreparedWorld.pairKey)
        self.noteAliceSent()
    }

    mutating func play(_ input: inout FuzzInput) {
        var steps = 0
        while !input.isAtEnd && steps < 200 {
            steps += 1
            switch input.byte() % 12 {
            case 0, 1:
                if !self.conversation.toLeft.isEmpty { self.deliverToAlice(self.conversation.toLeft.removeFirst()) }
            case 2:
                if !self.conversation.toLeft.isEmpty {
                    self.deliverToAlice(Self.alter(self.conversation.toLeft.removeFirst(), &input))
                }
            case 3:
                if !self.conversation.toLeft.isEmpty { self.conversation.toLeft.removeFirst() }
            case 4:
                if let last = self.lastDelivered { self.deliverToAlice(last) }
            case 5, 6:
                self.deliverToAlice(self.hostile.message(&input, from: PreparedWorld.bob))
            case 7, 8:
                let message = self.hostile.message(&input, from: PreparedWorld.mallory)
                self.conversation.deliverToLeft(message, from: PreparedWorld.mallory)
                self.noteAliceSent()
            case 9:
                self.conversation.advance(by: .milliseconds(Int64(input.integer(as: UInt16.self)) * 10))
                self.noteAliceSent()
            case 10:
                self.conversation.disconnect()
                self.seenToBob = 0
                self.conversation.connect(
                    key: ReconciliationKey(k0: input.integer(), k1: input.integer()),
                    pairKey: input.bool() ? PreparedWorld.pairKey : nil
                )
                self.noteAliceSent()
            default:
                if !self.conversation.toRight.isEmpty {
                    self.conversation.deliverToRight(self.conversation.toRight.removeFirst())
                    self.seenToBob = max(0, self.seenToBob - 1)
                    self.noteAliceSent()
                }
            }
        }
    }

    mutating func deliverToAlice(_ message: ReplicationMessage) {
        self.lastDelivered = message
        self.conversation.deliverToLeft(message)
        self.noteAliceSent()
    }

    /// Checks what alice sent since the last look, and remembers her last reconcile message to
    /// each peer for the hostile replies.
    mutating func noteAliceSent() {
        let toBob = self.conversation.toRight
        for message in toBob[min(self.seenToBob, toBob.count)...] { self.note(message, to: PreparedWorld.bob) }
        self.seenToBob = toBob.count
        let elsewhere = self.conversation.sentElsewhere
        for sent in elsewhere[self.seenElsewhere...] where sent.from == PreparedWorld.alice {
            self.note(sent.message, to: sent.to)
        }
        self.seenElsewhere = elsewhere.count
    }

    mutating func note(_ message: ReplicationMessage, to peer: NodeID) {
        guard case .reconcile(_, let exchange, let step, let ranges) = message else { return }
        Self.checkWellFormed(ranges, exchange: exchange, step: step)
        self.hostile.lastReconcile[peer] = (exchange, step, ranges)
    }

    static func checkWellFormed(_ ranges: [ReconciliationRange], exchange: UInt64, step: UInt32) {
        guard !ranges.isEmpty else { return }
        for (lower, upper) in zip(ranges, ranges.dropFirst()) {
            require(
                lower.upperBound < upper.upperBound,
                "alice sent reconcile \(exchange) step \(step) with bounds out of order: \(lower.upperBound), \(upper.upperBound)"
            )
        }
        require(ranges.last?.upperBound == .end, "alice sent reconcile \(exchange) step \(step) not ending at the end")
    }

    /// A genuine message altered on its way: one field or one range changed.
    static func alter(_ message: ReplicationMessage, _ input: inout FuzzInput) -> ReplicationMessage {
        switch message {
        case .reconcile(let session, var exchange, var step, var ranges):
            switch input.byte() % 8 {
            case 0: exchange ^= UInt64(1) << (input.byte() % 64)
            case 1: step = step &+ UInt32(input.byte()) &- 128
            case 2: if !ranges.isEmpty { ranges.remove(at: input.index(below: ranges.count)) }
            case 3: if !ranges.isEmpty { ranges.insert(input.pick(ranges), at: input.index(below: ranges.count)) }
            case 4:
                if ranges.count > 1 {
                    ranges.swapAt(input.index(below: ranges.count), input.index(below: ranges.count))
                }
            case 5:
                if !ranges.isEmpty {
                    let index = input.index(below: ranges.count)
                    ranges[index].upperBound.hash ^= UInt64(1) << (input.byte() % 64)
                }
            case 6:
                if !ranges.isEmpty {
                    let index = input.index(below: ranges.count)
                    ranges[index].payload = Self.alter(ranges[index].payload, &input)
                }
            default: ranges = []
            }
            return .reconcile(session: session, exchange: exchange, step: step, ranges: ranges)
        case .entries(var batch):
            switch input.byte() % 4 {
            case 0: if !batch.lines.isEmpty { batch.lines.remove(at: input.index(below: batch.lines.count)) }
            case 1: batch.through = batch.through &+ UInt64(input.byte()) &- 128
            case 2: batch.after = batch.after &+ UInt64(input.byte()) &- 128
            default:
                if !batch.lines.isEmpty {
                    let index = input.index(below: batch.lines.count)
                    batch.lines[index][input.index(below: batch.lines[index].count)] = input.byte()
                }
            }
            return .entries(batch)
        case .acknowledge(let session, let after, let through):
            return .acknowledge(session: session, after: after, through: through &+ UInt64(input.byte()) &- 128)
        case .checkpoint(let session, var bytes):
            if !bytes.isEmpty { bytes[input.index(below: bytes.count)] = input.byte() }
            return .checkpoint(session: session, bytes: bytes)
        case .graft(let session, var sequences):
            if !sequences.isEmpty {
                let index = input.index(below: sequences.count)
                sequences[index] = sequences[index] &+ UInt64(input.byte()) &- 128
            }
            return .graft(session: session, sequences: sequences)
        case .checkpointAcknowledge, .retransmit, .prune:
            return message
        }
    }

    static func alter(_ payload: ReconciliationPayload, _ input: inout FuzzInput) -> ReconciliationPayload {
        switch payload {
        case .skip: return .matched
        case .matched: return .skip
        case .fingerprint(let count, let sum):
            return input.bool() ? .fingerprint(count: count &+ 1, sum: sum) : .fingerprint(count: count, sum: sum ^ 1)
        case .ids(var ids):
            if ids.isEmpty || input.bool() { ids.append(input.integer()) } else { ids.removeLast() }
            return .ids(ids)
        case .lacking(var bitmap):
            if bitmap.isEmpty || input.bool() { bitmap.append(input.byte()) } else { bitmap.removeLast() }
            return .lacking(bitmap)
        }
    }

    /// Breaks bob's link, makes it again, lets the two reconcile undisturbed, and checks that
    /// they converged on what each held before the run.
    mutating func checkStillUsable() {
        self.conversation.disconnect()
        self.conversation.connect(key: PreparedWorld.key, pairKey: PreparedWorld.pairKey)
        require(self.conversation.run(), "the exchange after the hostile run did not end")
        // Entries that wait for parents are written once their hold runs out; an orphan one side
        // writes then reaches the other, which holds it in turn, so time moves on a few times,
        // while something is still held or lacking (most runs need none).
        for round in 0...4 {
            guard let gap = self.convergenceGap() else { break }
            if round == 4 { failProperty(gap) }
            self.conversation.advance(by: .seconds(120))
            require(self.conversation.run(), "the exchange after the hold timeout did not end")
        }
        for replica in [self.conversation.left, self.conversation.right] {
            for file in replica.files.keys.sorted() where file != Fixtures.session {
                _ = Self.addedIDs(replica, in: file, before: [], holding: [])
            }
        }
    }

    /// What keeps alice and bob from holding what each held before the run, with nothing held
    /// for its parents; nil when nothing does.
    func convergenceGap() -> String? {
        let alice = self.conversation.left
        let bob = self.conversation.right
        // Only what the run added is parsed: the files before it are known, and may only grow.
        // By op id: an opaque id is not checked against its content, so a hostile peer may have
        // given alice another line under one of bob's ids first, and both files keep their own.
        let aliceAdded = Self.addedIDs(alice, before: prepared.aliceFile, holding: prepared.aliceIDs)
        let bobAdded = Self.addedIDs(bob, before: prepared.bobFile, holding: prepared.bobIDs)
        if let entry = prepared.aliceOnly.first(where: { !bobAdded.contains($0.opID) }) {
            return "after the hostile run bob still lacks alice's \(String(decoding: entry.line, as: UTF8.self))"
        }
        if let entry = prepared.bobOnly.first(where: { !aliceAdded.contains($0.opID) }) {
            return "after the hostile run alice still lacks bob's \(String(decoding: entry.line, as: UTF8.self))"
        }
        for replica in [alice, bob] where replica.engine.heldEntryCount > 0 {
            return "\(replica.name) still holds \(replica.engine.heldEntryCount) entries after their hold timeout"
        }
        return nil
    }

    /// The op ids of the lines `replica`'s `file` gained after its first `before.count` bytes,
    /// which must still be `before`; fails the run when a gained line does not parse or holds an
    /// op id the file already held (`holding`, or an earlier gained line).
    static func addedIDs(
        _ replica: MemoryReplica,
        in file: SessionID = Fixtures.session,
        before: [UInt8],
        holding: Set<OpID>
    ) -> Set<OpID> {
        let bytes = replica.files[file, default: []]
        // memcmp: a comparison in Swift would be traced byte by byte by the fuzzer's coverage.
        let kept =
            bytes.count >= before.count
            && bytes.withUnsafeBytes { now in
                before.withUnsafeBytes { then in
                    guard let old = then.baseAddress, let new = now.baseAddress else { return then.isEmpty }
                    return memcmp(new, old, then.count) == 0
                }
            }
        require(kept, "\(replica.name)'s \(file) lost some of the \(before.count) bytes it held before the run")
        var added = Set<OpID>()
        var start = before.count
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            let line = Array(bytes[start..<end])
            start = end + 1
            guard !line.isEmpty else { continue }
            guard let id = (try? OpEntry(line: line))?.opID else {
                failProperty("\(replica.name)'s \(file) holds a line that does not parse: \(hex(line))")
            }
            require(!holding.contains(id) && added.insert(id).inserted, "\(replica.name)'s \(file) holds \(id) twice")
        }
        return added
    }
}
