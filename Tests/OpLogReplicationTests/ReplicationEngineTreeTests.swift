import OpLog
import Testing

@testable import OpLogReplication

/// Broadcast trees (``ForwardingPolicy/tree``): a live duplicate prunes a link to lazy, a lazy
/// link carries notices at ticks, an announced entry that does not arrive is grafted.
@Suite("Replication engine: broadcast trees")
struct ReplicationEngineTreeTests {
    private let session = Fixture.session
    private let alice = Fixture.alice
    private let bob = Fixture.bob
    private let carol = Fixture.carol

    private func live(_ after: UInt64, _ through: UInt64, _ entries: [OpEntry]) -> ReplicationMessage {
        .entries(EntryBatch(session: self.session.rawValue, after: after, through: through, lines: entries.map(\.line), isLive: true))
    }

    private func notice(of entry: OpEntry, sequence: UInt64) -> EntryNotice {
        let (bound, contentHash) = ReconciliationBound.placing(entry)
        return EntryNotice(sequence: sequence, hash: bound.hash, contentHash: contentHash)
    }

    private func announcing(_ notices: [EntryNotice], after: UInt64, through: UInt64) -> ReplicationMessage {
        .entries(EntryBatch(session: self.session.rawValue, after: after, through: through, lines: [], notices: notices))
    }

    /// Bob, linked to alice and carol, after writing `entry` that alice sent live.
    private func bobHolding(_ entry: OpEntry) throws -> TestReplica {
        var bob = TestReplica(connectedTo: [self.alice, self.carol])
        let request = try #require(bob.handle(.received(self.live(0, 1, [entry]), from: self.alice)).appends.first)
        _ = bob.complete(request)
        return bob
    }

    @Test func aLiveDuplicatePrunesItsLinkAndTheLinkThenCarriesNoticesAtTicks() throws {
        let first = Fixture.entry(lamport: 1)
        var bob = try self.bobHolding(first)
        let duplicate = bob.handle(.received(self.live(0, 1, [first]), from: self.carol))
        #expect(duplicate == [.send(.prune(session: self.session.rawValue), to: self.carol), .send(acknowledge(0, 1), to: self.carol)])
        #expect(bob.engine.statistics.prunesSent == 1)
        // Once pruned, a second duplicate says nothing new.
        #expect(bob.handle(.received(self.live(0, 1, [first]), from: self.carol)).sent(to: self.carol) == [acknowledge(0, 1)])

        let second = Fixture.entry(lamport: 2, parents: [first])
        let written = bob.write([second])
        #expect(written.shipments.map(\.peer) == [self.alice], "in full to the eager link at once, nothing yet to the lazy one")
        bob.now = .milliseconds(100)
        let tick = bob.handle(.tick)
        // The first went to carol in full before the prune: only the second is announced.
        #expect(tick.shipments == [Shipment(peer: self.carol, session: self.session, after: 1, through: 2, locations: [], notices: [self.notice(of: second, sequence: 2)])])
        #expect(bob.engine.statistics.noticesSent == 1)
    }

    @Test func aDuplicateThatIsNotLiveDoesNotPrune() throws {
        let first = Fixture.entry(lamport: 1)
        var bob = try self.bobHolding(first)
        #expect(bob.handle(.received(batch(0, 1, [first]), from: self.carol)) == [.send(acknowledge(0, 1), to: self.carol)], "a resend or a backlog")
        #expect(bob.engine.statistics.prunesSent == 0)
    }

    @Test func floodingNeitherPrunesNorAnnounces() throws {
        var bob = TestReplica(connectedTo: [self.alice, self.carol]) { $0.forwarding = .flood }
        let first = Fixture.entry(lamport: 1)
        let request = try #require(bob.handle(.received(self.live(0, 1, [first]), from: self.alice)).appends.first)
        let forwarded = bob.complete(request)
        #expect(forwarded.shipments.map(\.isLive) == [false], "flooding marks nothing live")
        #expect(bob.handle(.received(self.live(0, 1, [first]), from: self.carol)) == [.send(acknowledge(0, 1), to: self.carol)])
        _ = bob.handle(.received(.prune(session: self.session.rawValue), from: self.alice))
        let second = Fixture.entry(lamport: 2, parents: [first])
        #expect(bob.write([second]).shipments.map(\.peer) == [self.alice, self.carol])
    }

    @Test func aPrunedPeerIsSentNoticesAndAGraftShipsThemAndTurnsTheLinkEagerAgain() throws {
        var alice = TestReplica(connectedTo: [self.bob])
        _ = alice.handle(.received(.prune(session: self.session.rawValue), from: self.bob))
        let first = Fixture.entry(lamport: 1)
        let second = Fixture.entry(lamport: 2, parents: [first])
        // The session is new since the link came up, so its state is made at the first write,
        // eager; the prune came before it existed and is not remembered. Prune it again.
        #expect(alice.write([first]).shipments.map(\.isLive) == [true])
        _ = alice.handle(.received(acknowledge(0, 1), from: self.bob))
        _ = alice.handle(.received(.prune(session: self.session.rawValue), from: self.bob))
        #expect(alice.write([second]).shipments.isEmpty, "notices wait for a tick")
        alice.now = .milliseconds(100)
        let announced = alice.handle(.tick).shipments
        #expect(announced == [Shipment(peer: self.bob, session: self.session, after: 1, through: 2, locations: [], notices: [self.notice(of: second, sequence: 2)])])
        _ = alice.handle(.received(acknowledge(1, 2), from: self.bob))

        let grafted = alice.handle(.received(.graft(session: self.session.rawValue, sequences: [2, 2, 7, 0]), from: self.bob))
        let secondLocation = EntryLocation(offset: Int64(first.line.count) + 1, length: Int32(second.line.count))
        #expect(grafted == [.ship(Shipment(peer: self.bob, session: self.session, after: 1, through: 2, locations: [secondLocation]))], "what was announced, once; never what was not")
        let third = Fixture.entry(lamport: 3, parents: [second])
        #expect(alice.write([third]).shipments.map(\.locations.count) == [1], "eager again: in full at once")
    }

    @Test func anAnnouncedEntryIsAcknowledgedOnlyOnceHeldAndAskedForWhenItDoesNotCome() throws {
        var bob = TestReplica(connectedTo: [self.alice, self.carol])
        let first = Fixture.entry(lamport: 1)
        let announcement = self.announcing([self.notice(of: first, sequence: 3)], after: 2, through: 3)
        #expect(bob.handle(.received(announcement, from: self.alice)) == [], "not held: not acknowledged")
        bob.now = .milliseconds(999)
        #expect(bob.handle(.tick) == [])
        bob.now = .seconds(1)
        #expect(bob.handle(.tick) == [.send(.graft(session: self.session.rawValue, sequences: [3]), to: self.alice)])
        #expect(bob.engine.statistics.graftsSent == 1)
        // The entry arrives (from anyone): both ranges are acknowledged once it is durable.
        let request = try #require(bob.handle(.received(batch(2, 3, [first]), from: self.alice)).appends.first)
        let completed = bob.complete(request).sent(to: self.alice)
        #expect(completed == [acknowledge(2, 3), acknowledge(2, 3)])
        bob.now = .seconds(5)
        #expect(bob.handle(.tick).sent(to: self.alice).isEmpty, "nothing is asked for again")
    }

    @Test func anAnnouncedEntryAlreadyHeldIsAcknowledgedAtOnceAndNotAnnouncedBack() throws {
        var bob = TestReplica(connectedTo: [self.alice, self.carol])
        let own = Fixture.entry(lamport: 1, kind: "own")
        _ = bob.write([own])
        _ = bob.handle(.received(acknowledge(0, 1), from: self.alice))
        _ = bob.handle(.received(acknowledge(0, 1), from: self.carol))
        _ = bob.handle(.received(.prune(session: self.session.rawValue), from: self.carol))
        let first = Fixture.entry(lamport: 2, parents: [own])
        let request = try #require(bob.handle(.received(self.live(0, 1, [first]), from: self.alice)).appends.first)
        #expect(bob.complete(request).shipments.isEmpty, "carol's link is lazy: the notice waits for a tick")
        // Carol got it another way and says so before bob's tick.
        let announcement = self.announcing([self.notice(of: first, sequence: 7)], after: 6, through: 7)
        #expect(bob.handle(.received(announcement, from: self.carol)) == [.send(acknowledge(6, 7), to: self.carol)])
        bob.now = .seconds(2)
        let tick = bob.handle(.tick)
        #expect(tick.sent(to: self.carol).isEmpty, "no graft")
        #expect(tick.shipments.isEmpty, "carol announced it: it is not announced back")
        #expect(bob.engine.acknowledgedSequence(of: self.carol, session: self.session) == 2, "and nothing is owed for it")
    }

    @Test func aNoticeOutsideItsBatchIsRefused() {
        var bob = TestReplica(connectedTo: [self.alice])
        let entry = Fixture.entry(lamport: 1)
        let outside = self.announcing([self.notice(of: entry, sequence: 5)], after: 0, through: 2)
        let refused = bob.handle(.received(outside, from: self.alice))
        #expect(bob.engine.statistics.messagesRejected == 1)
        #expect(refused.sent(to: self.alice).isEmpty)
        let crowded = self.announcing([self.notice(of: entry, sequence: 1), self.notice(of: entry, sequence: 2)], after: 0, through: 1)
        _ = bob.handle(.received(crowded, from: self.alice))
        #expect(bob.engine.statistics.messagesRejected == 2, "two notices cannot fit a range of one")
    }

    @Test func noticesPastTheBoundAreAcknowledgedUnheldAndCounted() {
        var bob = TestReplica(connectedTo: [self.alice]) { $0.maximumNoticedEntries = 1 }
        let first = Fixture.entry(lamport: 1)
        let second = Fixture.entry(lamport: 2, kind: "other")
        let both = self.announcing([self.notice(of: first, sequence: 1), self.notice(of: second, sequence: 2)], after: 0, through: 2)
        #expect(bob.handle(.received(both, from: self.alice)) == [], "the first is remembered and waited for")
        #expect(bob.engine.statistics.noticesDropped == 1)
        let third = Fixture.entry(lamport: 3, kind: "third")
        let past = self.announcing([self.notice(of: third, sequence: 3)], after: 2, through: 3)
        #expect(bob.handle(.received(past, from: self.alice)) == [.send(acknowledge(2, 3), to: self.alice)])
        #expect(bob.engine.statistics.noticesDropped == 2)
    }

    @Test func anEntryAskedForTooOftenIsForgottenAndItsRangeAcknowledged() {
        var bob = TestReplica(connectedTo: [self.alice])
        let first = Fixture.entry(lamport: 1)
        _ = bob.handle(.received(self.announcing([self.notice(of: first, sequence: 1)], after: 0, through: 1), from: self.alice))
        var grafts = 0
        for second in 1...NoticedEntry.maximumGrafts {
            bob.now = .seconds(second)
            grafts += bob.handle(.tick).sent(to: self.alice).filter { if case .graft = $0 { true } else { false } }.count
        }
        #expect(grafts == NoticedEntry.maximumGrafts)
        bob.now = .seconds(NoticedEntry.maximumGrafts + 1)
        #expect(bob.handle(.tick) == [.send(acknowledge(0, 1), to: self.alice)], "given up: left to reconciliation")
        bob.now = .seconds(60)
        #expect(bob.handle(.tick) == [])
    }

    @Test func anAnnouncerThatGoesAwayIsReplacedByTheNext() throws {
        var bob = TestReplica(connectedTo: [self.alice, self.carol])
        let first = Fixture.entry(lamport: 1)
        _ = bob.handle(.received(self.announcing([self.notice(of: first, sequence: 1)], after: 0, through: 1), from: self.alice))
        _ = bob.handle(.received(self.announcing([self.notice(of: first, sequence: 4)], after: 3, through: 4), from: self.carol))
        _ = bob.handle(.peerDisconnected(self.alice))
        bob.now = .seconds(1)
        #expect(bob.handle(.tick) == [.send(.graft(session: self.session.rawValue, sequences: [4]), to: self.carol)])
    }
}
