import Foundation
import OpLogAgent
import OpLogReplication
import Testing

@testable import OpLogControl

/// `oplog-sync status`'s tables, rendered from a document at a fixed moment.
@Suite struct StatusReportTests {
    private let now = Date(timeIntervalSince1970: 1_800_000_012)

    /// A configured peer nothing has answered at is listed by its configured ID, as not
    /// answered; one known from before (no address now) that is away, as offline.
    @Test func aConfiguredPeerThatNeverAnsweredShowsItsIDAsNotAnswered() {
        var status = sampleStatus()
        status.peers = [
            NodeStatus.Peer(id: NodeID("mixer"), address: "127.0.0.1:7700", isConnected: false, lagEntries: 2),
            NodeStatus.Peer(id: NodeID("backup"), address: nil, isConnected: false, lagEntries: 0),
        ]
        let report = StatusReport.render(StatusDocument(status, version: "1"), now: self.now)
        let lines = report.split(separator: "\n").map(String.init)
        let mixer = lines.first { $0.hasPrefix("mixer") } ?? ""
        #expect(mixer.contains("not answered") && mixer.contains("127.0.0.1:7700"), "\(report)")
        #expect((lines.first { $0.hasPrefix("backup") } ?? "").contains("offline"), "\(report)")
    }

    @Test func theReportShowsPeersCatchUpSessionsAndPending() {
        let report = StatusReport.render(StatusDocument(sampleStatus(), version: "9.8.7"), now: self.now)
        let lines = report.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "node studio · oplog-sync 9.8.7 · listening on 127.0.0.1:7420 · read-write")
        let header = lines.first { $0.hasPrefix("PEER") }
        #expect(header?.split(separator: " ", omittingEmptySubsequences: true).first == "PEER")
        let laptop = lines.first { $0.hasPrefix("laptop") } ?? ""
        #expect(laptop.contains("connected"))
        #expect(laptop.contains("127.0.0.1:7501"))
        #expect(laptop.contains("150,000"), "lag in entries")
        #expect(laptop.contains("4s"), "lag in seconds")
        #expect(laptop.contains("12s ago"), "last seen")
        #expect(laptop.contains("120.6 KiB"), "bytes sent")
        let catchUp = lines.first { $0.contains("catching up") } ?? ""
        #expect(catchUp.contains("[#####---------------]  25%  50,000 of 200,000 · 10,000/s · ETA 15s"), "\(catchUp)")
        #expect(lines.firstIndex(of: catchUp) == lines.firstIndex(of: laptop).map { $0 + 1 }, "under its peer")
        let backup = lines.first { $0.hasPrefix("backup") } ?? ""
        #expect(backup.contains("offline") && backup.contains("never"))
        let unanswered = lines.first { $0.hasPrefix("?") } ?? ""
        #expect(unanswered.contains("not answered") && unanswered.contains("127.0.0.1:7600") && unanswered.contains("1m00s"))
        let session = lines.first { $0.hasPrefix("live-1") } ?? ""
        #expect(session.split(separator: " ", omittingEmptySubsequences: true) == ["live-1", "200,000", "200,001", "snap-3"])
        let empty = lines.first { $0.hasPrefix("empty") } ?? ""
        #expect(empty.split(separator: " ", omittingEmptySubsequences: true) == ["empty", "0", "-", "-"])
        let pending = lines.first { $0.hasPrefix("stranger") } ?? ""
        #expect(pending.contains("127.0.0.1:55555") && pending.contains("12s ago") && pending.hasSuffix("--accept stranger"))
        #expect(report.hasSuffix("\n"))
    }

    @Test func columnsLineUp() {
        let report = StatusReport.render(StatusDocument(sampleStatus(), version: "1"), now: self.now)
        let lines = report.split(separator: "\n").map(String.init)
        let header = try! #require(lines.first { $0.hasPrefix("SESSION") })
        let column = try! #require(header.range(of: "CHECKPOINT")).lowerBound.utf16Offset(in: header)
        let row = try! #require(lines.first { $0.hasPrefix("live-1") })
        #expect(row.range(of: "snap-3")?.lowerBound.utf16Offset(in: row) == column)
    }

    @Test func aNodeWithNothingSaysSo() {
        let status = NodeStatus(nodeID: NodeID("alone"), listen: "127.0.0.1:1", isReadOnly: true)
        let report = StatusReport.render(StatusDocument(status, version: "1"), now: self.now)
        #expect(report == "node alone · oplog-sync 1 · listening on 127.0.0.1:1 · read-only\n\nno peers\n\nno sessions\n")
    }

    @Test(
        "durations, bytes and counts read as a person writes them",
        arguments: [(0.4, "0s"), (59, "59s"), (61, "1m01s"), (3_725, "1h02m"), (90_061, "1d01h")]
    )
    func durations(seconds: Double, text: String) {
        #expect(StatusReport.duration(seconds) == text)
    }

    @Test func bytesAndCounts() {
        #expect(StatusReport.bytes(512) == "512 B")
        #expect(StatusReport.bytes(1536) == "1.5 KiB")
        #expect(StatusReport.bytes(5 << 30) == "5.0 GiB")
        #expect(StatusReport.grouped(0) == "0")
        #expect(StatusReport.grouped(999) == "999")
        #expect(StatusReport.grouped(1_234_567) == "1,234,567")
    }
}
