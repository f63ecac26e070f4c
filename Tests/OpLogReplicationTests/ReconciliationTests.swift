import OpLog
import Testing

@testable import OpLogReplication

/// The reconciliation exchange on its own: two sides with known sets of keys run it to the end,
/// and each must learn exactly which of its entries the other lacks, with traffic that grows
/// with the difference.
@Suite("Set reconciliation")
struct ReconciliationTests {
    /// Entries with these keys, in this (file) order; each content hash is made from its key
    /// unless `contentHashes` gives it.
    static func entries(_ keys: [ReconciliationBound], contentHashes: [UInt64]? = nil) -> [KnownEntry] {
        keys.enumerated().map { index, key in
            KnownEntry(
                location: EntryLocation(offset: Int64(index) * 100, length: 99),
                origin: .local,
                key: key,
                contentHash: contentHashes?[index] ?? key.hash ^ key.lamport &* 0x9E37_79B9_7F4A_7C15
            )
        }
    }

    /// What one full exchange did.
    struct Outcome: Sendable {
        /// Sequence numbers each side found the other to lack (all of them when it lacks
        /// everything).
        var aLacking: Set<UInt32>
        var bLacking: Set<UInt32>
        var messages: [[ReconciliationRange]]
        var isComplete: Bool
        /// Whether each side sorted its entries (starter, responder).
        var sorted: (Bool, Bool)

        /// Ids and ranges that travelled, the two measures of the exchange's size.
        var idCount: Int {
            self.messages.joined().reduce(0) { total, range in
                if case .ids(let ids) = range.payload { total + ids.count } else { total }
            }
        }
        var rangeCount: Int { self.messages.reduce(0) { $0 + $1.count } }
    }

    /// Runs an exchange that `a` starts until a side has nothing more to say, on the simulation
    /// thread (the large sets take seconds in a debug build; off the cooperative pool, they do
    /// not starve the tests running beside them).
    static func exchange(_ a: [KnownEntry], _ b: [KnownEntry]) async throws -> Outcome {
        try await SimulationThread.run { Result { try Self.exchangeNow(a, b) } }.get()
    }

    static func exchangeNow(_ a: [KnownEntry], _ b: [KnownEntry]) throws -> Outcome {
        var starter = Reconciliation(exchange: 7, linkKey: .testing, order: a, isStartedHere: true)
        var responder = Reconciliation(exchange: 7, linkKey: .testing, order: b, isStartedHere: false)
        var messages = [starter.start()]
        var isStarterNext = false
        while let last = messages.last, messages.count < 200 {
            let reply =
                isStarterNext
                ? try starter.answer(last, order: a)
                : try responder.answer(last, order: b)
            guard let reply else { break }
            messages.append(reply)
            isStarterNext.toggle()
        }
        func lacking(_ side: Reconciliation, _ count: Int) -> Set<UInt32> {
            side.lacksEverything ? Set((0..<UInt32(count)).map { $0 + 1 }) : Set(side.lacking)
        }
        return Outcome(
            aLacking: lacking(starter, a.count),
            bLacking: lacking(responder, b.count),
            messages: messages,
            isComplete: starter.isComplete && responder.isComplete,
            sorted: (starter.hasSortedEntries, responder.hasSortedEntries)
        )
    }

    /// The sequence numbers of `mine` whose keys `theirs` does not have.
    static func expectedLacking(_ mine: [ReconciliationBound], _ theirs: [ReconciliationBound]) -> Set<UInt32> {
        let other = Set(theirs)
        return Set(mine.enumerated().compactMap { other.contains($0.element) ? nil : UInt32($0.offset + 1) })
    }

    static func keys(_ count: Int, lamports: ClosedRange<Int>, random: inout SplitMix64) -> [ReconciliationBound] {
        (0..<count).map { _ in
            ReconciliationBound(lamport: UInt64(random.within(lamports)), hash: random.next())
        }
    }

    @Test func identicalSetsMatchInOneRoundTrip() async throws {
        var random = SplitMix64(seed: 1)
        let keys = Self.keys(10_000, lamports: 1...10_000, random: &random)
        var shuffled = keys
        shuffled.reverse()  // another file order of the same entries
        let outcome = try await Self.exchange(Self.entries(keys), Self.entries(shuffled))
        #expect(outcome.isComplete)
        #expect(outcome.aLacking.isEmpty && outcome.bLacking.isEmpty)
        #expect(outcome.messages.count == 2, "\(outcome.messages)")
        #expect(outcome.messages.last == [ReconciliationRange(upperBound: .end, payload: .matched)])
        #expect(outcome.sorted == (false, false), "replicas in sync compare sums in one pass; neither sorts")
    }

    @Test func aPeerWithNothingLacksEverythingAndNothingIsSorted() async throws {
        var random = SplitMix64(seed: 2)
        let keys = Self.keys(5_000, lamports: 1...5_000, random: &random)
        let outcome = try await Self.exchange(Self.entries(keys), [])
        #expect(outcome.isComplete)
        #expect(outcome.aLacking.count == 5_000)
        #expect(outcome.bLacking.isEmpty)
        #expect(outcome.messages.count == 3)
    }

    /// The shape offline work has: both sides share a history and each wrote on after it.
    @Test func workDoneApartCostsIdsInProportionToIt() async throws {
        var random = SplitMix64(seed: 3)
        let shared = Self.keys(100_000, lamports: 1...100_000, random: &random)
        let onlyA = Self.keys(1_000, lamports: 100_001...101_000, random: &random)
        let onlyB = Self.keys(1_000, lamports: 100_001...101_000, random: &random)
        let a = shared + onlyA
        let b = shared + onlyB
        let outcome = try await Self.exchange(Self.entries(a), Self.entries(b))
        #expect(outcome.isComplete)
        #expect(outcome.aLacking == Self.expectedLacking(a, b))
        #expect(outcome.bLacking == Self.expectedLacking(b, a))
        #expect(outcome.aLacking.count == 1_000 && outcome.bLacking.count == 1_000)
        // Ids of one side's part of the differing ranges, and fingerprints down to them: a small
        // multiple of the 2,000 entries that differ, nothing like the 101,000 each side holds.
        #expect(outcome.idCount <= 2_000, "ids: \(outcome.idCount)")
        #expect(outcome.rangeCount <= 1_000, "ranges: \(outcome.rangeCount)")
    }

    /// Differences scattered evenly are the worst case for ranges; still exact.
    @Test func scatteredDifferencesAreFoundExactly() async throws {
        var random = SplitMix64(seed: 4)
        let all = Self.keys(20_000, lamports: 1...20_000, random: &random)
        let a = all.enumerated().filter { $0.offset % 97 != 0 }.map(\.element)
        let b = all.enumerated().filter { $0.offset % 89 != 1 }.map(\.element)
        let outcome = try await Self.exchange(Self.entries(a), Self.entries(b))
        #expect(outcome.isComplete)
        #expect(outcome.aLacking == Self.expectedLacking(a, b))
        #expect(outcome.bLacking == Self.expectedLacking(b, a))
    }

    /// Random sets of random sizes and overlaps, many Lamport ties: every outcome exact.
    @Test(arguments: 0..<60)
    func randomSetsAreReconciledExactly(seed: UInt64) async throws {
        var random = SplitMix64(seed: 1_000 + seed)
        let pool = Self.keys(random.within(0...3_000), lamports: 1...random.within(1...400), random: &random)
        let share = random.within(0...100)
        var a: [ReconciliationBound] = []
        var b: [ReconciliationBound] = []
        for key in pool {
            if random.below(100) < share {
                a.append(key)
                b.append(key)
            } else if random.chance(0.5) {
                a.append(key)
            } else {
                b.append(key)
            }
        }
        let outcome = try await Self.exchange(Self.entries(a), Self.entries(b))
        #expect(outcome.isComplete)
        #expect(outcome.aLacking == Self.expectedLacking(a, b), "seed \(seed)")
        #expect(outcome.bLacking == Self.expectedLacking(b, a), "seed \(seed)")
    }

    @Test func aMessageThatAnswersNothingWeAskedIsRefused() {
        let order = Self.entries([ReconciliationBound(lamport: 1, hash: 1)])
        var responder = Reconciliation(exchange: 7, linkKey: .testing, order: order, isStartedHere: false)
        #expect(throws: ReconciliationError.self) {
            try responder.answer([ReconciliationRange(upperBound: .end, payload: .matched)], order: order)
        }
        var starter = Reconciliation(exchange: 7, linkKey: .testing, order: order, isStartedHere: true)
        _ = starter.start()
        // A skip leaves our fingerprint unanswered.
        #expect(throws: ReconciliationError.self) {
            try starter.answer([ReconciliationRange(upperBound: .end, payload: .skip)], order: order)
        }
    }

    @Test func rangesOutOfOrderOrShortOfTheEndAreRefused() {
        let order = Self.entries([ReconciliationBound(lamport: 1, hash: 1)])
        var side = Reconciliation(exchange: 7, linkKey: .testing, order: order, isStartedHere: false)
        let high = ReconciliationBound(lamport: 9, hash: 0)
        let low = ReconciliationBound(lamport: 2, hash: 0)
        #expect(throws: ReconciliationError.self) {
            try side.answer(
                [ReconciliationRange(upperBound: high, payload: .skip), ReconciliationRange(upperBound: low, payload: .skip)],
                order: order
            )
        }
        #expect(throws: ReconciliationError.self) {
            try side.answer([ReconciliationRange(upperBound: high, payload: .fingerprint(count: 1, sum: 5))], order: order)
        }
    }

    @Test func aLackingBitmapOfTheWrongSizeIsRefused() throws {
        let keys = (1...3).map { ReconciliationBound(lamport: UInt64($0), hash: UInt64($0)) }
        var starter = Reconciliation(exchange: 7, linkKey: .testing, order: Self.entries(keys), isStartedHere: true)
        _ = starter.start()
        // The peer differs, and we hold few enough to answer with our ids…
        let reply = try starter.answer(
            [ReconciliationRange(upperBound: .end, payload: .fingerprint(count: 1, sum: 1))],
            order: Self.entries(keys)
        )
        let exchangeKey = ReconciliationKey.testing.exchangeKey(7)
        let items = Self.entries(keys).map { exchangeKey.item($0.key.hash, $0.contentHash) }
        #expect(reply == [ReconciliationRange(upperBound: .end, payload: .ids(items))])
        // …which a bitmap for 9 or more ids does not answer.
        #expect(throws: ReconciliationError.self) {
            try starter.answer([ReconciliationRange(upperBound: .end, payload: .lacking([0, 0]))], order: Self.entries(keys))
        }
    }

    @Test func theKeyOfAnEntryIsItsClockThenAStableHashOfItsID() throws {
        let entry = Fixture.entry(lamport: 42)
        let key = ReconciliationBound(entry)
        #expect(key.lamport == 42)
        #expect(key.hash == ReconciliationBound.hash(of: entry.opID))
        // SHA-256("u1") starts with 0xbb82030dbc2bcaba (checked with sha256sum).
        #expect(ReconciliationBound.hash(of: try OpID(validating: "u1")) == 0xbb82_030d_bc2b_caba)
    }
}

extension Reconciliation {
    /// A side of an exchange of all of `order`, whose whole-session fingerprint hashes with the
    /// exchange's own key, as on a link without a pair key.
    init(exchange: UInt64, linkKey: ReconciliationKey, order: [KnownEntry], isStartedHere: Bool) {
        self.init(
            exchange: exchange,
            linkKey: linkKey,
            count: order.count,
            wholeSum: Self.sum(of: order[...], key: linkKey.exchangeKey(exchange)),
            isStartedHere: isStartedHere,
            now: .zero
        )
    }
}
