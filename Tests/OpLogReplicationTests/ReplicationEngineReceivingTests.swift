import OpLog
import Testing

@testable import OpLogReplication

/// Receiving side: what a replica appends, in which order, and when it acknowledges.
@Suite("Replication engine: receiving")
struct ReplicationEngineReceivingTests {
    private let session = Fixture.session
    private let alice = Fixture.alice
    private let carol = Fixture.carol

    @Test func receivedEntriesAreAppendedAndAcknowledgedOnlyOnceDurable() throws {
        var bob = TestReplica(connectedTo: [self.alice])
        let entry = Fixture.entry(lamport: 1)
        let received = bob.handle(.received(batch(0, 1, [entry]), from: self.alice))
        #expect(received == [.append(AppendRequest(token: 1, session: self.session, lines: [entry.line]))])
        #expect(bob.engine.durableCount(of: self.session) == 0)

        let completed = bob.complete(try #require(received.appends.first))
        #expect(completed == [.send(acknowledge(0, 1), to: self.alice)])
        #expect(bob.engine.durableCount(of: self.session) == 1)
        #expect(bob.lines() == [entry.line])
        #expect(bob.engine.statistics.entriesReceived == 1)
        #expect(bob.engine.statistics.entriesWritten == 1)
    }

    @Test func aBatchCheckedBesideTheEngineIsMergedExactlyAsTheMessageItCameFrom() throws {
        let parent = Fixture.entry(lamport: 1)
        let child = Fixture.entry(lamport: 2, parents: [parent])
        let other = Fixture.entry(actor: "b", lamport: 2)
        let stranger = Fixture.entry(actor: "c", lamport: 9)
        let rawSession = self.session.rawValue
        let batches: [(EntryBatch, NodeID)] = [
            (EntryBatch(session: rawSession, after: 0, through: 2, lines: [child.line, other.line]), self.alice),
            (EntryBatch(session: rawSession, after: 2, through: 4, lines: [parent.line, child.line]), self.alice),
            (EntryBatch(session: rawSession, after: 0, through: 2, lines: [Fixture.tamperedLine(parent), Array("not json".utf8)]), self.carol),
            (EntryBatch(session: rawSession, after: 5, through: 5, lines: []), self.alice),
            (EntryBatch(session: rawSession, after: 5, through: 6, lines: [parent.line, other.line]), self.alice),
            (EntryBatch(session: "../escape", after: 0, through: 1, lines: [parent.line]), self.alice),
            (EntryBatch(session: rawSession, after: 0, through: 1, lines: [stranger.line]), NodeID("dave")),
        ]
        var plain = TestReplica(connectedTo: [self.alice, self.carol])
        var checked = TestReplica(connectedTo: [self.alice, self.carol])
        for (batch, peer) in batches {
            let fromMessage = plain.handle(.received(.entries(batch), from: peer))
            let fromChecked = checked.handle(.receivedEntries(CheckedEntryBatch(batch), from: peer))
            #expect(fromChecked == fromMessage, "batch (\(batch.after), \(batch.through)] from \(peer)")
            for request in fromMessage.appends {
                #expect(checked.complete(request) == plain.complete(request))
            }
        }
        #expect(checked.engine.statistics == plain.engine.statistics)
        #expect(checked.lines() == plain.lines())
        #expect(plain.lines().count == 3, "the parent, its child and the other entry, once each")
        #expect(plain.engine.statistics.entriesRejected == 2)
    }

    @Test func aDuplicateIsNotAppendedTwiceAndIsAcknowledgedOnceTheFirstCopyIsDurable() throws {
        var bob = TestReplica(connectedTo: [self.alice, self.carol])
        let entry = Fixture.entry(lamport: 1)
        let first = bob.handle(.received(batch(0, 1, [entry]), from: self.alice))
        #expect(first.appends.count == 1)

        let whilePending = bob.handle(.received(batch(4, 5, [entry]), from: self.carol))
        #expect(whilePending == [], "no second append, and no acknowledgement before the entry is durable")

        let completed = bob.complete(try #require(first.appends.first))
        #expect(completed.sent(to: self.alice) == [acknowledge(0, 1)])
        #expect(completed.sent(to: self.carol) == [acknowledge(4, 5)])
        #expect(completed.appends.isEmpty)

        let afterDurable = bob.handle(.received(batch(0, 1, [entry]), from: self.alice))
        #expect(afterDurable == [.send(acknowledge(0, 1), to: self.alice)])
        #expect(bob.lines() == [entry.line])
        #expect(bob.engine.statistics.duplicatesIgnored == 2)
        #expect(bob.engine.statistics.entriesWritten == 1)
    }

    @Test func theSameEntryTwiceInOneBatchIsAppendedOnce() {
        var bob = TestReplica(connectedTo: [self.alice])
        let entry = Fixture.entry(lamport: 1)
        let actions = bob.handle(.received(batch(0, 2, [entry, entry]), from: self.alice))
        #expect(actions.appends.map(\.lines) == [[entry.line]])
        #expect(bob.engine.statistics.duplicatesIgnored == 1)
    }

    @Test func aBatchIsAppendedParentsFirstAndOtherwiseInCanonicalOrder() {
        var bob = TestReplica(connectedTo: [self.alice])
        // A child whose timestamp is below its parent's (a writer with a broken clock): causal
        // order must win over canonical order for it, and only for it.
        let parent = Fixture.entry(actor: "b", lamport: 7)
        let child = Fixture.entry(actor: "a", lamport: 3, parents: [parent])
        let middle = Fixture.entry(actor: "a", lamport: 5)
        let earliest = Fixture.entry(actor: "z", lamport: 1)
        let tie = Fixture.entry(actor: "a", lamport: 7)
        let actions = bob.handle(.received(batch(0, 5, [child, middle, parent, earliest, tie]), from: self.alice))
        #expect(actions.appends.map(\.lines) == [[earliest.line, middle.line, tie.line, parent.line, child.line]])
    }

    @Test func opaqueIdsAreOrderedTheSameWay() {
        var bob = TestReplica(connectedTo: [self.alice])
        let root = Fixture.opaque(id: "9b2e6c1e-0000-4000-8000-000000000001", lamport: 4)
        let child = Fixture.opaque(id: "0a1b2c3d-0000-4000-8000-000000000002", lamport: 2, parents: [root.opID.rawValue])
        let sibling = Fixture.opaque(id: "5c5c5c5c-0000-4000-8000-000000000003", lamport: 4)
        let actions = bob.handle(.received(batch(0, 3, [child, sibling, root]), from: self.alice))
        #expect(actions.appends.map(\.lines) == [[sibling.line, root.line, child.line]])
    }

    @Test func anOrphanIsHeldUnacknowledgedThenWrittenWithAReportAfterTheHoldTimeout() throws {
        var bob = TestReplica(connectedTo: [self.alice]) { $0.holdTimeout = .seconds(10) }
        let missing = Fixture.entry(lamport: 1)
        let orphan = Fixture.entry(lamport: 2, parents: [missing])
        #expect(bob.handle(.received(batch(3, 4, [orphan]), from: self.alice)) == [])
        #expect(bob.engine.heldEntryCount == 1)

        bob.now = .seconds(10) - .milliseconds(1)
        #expect(bob.handle(.tick) == [])
        bob.now = .seconds(10)
        let expired = bob.handle(.tick)
        #expect(
            expired == [
                .report(.orphansWritten(session: self.session, count: 1)),
                .append(AppendRequest(token: 1, session: self.session, lines: [orphan.line])),
            ],
            "the warning is logged before the lines are in the file"
        )
        #expect(bob.engine.heldEntryCount == 0)
        #expect(bob.complete(try #require(expired.appends.first)) == [.send(acknowledge(3, 4), to: self.alice)])
        #expect(bob.engine.statistics.orphansWritten == 1)
    }

    @Test func anOrphanIsReleasedAsSoonAsItsParentArrives() throws {
        var bob = TestReplica(connectedTo: [self.alice]) { $0.holdTimeout = .seconds(10) }
        let parent = Fixture.entry(lamport: 1)
        let child = Fixture.entry(lamport: 2, parents: [parent])
        let grandchild = Fixture.entry(lamport: 3, parents: [child])
        #expect(bob.handle(.received(batch(1, 3, [child, grandchild]), from: self.alice)) == [])
        #expect(bob.engine.heldEntryCount == 2)

        bob.now = .seconds(2)
        let released = bob.handle(.received(batch(0, 1, [parent]), from: self.alice))
        #expect(released == [.append(AppendRequest(token: 1, session: self.session, lines: [parent.line, child.line, grandchild.line]))])
        #expect(bob.engine.heldEntryCount == 0)
        let completed = bob.complete(try #require(released.appends.first))
        #expect(completed == [.send(acknowledge(1, 3), to: self.alice), .send(acknowledge(0, 1), to: self.alice)])
        bob.now = .seconds(60)
        #expect(bob.handle(.tick) == [])
        #expect(bob.engine.statistics.orphansWritten == 0)
    }

    @Test func aLocallyWrittenParentReleasesAHeldChild() {
        var bob = TestReplica(connectedTo: [self.alice])
        let parent = Fixture.entry(lamport: 1)
        let child = Fixture.entry(lamport: 2, parents: [parent])
        #expect(bob.handle(.received(batch(0, 1, [child]), from: self.alice)) == [])
        let actions = bob.write([parent])
        #expect(actions.appends.map(\.lines) == [[child.line]])
        #expect(actions.shipments.map { [$0.after, $0.through] } == [[0, 1]], "only the local parent is durable yet")
        #expect(actions.shipments.first.map(bob.read) == [parent.line])
        #expect(bob.engine.heldEntryCount == 0)
    }

    /// A failed append is asked for again after the retry delay, by the engine itself: the
    /// sender is not needed (with the default timeouts its retransmission would come after the
    /// children's hold ran out). Nothing is acknowledged before the entries are durable.
    @Test func aFailedAppendIsRetriedAfterTheDelayAndAcknowledgedOnlyOnceDurable() throws {
        var bob = TestReplica(connectedTo: [self.alice]) { $0.appendRetryDelay = .seconds(1) }
        let entry = Fixture.entry(lamport: 1)
        let first = bob.handle(.received(batch(0, 1, [entry]), from: self.alice))
        let failed = try #require(first.appends.first)
        #expect(bob.handle(.appendFailed(token: failed.token)) == [])
        #expect(bob.engine.durableCount(of: self.session) == 0)
        #expect(bob.lines() == [])

        bob.now = .milliseconds(500)
        #expect(bob.handle(.received(batch(0, 1, [entry]), from: self.alice)) == [], "a duplicate waits for the retry")
        #expect(bob.handle(.tick) == [])
        bob.now = .seconds(1)
        let retry = try #require(bob.handle(.tick).appends.first)
        #expect(retry.lines == [entry.line])
        #expect(retry.token != failed.token)
        #expect(bob.handle(.appendCompleted(token: failed.token)) == [], "a failed token is over")
        let completed = bob.complete(retry)
        #expect(completed == [.send(acknowledge(0, 1), to: self.alice), .send(acknowledge(0, 1), to: self.alice)], "both deliveries")
        #expect(bob.lines() == [entry.line])
        #expect(bob.engine.heldEntryCount == 0)
    }

    /// A host that read every line before its append may say where the lines went: they are
    /// numbered and forwarded at once, and feeding them back later changes nothing.
    @Test func anAppendCompletedInPlaceIsNumberedAndForwardedWithoutBeingReadBack() throws {
        var bob = TestReplica(connectedTo: [self.alice, self.carol])
        let parent = Fixture.entry(lamport: 1)
        let child = Fixture.entry(lamport: 2, parents: [parent])
        let request = try #require(bob.handle(.received(batch(0, 2, [parent, child]), from: self.alice)).appends.first)
        let locations = bob.appendToFile(request.lines)
        let actions = bob.handle(.appendCompletedInPlace(token: request.token, firstOffset: locations[0].offset))
        #expect(actions.sent(to: self.alice) == [acknowledge(0, 2)])
        #expect(actions.shipments.map { [$0.after, $0.through] } == [[0, 2]], "forwarded to carol at once")
        #expect(actions.shipments.first.map(bob.read) == [parent.line, child.line])
        #expect(bob.engine.durableCount(of: self.session) == 2)
        #expect(bob.engine.location(of: self.session, sequence: 2) == locations[1])
        let fedBack = zip([parent, child], locations).map { LocalEntry(entry: $0, offset: $1.offset) }
        #expect(bob.handle(.localEntries(session: self.session, entries: fedBack)) == [], "already numbered")
        #expect(bob.engine.durableCount(of: self.session) == 2)
    }

    /// One append per session at a time: what arrives meanwhile waits, then goes in the next
    /// append, in causal order.
    @Test func entriesReceivedWhileAnAppendIsInFlightGoInTheNextAppend() throws {
        var bob = TestReplica(connectedTo: [self.alice])
        let parent = Fixture.entry(lamport: 1)
        let child = Fixture.entry(lamport: 2, parents: [parent])
        let other = Fixture.entry(actor: "zed", lamport: 1)
        let first = try #require(bob.handle(.received(batch(0, 1, [parent]), from: self.alice)).appends.first)
        #expect(bob.handle(.received(batch(1, 3, [other, child]), from: self.alice)).appends == [])
        let completed = bob.complete(first)
        #expect(completed.sent(to: self.alice) == [acknowledge(0, 1)])
        let next = try #require(completed.appends.first)
        let names = Names(["parent": parent, "child": child, "other": other])
        #expect(names(next.lines) == ["other", "child"] || names(next.lines) == ["child", "other"])
        #expect(bob.complete(next).sent(to: self.alice) == [acknowledge(1, 3)])
        #expect(bob.engine.statistics.orphansWritten == 0)
    }

    /// A host may have several appends outstanding. A child staged while its parent's append is
    /// still pending must not reach the file if the parent's append then fails: it would sit
    /// before its parent once the parent is received again.
    @Test func aChildStagedBehindAPendingParentIsNotWrittenAheadOfItWhenTheParentsAppendFails() throws {
        var bob = TestReplica(connectedTo: [self.alice])
        let parent = Fixture.entry(lamport: 1)
        let child = Fixture.entry(lamport: 2, parents: [parent])
        let parentAppend = try #require(bob.handle(.received(batch(0, 1, [parent]), from: self.alice)).appends.first)
        let childActions = bob.handle(.received(batch(1, 2, [child]), from: self.alice))
        _ = bob.handle(.appendFailed(token: parentAppend.token))
        for request in childActions.appends {
            _ = bob.complete(request)
        }
        bob.now = .seconds(1)
        let resent = bob.handle(.received(batch(0, 1, [parent]), from: self.alice))
        for request in resent.appends {
            _ = bob.complete(request)
        }
        bob.now = .seconds(3600)
        for request in bob.handle(.tick).appends {
            _ = bob.complete(request)
        }
        let names = Names(["parent": parent, "child": child])
        #expect(names(bob.lines()) == ["parent", "child"])
    }

    /// With the default timeouts a sender retransmits after 30 s, but a child waits only 10 s.
    /// An append that failed must not throw away a parent the engine had in hand, or its child,
    /// arriving next, would expire and be written ahead of the parent.
    @Test func aFailedAppendDoesNotLetAChildOvertakeItsParentWithTheDefaultTimeouts() throws {
        var bob = TestReplica(connectedTo: [self.alice])
        let parent = Fixture.entry(lamport: 1)
        let child = Fixture.entry(lamport: 2, parents: [parent])
        let failed = try #require(bob.handle(.received(batch(0, 1, [parent]), from: self.alice)).appends.first)
        _ = bob.handle(.appendFailed(token: failed.token))
        bob.now = .seconds(1)
        for request in bob.handle(.received(batch(1, 2, [child]), from: self.alice)).appends {
            _ = bob.complete(request)
        }
        for second in 2...60 {
            bob.now = .seconds(second)
            var actions = bob.handle(.tick)
            if second == 30 {
                // Alice's retransmission timer ran out: the unacknowledged range comes again.
                actions += bob.handle(.received(batch(0, 1, [parent]), from: self.alice))
            }
            for request in actions.appends {
                _ = bob.complete(request)
            }
        }
        let names = Names(["parent": parent, "child": child])
        #expect(names(bob.lines()) == ["parent", "child"])
        #expect(bob.engine.statistics.orphansWritten == 0, "the child's parent was received before the child")
    }

    /// An expired child must not be written while its parent is held in the same engine: the
    /// parent exists in the session, so the child has to come after it.
    @Test func anExpiredChildIsNotWrittenAheadOfItsHeldParent() {
        var bob = TestReplica(connectedTo: [self.alice]) { $0.holdTimeout = .seconds(10) }
        let neverArrives = try! OpID(validating: "sha256:" + String(repeating: "0", count: 64))
        let parent = Fixture.entry(lamport: 2, parentIDs: [neverArrives])
        let child = Fixture.entry(lamport: 3, parents: [parent])
        // The batch carrying the parent was delayed on the network: the child comes first.
        _ = bob.handle(.received(batch(1, 2, [child]), from: self.alice))
        bob.now = .seconds(5)
        _ = bob.handle(.received(batch(0, 1, [parent]), from: self.alice))
        #expect(bob.engine.heldEntryCount == 2)

        var written: [[UInt8]] = []
        for second in [10, 15, 20] {
            bob.now = .seconds(second)
            for request in bob.handle(.tick).appends {
                written += request.lines
                _ = bob.complete(request)
            }
        }
        #expect(written.count == 2)
        let names = Names(["parent": parent, "child": child])
        #expect(names(bob.lines()) == ["parent", "child"])
    }
}
