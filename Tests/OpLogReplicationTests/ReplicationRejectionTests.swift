import OpLog
import Testing

@testable import OpLogReplication

@Suite("Typed rejections")
struct ReplicationRejectionTests {
    let session = Fixture.session
    let alice = Fixture.alice

    /// The rejection in the first report of `actions`, if any.
    static func rejection(_ actions: [ReplicationAction]) -> ReplicationRejection? {
        for case .report(let report) in actions {
            switch report {
            case .rejectedEntry(_, _, let rejection), .rejectedMessage(_, let rejection): return rejection
            case .orphansWritten, .checkpointAdopted, .reconciled, .peerLacksAcknowledged, .duplicateReceived,
                .repeatedLocalOpID:
                continue
            }
        }
        return nil
    }

    @Test func eachKindOfBadInputHasItsCode() throws {
        let good = Fixture.entry(lamport: 1)
        let other = Fixture.checkpoint(session: Fixture.otherSession, snapshot: "x", lamport: 1)
        let raw = self.session.rawValue
        let cases: [(ReplicationMessage, ReplicationRejection.Code)] = [
            (.entries(EntryBatch(session: raw, after: 0, through: 1, lines: [Array("not json".utf8)])), .invalidEntry),
            (.entries(EntryBatch(session: raw, after: 0, through: 1, lines: [Fixture.tamperedLine(good)])), .contentIDMismatch),
            (.entries(EntryBatch(session: "../x", after: 0, through: 1, lines: [good.line])), .invalidSessionID),
            (batch(3, 3, []), .invalidRange),
            (.acknowledge(session: raw, after: 0, through: 5), .unsentAcknowledgement),
            (.checkpoint(session: raw, bytes: Array("{not json".utf8)), .invalidCheckpoint),
            (.checkpoint(session: "../x", bytes: other.bytes), .invalidSessionID),
            (.checkpoint(session: raw, bytes: other.bytes), .checkpointSessionMismatch),
            (.reconcile(session: "../x", exchange: 1, step: 0, ranges: [ReconciliationRange(upperBound: .end, payload: .skip)]), .invalidSessionID),
        ]
        for (message, code) in cases {
            var bob = TestReplica(connectedTo: [self.alice])
            _ = bob.write([Fixture.entry(actor: "bob", lamport: 1)])  // so acknowledgements name a known session
            let rejection = try #require(Self.rejection(bob.handle(.received(message, from: self.alice))), "\(message)")
            #expect(rejection.code == code, "\(message): \(rejection)")
            #expect(!rejection.message.isEmpty && !rejection.message.contains("\n"))
            #expect(rejection.description == "\(code): \(rejection.message)")
        }
    }

    @Test func aBrokenReconciliationIsAViolation() throws {
        var alice = TestReplica { $0.localNode = Fixture.alice }
        _ = alice.write([Fixture.entry(lamport: 1)])
        let start = try #require(alice.handle(.peerConnected(Fixture.bob, key: .testing)).sent(to: Fixture.bob).first)
        guard case .reconcile(_, let exchange, _, _) = start else {
            Issue.record("expected a reconciliation, got \(start)")
            return
        }
        let bogus = ReplicationMessage.reconcile(
            session: self.session.rawValue,
            exchange: exchange,
            step: 1,
            ranges: [ReconciliationRange(upperBound: .end, payload: .lacking([0xFF]))]
        )
        let rejection = try #require(Self.rejection(alice.handle(.received(bogus, from: Fixture.bob))))
        #expect(rejection.code == .reconciliationViolation)
        #expect(rejection.message.hasPrefix("reconciliation of live-1: "))
    }

    @Test func aLocalLineWithAForgedIDIsAContentIDMismatch() throws {
        var alice = TestReplica()
        let rejection = try #require(Self.rejection(alice.write([try OpEntry(line: Fixture.tamperedLine(Fixture.entry(lamport: 1)))])))
        #expect(rejection.code == .contentIDMismatch)
    }

    @Test func codesHaveStableNames() {
        let names = [
            ReplicationRejection.Code.invalidEntry, .contentIDMismatch, .invalidSessionID, .invalidRange,
            .unsentAcknowledgement, .invalidCheckpoint, .checkpointSessionMismatch, .reconciliationViolation,
        ].map(\.description)
        #expect(
            names == [
                "invalid_entry", "content_id_mismatch", "invalid_session_id", "invalid_range",
                "unsent_acknowledgement", "invalid_checkpoint", "checkpoint_session_mismatch",
                "reconciliation_violation",
            ]
        )
    }
}
