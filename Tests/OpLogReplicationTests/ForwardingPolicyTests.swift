import OpLog
import Testing

@testable import OpLogReplication

@Suite("Forwarding policy")
struct ForwardingPolicyTests {
    let session = Fixture.session
    let alice = Fixture.alice
    let bob = Fixture.bob
    let carol = Fixture.carol

    /// Sends to the first linked peer (in order) that is not the origin: a one-peer "tree".
    static let first = ForwardingPolicy { origin, linked in
        linked.first { $0 != origin }.map { [$0] } ?? []
    }

    @Test func floodingSendsToEveryLinkedPeerButTheOrigin() {
        let linked = [self.alice, self.bob, self.carol]
        #expect(ForwardingPolicy.flood.targets(forEntryFrom: self.bob, among: linked) == [self.alice, self.carol])
        #expect(ForwardingPolicy.flood.targets(forEntryFrom: nil, among: linked) == linked, "own entries go to all")
        #expect(ForwardingPolicy.flood.targets(forEntryFrom: NodeID("dave"), among: linked) == linked)
        #expect(ForwardingPolicy.flood.targets(forEntryFrom: self.alice, among: [self.alice]) == [])
    }

    @Test func targetsAreLinkedPeersInOrderOnceAndNeverTheOrigin() {
        let sloppy = ForwardingPolicy { origin, _ in
            [NodeID("dave"), self.carol, self.bob, self.carol] + (origin.map { [$0] } ?? [])
        }
        let linked = [self.alice, self.bob, self.carol]
        #expect(sloppy.targets(forEntryFrom: self.alice, among: linked) == [self.bob, self.carol])
        #expect(sloppy.targets(forEntryFrom: self.bob, among: linked) == [self.carol])
        let one = ForwardingPolicy { origin, _ in origin.map { [$0] } ?? [] }
        #expect(one.targets(forEntryFrom: self.bob, among: linked) == [], "the origin itself is never a target")
    }

    @Test func theEngineShipsEntriesOnlyWhereThePolicySays() throws {
        var node = TestReplica(connectedTo: [self.alice, self.bob, self.carol]) { $0.forwarding = Self.first }
        // Its own entries go to alice only.
        let own = node.write([Fixture.entry(actor: "node", lamport: 1)])
        #expect(own.shipments.map(\.peer) == [self.alice])
        // Alice's go to bob only (the first linked peer that is not alice).
        let fromAlice = Fixture.entry(actor: "alice", lamport: 2)
        let request = try #require(node.handle(.received(batch(0, 1, [fromAlice]), from: self.alice)).appends.first)
        // (Alice's link, with her first entry unacknowledged, gets the range without lines.)
        let forwarded = node.complete(request).shipments.filter { !$0.locations.isEmpty }
        #expect(forwarded.map(\.peer) == [self.bob])
        #expect(forwarded.first.map(node.read) == [fromAlice.line])
        // Carol, whom the policy never chooses, is skipped without being left behind: what
        // was not for her counts as done, so her link does not wait on it.
        #expect(node.engine.acknowledgedSequence(of: self.carol, session: self.session) == 2)
    }

    @Test func theDefaultFloodsAsBefore() throws {
        var node = TestReplica(connectedTo: [self.alice, self.bob, self.carol])
        let fromAlice = Fixture.entry(actor: "alice", lamport: 2)
        let request = try #require(node.handle(.received(batch(0, 1, [fromAlice]), from: self.alice)).appends.first)
        #expect(node.complete(request).shipments.map(\.peer) == [self.bob, self.carol])
    }

    @Test func checkpointsGoWhereThePolicySays() {
        var node = TestReplica(connectedTo: [self.alice, self.bob, self.carol]) { $0.forwarding = Self.first }
        let local = Fixture.checkpoint(snapshot: "mine", lamport: 3)
        let offered = node.handle(.localCheckpoint(session: self.session, local))
        #expect(offered.sent(to: self.alice) == [.checkpoint(session: self.session.rawValue, bytes: local.bytes)])
        #expect(offered.sent(to: self.bob).isEmpty)
        #expect(offered.sent(to: self.carol).isEmpty)

        let fromAlice = Fixture.checkpoint(snapshot: "alice's", lamport: 9)
        let received = node.handle(.received(.checkpoint(session: self.session.rawValue, bytes: fromAlice.bytes), from: self.alice))
        #expect(received.sent(to: self.bob) == [.checkpoint(session: self.session.rawValue, bytes: fromAlice.bytes)])
        #expect(received.sent(to: self.carol).isEmpty)
    }
}
