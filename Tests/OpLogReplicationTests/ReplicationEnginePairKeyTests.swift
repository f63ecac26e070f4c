import OpLog
import Testing

@testable import OpLogReplication

/// With a pair key (the same at each connection between two nodes), the fingerprint of a whole
/// session is kept from one connect to the next: two nodes in sync reconnect without hashing
/// their entries again, and everything else reconciles as before.
@Suite("Replication engine: whole-session sums kept between connections")
struct ReplicationEnginePairKeyTests {
    typealias Pair = ReplicationEngineReconciliationTests.Pair
    let alice = Fixture.alice
    let bob = Fixture.bob
    static let pairKey = ReconciliationKey(k0: 0x5EED_0001, k1: 0x5EED_0002)

    static func chain(actor: String, lamports: ClosedRange<Int>, after parent: OpEntry? = nil) -> [OpEntry] {
        ReplicationEngineReconciliationTests.chain(actor: actor, lamports: lamports, after: parent)
    }

    static func holdTheSame(_ pair: Pair) -> Bool {
        Set(pair.alice.lines()) == Set(pair.bob.lines())
    }

    static func hashes(_ pair: Pair) -> (alice: Int, bob: Int) {
        (pair.alice.engine.statistics.reconciliationHashes, pair.bob.engine.statistics.reconciliationHashes)
    }

    /// Two nodes in sync, 200 entries each; with `pairKeys`, connected once before the returned
    /// pair is handed over.
    static func inSync(pairKeys: (ReconciliationKey?, ReconciliationKey?)) -> Pair {
        var pair = Pair()
        pair.pairKeys = pairKeys
        let shared = Self.chain(actor: "studio", lamports: 1...200)
        _ = pair.alice.write(shared)
        _ = pair.bob.write(shared)
        pair.connect()
        pair.disconnect()
        return pair
    }

    @Test func nodesInSyncReconnectWithoutHashingTheirEntries() {
        var pair = Self.inSync(pairKeys: (Self.pairKey, Self.pairKey))
        #expect(Self.hashes(pair) == (200, 200), "the first connect hashes each side's entries once")
        for _ in 0..<3 {
            pair.reconcileMessages = [:]
            pair.connect()
            pair.disconnect()
            // One fingerprint from the smaller id, "matched" back, bob's own start ignored.
            #expect(pair.reconcileMessages[self.alice] == 1 && pair.reconcileMessages[self.bob] == 2)
        }
        #expect(Self.hashes(pair) == (200, 200), "the sums were kept: no entry hashed again")
        #expect(pair.shipped.values.reduce(0, +) == 0)
    }

    /// The test above would pass without the kept sums were the counter not counting: the same
    /// reconnects without a pair key hash every entry each time.
    @Test func withoutAPairKeyEveryConnectHashesEveryEntry() {
        var pair = Self.inSync(pairKeys: (nil, nil))
        let first = Self.hashes(pair)
        #expect(first.alice >= 200 && first.bob >= 200)
        pair.connect()
        pair.disconnect()
        let second = Self.hashes(pair)
        #expect(second.alice - first.alice >= 200 && second.bob - first.bob >= 200)
    }

    @Test func entriesThatCameLiveAreHashedOnceAtTheNextConnect() {
        var pair = Self.inSync(pairKeys: (Self.pairKey, Self.pairKey))
        pair.connect()
        let written = pair.alice.write(Self.chain(actor: "studio", lamports: 201...207, after: nil))
        pair.run([(self.alice, written)])
        #expect(pair.bob.lines().count == 207, "shipped live")
        pair.disconnect()
        let before = Self.hashes(pair)
        pair.reconcileMessages = [:]
        pair.connect()
        let after = Self.hashes(pair)
        #expect(after.alice - before.alice == 7 && after.bob - before.bob == 7, "\(before) \(after)")
        #expect(pair.reconcileMessages[self.alice] == 1 && pair.reconcileMessages[self.bob] == 2)
    }

    @Test func whatOneSideWroteWhileApartStillCrosses() {
        var pair = Self.inSync(pairKeys: (Self.pairKey, Self.pairKey))
        let aliceOwn = Self.chain(actor: "studio", lamports: 201...260)
        let bobOwn = Self.chain(actor: "laptop", lamports: 201...203)
        _ = pair.alice.write(aliceOwn)
        _ = pair.bob.write(bobOwn)
        pair.connect()
        #expect(pair.alice.lines().count == 263 && pair.bob.lines().count == 263)
        #expect(Self.holdTheSame(pair), "the two files hold the same lines")
        #expect(pair.shipped[self.alice] == 60 && pair.shipped[self.bob] == 3)
    }

    /// A node of an older release (no pair key) against one with: the first steps never match,
    /// and the exchange goes the long way to the same result.
    @Test func aPairKeyOnOneSideOnlyStillReconciles() {
        var pair = Self.inSync(pairKeys: (Self.pairKey, nil))
        _ = pair.alice.write(Self.chain(actor: "studio", lamports: 201...240))
        _ = pair.bob.write(Self.chain(actor: "laptop", lamports: 201...202))
        pair.shipped = [:]
        pair.connect()
        #expect(Self.holdTheSame(pair), "the two files hold the same lines")
        #expect(pair.alice.lines().count == 242)
        #expect(pair.shipped[self.alice] == 40 && pair.shipped[self.bob] == 2, "only what the other lacks")
    }

    /// alice's file is cut and written on to the same count while apart: a sum kept from the old
    /// numbering would say the two still hold the same, and nothing would cross.
    @Test func aResetFileDropsTheKeptSums() {
        var pair = Self.inSync(pairKeys: (Self.pairKey, Self.pairKey))
        _ = pair.alice.cutFile(keeping: 190)
        _ = pair.alice.write(Self.chain(actor: "laptop", lamports: 191...200))
        #expect(pair.alice.lines().count == 200)
        pair.shipped = [:]
        pair.connect()
        #expect(pair.alice.lines().count == 210 && pair.bob.lines().count == 210)
        #expect(Self.holdTheSame(pair), "the two files hold the same lines")
    }

    @Test func aNewPairKeyStartsTheSumsAfresh() {
        var pair = Self.inSync(pairKeys: (Self.pairKey, Self.pairKey))
        let other = ReconciliationKey(k0: 7, k1: 8)
        pair.pairKeys = (other, other)
        pair.reconcileMessages = [:]
        pair.connect()
        #expect(Self.hashes(pair) == (400, 400))
        #expect(pair.reconcileMessages[self.alice] == 1 && pair.reconcileMessages[self.bob] == 2, "matched under the new key")
    }
}
