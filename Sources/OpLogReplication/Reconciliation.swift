internal import Crypto
public import OpLog

// Range-based set reconciliation (in the style of Meyer's "Range-Based Set Reconciliation" and
// Negentropy): two replicas that do not know what the other holds of a session compare
// fingerprints of ranges of entries, and recurse only into the ranges that differ, so the bytes
// they exchange grow with the difference, not with the logs.

/// A message that breaks the reconciliation rules; the exchange is given up.
struct ReconciliationError: Error, Sendable {
    var message: String
}

/// One side of a reconciliation of one session with one peer.
///
/// Both sides follow the same rules, whichever started, and each learns from the exchange which
/// of its own entries the other lacks:
/// - a ``ReconciliationPayload/fingerprint(count:sum:)`` equal to ours is answered
///   ``ReconciliationPayload/matched``; otherwise with our ids when we hold at most
///   ``idThreshold`` entries there, or else with the fingerprints of ``branching`` parts of the
///   range, split by our entries;
/// - ``ReconciliationPayload/ids(_:)`` tells us which of our entries in the range the peer
///   lacks, and is answered with the ``ReconciliationPayload/lacking(_:)`` bitmap of its ids;
/// - `matched` and `lacking` answer what we sent, and settle the range.
///
/// Every range a side sends as a fingerprint or ids must be answered by the next message; the
/// exchange is complete for a side once its answer has nothing left to ask (it then sends
/// nothing, or only its last answers). Over TCP the exchange cannot go wrong; a message that
/// breaks the rules (a peer bug, or a simulated network that reorders) throws, and the caller
/// gives the exchange up and ships everything, which is always correct.
struct Reconciliation: Sendable {
    /// Parts a differing range is split into.
    static let branching = 16
    /// A range with at most this many of our entries is answered with their ids.
    static let idThreshold = 32

    /// Names the exchange in every message of it; chosen by the side that starts it.
    let exchange: UInt64
    /// The key this exchange hashes entries with: the link's, made the exchange's own.
    private let key: ReconciliationKey
    /// The step the next message of the exchange must carry (steps count messages from 0, the
    /// start, and alternate between the sides).
    var expectedStep: UInt32
    /// The entries `1...count` of the session take part; later ones are shipped as usual.
    let count: Int
    /// The sum of those entries' items under the whole-session key: what the fingerprint of the
    /// whole range, and only that range, is compared by (see ``init(exchange:linkKey:count:wholeSum:isStartedHere:now:)``).
    private let wholeSum: UInt64
    private var snapshot: ReconciliationSnapshot?
    /// Where the exchange stands for this side.
    private var phase: Phase = .opening
    /// What the exchange found the peer lacks of our entries, so far.
    private(set) var finding: Finding = .entries([])
    /// This side sent the first message (rather than answering the peer's): fixed for the
    /// exchange, and what breaks the tie when both sides start one.
    let isStartedHere: Bool
    /// When the last message of the exchange came or went, to give up a stalled exchange.
    var lastActivity: Duration

    private enum Phase: Sendable {
        /// Nothing asked yet: a responder before its first answer, or a starter before
        /// ``start(_:)``.
        case opening
        /// Our last message asked about these ranges (at least one); the next message must
        /// answer each of them.
        case awaiting([Awaiting])
        /// The peer's answer to everything we asked has come, and we asked nothing more.
        case complete
    }

    /// What the peer lacks of our entries.
    enum Finding: Sendable {
        /// The entries with these sequence numbers (found so far, in no particular order).
        case entries([UInt32])
        /// Every entry: the peer holds nothing of the session.
        case everything
    }

    /// Sequence numbers of our entries the peer lacks, found so far (empty when it lacks
    /// everything: see ``lacksEverything``).
    var lacking: [UInt32] {
        switch self.finding {
        case .entries(let sequences): sequences
        case .everything: []
        }
    }

    /// The peer holds nothing of the session: it lacks every entry.
    var lacksEverything: Bool {
        switch self.finding {
        case .entries: false
        case .everything: true
        }
    }

    /// The peer's answer to everything we asked has come, and we asked nothing more.
    var isComplete: Bool {
        switch self.phase {
        case .opening, .awaiting: false
        case .complete: true
        }
    }

    /// Ranges of our last message that the next message must answer.
    private var awaiting: [Awaiting] {
        switch self.phase {
        case .opening, .complete: []
        case .awaiting(let ranges): ranges
        }
    }

    private mutating func noteLacking(_ sequence: UInt32) {
        switch self.finding {
        case .entries(var sequences):
            self.finding = .entries([])  // so the append does not copy the array
            sequences.append(sequence)
            self.finding = .entries(sequences)
        case .everything:
            break
        }
    }

    private struct Awaiting: Sendable {
        var lower: ReconciliationBound
        var upper: ReconciliationBound
        /// The positions of the ids we sent, or nil for a fingerprint.
        var ids: Range<Int>?
    }

    /// An exchange whose fingerprint of the whole range (the first step, when both sides are
    /// usually in sync) sums the entries' items under a key that stays the same across
    /// connections, so that the caller can keep that sum up to date as entries come rather than
    /// hash every entry at each connect (``ReplicationEngine/wholeSum(of:for:count:exchangeKey:)``);
    /// every other range hashes with the exchange's own key.
    ///
    /// - Parameters:
    ///   - exchange: The exchange's id.
    ///   - linkKey: The link's key; the exchange hashes with one derived from it
    ///     (``ReconciliationKey/exchangeKey(_:)``).
    ///   - count: The entries `1...count` of the session take part.
    ///   - wholeSum: The sum of the items of those entries under the whole-session key: the
    ///     link's pair key, or the exchange's key when the link has none. Both sides must use the
    ///     same key for the first step to match; when they do not, the exchange goes the long
    ///     way, and is still correct.
    ///   - isStartedHere: This side sends the first message.
    ///   - now: The time of the exchange's start.
    init(
        exchange: UInt64,
        linkKey: ReconciliationKey,
        count: Int,
        wholeSum: UInt64,
        isStartedHere: Bool,
        now: Duration
    ) {
        self.exchange = exchange
        self.key = linkKey.exchangeKey(exchange)
        self.expectedStep = isStartedHere ? 1 : 0
        self.count = count
        self.wholeSum = wholeSum
        self.isStartedHere = isStartedHere
        self.lastActivity = now
    }

    /// Where a replica's exchange numbers start: a hash of its node id, so that two replicas'
    /// exchanges with the same peer are not named alike.
    /// The top bit of an exchange id marks a start made after this side's file was reset (see
    /// ``ReplicationEvent/localFileReset(session:entries:)``): the peer answers it even when its
    /// own start is under way, and lets its outcome, not the acknowledgements, decide what it
    /// ships. Ordinary starts have it clear; older peers take it for an ordinary start.
    static let resetFlag: UInt64 = 1 << 63

    /// Whether `exchange` was started after a reset of the starter's file.
    static func isReset(_ exchange: UInt64) -> Bool { exchange & Self.resetFlag != 0 }

    /// `exchange` without its reset flag: a starter's exchanges count upwards in it.
    static func serial(_ exchange: UInt64) -> UInt64 { exchange & ~Self.resetFlag }

    static func exchangeSeed(of node: NodeID?) -> UInt64 {
        let digest = SHA256.hash(data: Array((node?.rawValue ?? "").utf8))
        return digest.withUnsafeBytes { bytes in bytes.prefix(8).reduce(0) { ($0 << 8) | UInt64($1) } }
    }

    /// The sum of the items of `entries` under `key`: a fingerprint's sum.
    static func sum(of entries: ArraySlice<KnownEntry>, key: ReconciliationKey) -> UInt64 {
        var sum: UInt64 = 0
        for entry in entries { sum &+= key.item(entry.key.hash, entry.contentHash) }
        return sum
    }

    /// The first message of an exchange this side starts: one fingerprint of everything.
    mutating func start() -> [ReconciliationRange] {
        self.phase = .awaiting([Awaiting(lower: .start, upper: .end, ids: nil)])
        return [
            ReconciliationRange(
                upperBound: .end,
                payload: .fingerprint(count: UInt64(self.count), sum: self.wholeSum)
            )
        ]
    }

    /// Takes the peer's message and returns the answer to send.
    ///
    /// - Parameters:
    ///   - ranges: The peer's message.
    ///   - order: The session's entries in sequence order; the first ``count`` take part.
    /// - Returns: The answer, or nil when it would only skip (the exchange is over).
    /// - Throws: `ReconciliationError` when the message does not answer what we asked, or its
    ///   ranges are not in order and do not end at ``ReconciliationBound/end``.
    mutating func answer(
        _ ranges: [ReconciliationRange],
        order: [KnownEntry]
    ) throws(ReconciliationError) -> [ReconciliationRange]? {
        if ranges == [ReconciliationRange(upperBound: .end, payload: .ids([]))], self.awaiting.count == 1,
            self.awaiting[0].lower == .start, self.awaiting[0].upper == .end, self.awaiting[0].ids == nil
        {
            // The peer has nothing (a fresh replica): no need to sort our entries to learn that.
            self.finding = .everything
            self.phase = .complete
            return [ReconciliationRange(upperBound: .end, payload: .lacking([]))]
        }
        if self.snapshot == nil {
            let shortcut = self.matchWhole(ranges)
            if shortcut.isTaken { return shortcut.reply }
        }
        if self.snapshot == nil { self.snapshot = ReconciliationSnapshot(order.prefix(self.count), key: self.key) }
        guard let snapshot = self.snapshot else { return nil }
        var reply = Reply()
        var lower = ReconciliationBound.start
        var pending = self.awaiting[...]
        var next: [Awaiting] = []
        for range in ranges {
            let upper = range.upperBound
            guard lower < upper else {
                throw ReconciliationError(message: "range bounds out of order at \(upper)")
            }
            // The range we asked about that this one falls in, if any.
            while let first = pending.first, first.upper <= lower { pending.removeFirst() }
            let asked = pending.first.flatMap { $0.lower <= lower && upper <= $0.upper ? $0 : nil }
            if let first = pending.first, asked == nil, first.lower < upper {
                throw ReconciliationError(message: "range ending at \(upper) straddles one we asked about")
            }
            let indices = snapshot.indices(from: lower, to: upper)
            switch range.payload {
            case .skip:
                guard asked == nil else {
                    throw ReconciliationError(message: "no answer for the range ending at \(upper)")
                }
                reply.add(upper, .skip)
            case .matched:
                guard let asked, asked.ids == nil, asked.lower == lower, asked.upper == upper else {
                    throw ReconciliationError(message: "\"matched\" for a range we sent no fingerprint of")
                }
                reply.add(upper, .skip)
            case .lacking(let bitmap):
                guard let asked, let sent = asked.ids, asked.lower == lower, asked.upper == upper,
                    bitmap.count == (sent.count + 7) / 8
                else {
                    throw ReconciliationError(message: "\"lacking\" for a range we sent no ids of")
                }
                for (bit, index) in sent.enumerated() where bitmap[bit / 8] & (1 << (bit % 8)) != 0 {
                    self.noteLacking(snapshot.sequences[index])
                }
                reply.add(upper, .skip)
            case .ids(let theirs):
                guard asked.map({ $0.ids == nil && $0.lower == lower && $0.upper == upper }) ?? true else {
                    throw ReconciliationError(message: "ids where an answer to our ids was due")
                }
                let theirSet = Set(theirs)
                var mine = Set<UInt64>(minimumCapacity: indices.count)
                for index in indices {
                    let item = snapshot.items[index]
                    mine.insert(item)
                    if !theirSet.contains(item) { self.noteLacking(snapshot.sequences[index]) }
                }
                var bitmap = [UInt8](repeating: 0, count: (theirs.count + 7) / 8)
                for (bit, item) in theirs.enumerated() where !mine.contains(item) {
                    bitmap[bit / 8] |= 1 << (bit % 8)
                }
                reply.add(upper, .lacking(bitmap))
            case .fingerprint(let count, let sum):
                if let asked, asked.ids != nil {
                    throw ReconciliationError(message: "a fingerprint where an answer to our ids was due")
                }
                let ours =
                    lower == .start && upper == .end
                    ? (count: UInt64(self.count), sum: self.wholeSum) : snapshot.fingerprint(indices)
                if ours.count == count && ours.sum == sum {
                    reply.add(upper, .matched)
                } else if indices.count <= Self.idThreshold {
                    reply.add(upper, .ids(Array(snapshot.items[indices])))
                    next.append(Awaiting(lower: lower, upper: upper, ids: indices))
                } else {
                    // Split by our entries into equal parts, each fingerprinted.
                    var partLower = lower
                    for part in 0..<Self.branching {
                        let end = indices.lowerBound + indices.count * (part + 1) / Self.branching
                        let partUpper = part == Self.branching - 1 ? upper : snapshot.keys[end]
                        guard partLower < partUpper else { continue }
                        let partIndices = snapshot.indices(from: partLower, to: partUpper)
                        let print = snapshot.fingerprint(partIndices)
                        reply.add(partUpper, .fingerprint(count: print.count, sum: print.sum))
                        next.append(Awaiting(lower: partLower, upper: partUpper, ids: nil))
                        partLower = partUpper
                    }
                }
            }
            lower = upper
        }
        guard lower == .end else { throw ReconciliationError(message: "the ranges end at \(lower), not at the end") }
        while let first = pending.first, first.upper <= lower { pending.removeFirst() }
        guard pending.isEmpty else { throw ReconciliationError(message: "ranges we asked about were not answered") }
        self.phase = next.isEmpty ? .complete : .awaiting(next)
        return reply.isOnlySkips ? nil : reply.ranges
    }

    /// The answer to a fingerprint of everything that equals ours, found from the whole sum
    /// with no sort (two replicas in sync, reconnecting); not taken when the message is
    /// something else or the fingerprints differ, and ``answer(_:order:)`` goes the long way.
    /// A whole-range fingerprint is a valid message only while nothing or exactly the whole
    /// range is awaited, as the long way checks too.
    ///
    /// The starter's side of the same: "matched" for the fingerprint of everything it sent ends
    /// the exchange (with no reply), again without a sort.
    private mutating func matchWhole(
        _ ranges: [ReconciliationRange]
    ) -> (isTaken: Bool, reply: [ReconciliationRange]?) {
        let isWholeAwaited =
            self.awaiting.count == 1 && self.awaiting[0].lower == .start && self.awaiting[0].upper == .end
            && self.awaiting[0].ids == nil
        guard ranges.count == 1, ranges[0].upperBound == .end else { return (false, nil) }
        if ranges[0].payload == .matched, isWholeAwaited {
            self.phase = .complete
            return (true, nil)
        }
        guard case .fingerprint(let count, let sum) = ranges[0].payload, count == UInt64(self.count),
            self.awaiting.isEmpty || isWholeAwaited, sum == self.wholeSum
        else { return (false, nil) }
        self.phase = .complete
        return (true, [ReconciliationRange(upperBound: .end, payload: .matched)])
    }

    /// Whether this exchange sorted its entries (for tests: an exchange between replicas in
    /// sync never does).
    var hasSortedEntries: Bool { self.snapshot != nil }

    /// An answer being built: neighbouring skips merge into one range.
    private struct Reply {
        var ranges: [ReconciliationRange] = []
        var isOnlySkips = true

        mutating func add(_ upper: ReconciliationBound, _ payload: ReconciliationPayload) {
            if payload == .skip, let last = self.ranges.last, last.payload == .skip {
                self.ranges[self.ranges.count - 1].upperBound = upper
                return
            }
            if payload != .skip { self.isOnlySkips = false }
            self.ranges.append(ReconciliationRange(upperBound: upper, payload: payload))
        }
    }
}
