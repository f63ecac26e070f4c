import OpLogReplication
import OpLogWire
import Testing

@testable import OpLogAgent

/// One link per peer, the same one at both ends, and the waits of the diallers on it.
@Suite struct LinkRegistryTests {
    private let laptop = NodeID("laptop")
    private let studio = NodeID("studio")

    private func link(to peer: NodeID, dialedBy dialer: NodeID) -> LinkHandle {
        LinkHandle(
            peer: peer,
            reconciliationKey: ReconciliationKey(k0: 1, k1: 2),
            dialer: dialer,
            address: "127.0.0.1:1",
            outbox: LinkOutbox(budget: 1 << 20),
            close: {}
        )
    }

    @Test func theLinkDialedByTheSmallerIDStays() throws {
        var registry = LinkRegistry()
        // Seen from "studio": its own dial to laptop, then laptop's dial to it.
        let ours = self.link(to: self.laptop, dialedBy: self.studio)
        let theirs = self.link(to: self.laptop, dialedBy: self.laptop)
        guard case .added = registry.register(ours) else {
            Issue.record("the first link was not added")
            return
        }
        guard case .replaced(let replaced) = registry.register(theirs) else {
            Issue.record("the link dialed by the smaller id did not replace the other")
            return
        }
        #expect(replaced === ours)
        #expect(registry.isCurrent(theirs))
        #expect(!registry.isCurrent(ours))
        // And a later connection dialed by the larger id is refused.
        let again = self.link(to: self.laptop, dialedBy: self.studio)
        guard case .refused = registry.register(again) else {
            Issue.record("a second link was kept")
            return
        }
        #expect(registry.link(to: self.laptop) === theirs)
        #expect(registry.connectedPeers == [self.laptop])
    }

    @Test func onlyTheCurrentLinkUnregisters() {
        var registry = LinkRegistry()
        let ours = self.link(to: self.laptop, dialedBy: self.studio)
        let theirs = self.link(to: self.laptop, dialedBy: self.laptop)
        _ = registry.register(ours)
        _ = registry.register(theirs)
        let unregisteredOurs = registry.unregister(ours)
        #expect(!unregisteredOurs)
        #expect(registry.link(to: self.laptop) === theirs)
        let unregisteredTheirs = registry.unregister(theirs)
        #expect(unregisteredTheirs)
        #expect(registry.link(to: self.laptop) == nil)
        #expect(registry.connectedPeers.isEmpty)
    }

    @Test func connectionStatesStartWithTheCurrentStateAndFollowEachChange() async {
        var registry = LinkRegistry()
        let link = self.link(to: self.studio, dialedBy: self.laptop)
        let states = registry.connectionStates(of: self.studio)
        var iterator = states.makeAsyncIterator()
        #expect(await iterator.next() == false)
        _ = registry.register(link)
        #expect(await iterator.next() == true)
        _ = registry.unregister(link)
        #expect(await iterator.next() == false)
    }
}
