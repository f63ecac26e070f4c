import Foundation
import OpLog
import OpLogReplication
import SystemPackage
import Testing

@testable import OpLogAgent

/// The arrival journal stays bounded: arrivals whose entries have their origin recorded are
/// compacted away, the ones still in flight are kept, and old files still load.
@Suite struct ArrivalJournalTests {
    private let session = try! SessionID(validating: "live-1")

    private func journals(_ scratch: FilePath, threshold: Int) throws -> (ArrivalJournal, OriginJournal) {
        let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
        return (ArrivalJournal(folder: folder, compactionThreshold: threshold), OriginJournal(folder: folder))
    }

    /// `count` arrivals from `peer` with distinct content ids, numbered from `first`.
    private func arrivals(_ first: Int, count: Int, peer: String = "studio") throws -> [Arrival] {
        try (first..<(first + count)).map { number in
            let hex = String(number, radix: 16)
            let id = try OpID(validating: "sha256:" + String(repeating: "0", count: 64 - hex.count) + hex)
            return Arrival(opID: id, peer: NodeID(peer))
        }
    }

    private func recordsInFile(_ journal: ArrivalJournal) -> Int {
        let bytes = fileBytes(journal.folder.path(of: .arrivals(self.session))) ?? []
        return bytes.filter { $0 == UInt8(ascii: "\n") }.count
    }

    @Test func coveredArrivalsAreCompactedAwayAndTheRestKept() throws {
        try withScratchFolder { scratch in
            var (journal, origins) = try self.journals(scratch, threshold: 2)
            let received = try self.arrivals(1, count: 3)
            try journal.record(received, session: self.session, synchronize: true)
            try origins.append([NodeID("studio")][...], session: self.session)
            #expect(try !journal.forget([received[0].opID], session: self.session, origins: origins, synchronize: true))
            #expect(self.recordsInFile(journal) == 3, "one covered: under the threshold")
            try origins.append([NodeID("studio")][...], session: self.session)
            #expect(try journal.forget([received[1].opID], session: self.session, origins: origins, synchronize: true))
            #expect(try journal.load() == [self.session: [received[2]]])
            #expect(journal.uncoveredCount(of: self.session) == 1)
            try journal.record(try self.arrivals(4, count: 1), session: self.session, synchronize: false)
            #expect(try journal.load()[self.session] == [received[2]] + (try self.arrivals(4, count: 1)))
        }
    }

    @Test func aJournalWhoseArrivalsAreAllCoveredIsEmptied() throws {
        try withScratchFolder { scratch in
            var (journal, origins) = try self.journals(scratch, threshold: 1)
            let received = try self.arrivals(1, count: 4)
            try journal.record(received, session: self.session, synchronize: true)
            #expect(try journal.forget(received.map(\.opID), session: self.session, origins: origins, synchronize: true))
            #expect(fileBytes(journal.folder.path(of: .arrivals(self.session))) == [])
            #expect(try journal.load() == [self.session: []])
            #expect(try !journal.forget(received.map(\.opID), session: self.session, origins: origins, synchronize: true))
        }
    }

    @Test func opIDsThatWereNeverRecordedChangeNothing() throws {
        try withScratchFolder { scratch in
            var (journal, origins) = try self.journals(scratch, threshold: 1)
            let local = try self.arrivals(1, count: 2).map(\.opID)
            #expect(try !journal.forget(local, session: self.session, origins: origins, synchronize: true))
            #expect(try journal.folder.sessions(in: .arrivals).isEmpty, "no file made")
        }
    }

    /// A stream of appends, each covered only after the next one was recorded (as when an
    /// append waits behind another): the file never holds more than the threshold of covered
    /// arrivals plus those in flight, and what is in flight always survives.
    @Test(arguments: [1, 16, 100])
    func aStreamOfArrivalsStaysBounded(threshold: Int) throws {
        try withScratchFolder { scratch in
            var (journal, origins) = try self.journals(scratch, threshold: threshold)
            let batch = 10
            var inFlight: [[Arrival]] = []
            var largest = 0
            for round in 0..<100 {
                let received = try self.arrivals(round * batch, count: batch, peer: round % 2 == 0 ? "a" : "b")
                try journal.record(received, session: self.session, synchronize: false)
                inFlight.append(received)
                largest = max(largest, self.recordsInFile(journal))
                if inFlight.count == 2 {
                    let covered = inFlight.removeFirst()
                    try origins.append(covered.map { Optional($0.peer) }[...], session: self.session)
                    try journal.forget(covered.map(\.opID), session: self.session, origins: origins, synchronize: false)
                }
                let kept = Set(try journal.load()[self.session] ?? [])
                #expect(inFlight.joined().allSatisfy(kept.contains), "round \(round): an arrival in flight was dropped")
            }
            #expect(largest < threshold + 3 * batch, "the file held \(largest) records")
            #expect(journal.uncoveredCount(of: self.session) == batch)
        }
    }

    /// Files written before the typed records (JSONSerialization, slashes unescaped, UTF-8 as
    /// is) load the same, and a damaged line among them is skipped.
    @Test func filesInTheOldFormatStillLoad() throws {
        try withScratchFolder { scratch in
            let (journal, _) = try self.journals(scratch, threshold: 1)
            let a = "sha256:" + String(repeating: "a", count: 64)
            let b = "sha256:" + String(repeating: "b", count: 64)
            let text = "[\"\(a)\",\"ñode/東京\"]\n[\"\(a)\"\n[\"\(b)\",\"studio\\/x\"]\n[\"sha256:cc"
            try writeFile(Array(text.utf8), to: journal.folder.path(of: .arrivals(self.session)))
            #expect(
                try journal.load() == [
                    self.session: [
                        Arrival(opID: try OpID(validating: a), peer: NodeID("ñode/東京")),
                        Arrival(opID: try OpID(validating: b), peer: NodeID("studio/x")),
                    ]
                ]
            )
        }
    }

    @Test func aRecordIsTheDocumentedLine() throws {
        let arrival = Arrival(opID: try contentID("a"), peer: NodeID("ñode/東京"))
        let line = ArrivalJournal.record(arrival)
        #expect(String(decoding: line, as: UTF8.self) == "[\"\(arrival.opID.rawValue)\",\"\\u00f1ode/\\u6771\\u4eac\"]\n")
        #expect(ArrivalJournal.arrival(record: line.dropLast()) == arrival)
    }
}
