import Foundation
import OpLog
import OpLogAgent
import OpLogReplication
import Testing

@testable import OpLogControl

/// `/status`'s JSON: DESIGN §8's names (sorted), every key present, `null` for what does not
/// exist, integers as integers.
@Suite struct StatusDocumentTests {
    @Test func theJSONIsExactlyTheContracts() {
        let expected =
            #"{"listen":"127.0.0.1:7420","node_id":"studio","peers":[{"address":"127.0.0.1:7501","#
            + #""bytes_received":789,"bytes_sent":123456,"catch_up":{"done":50000,"eta_s":15,"#
            + #""rate_per_s":10000,"total":200000},"connected":true,"id":"laptop","lag_entries":150000,"#
            + #""lag_seconds":4.25,"last_seen":"2027-01-15T08:00:00.250000+00:00"},{"address":null,"#
            + #""bytes_received":0,"bytes_sent":0,"catch_up":null,"connected":false,"id":"backup","#
            + #""lag_entries":0,"lag_seconds":0,"last_seen":null},{"address":"127.0.0.1:7600","#
            + #""bytes_received":0,"bytes_sent":0,"catch_up":null,"connected":false,"id":null,"#
            + #""lag_entries":200000,"lag_seconds":60,"last_seen":null}],"#
            + #""pending":[{"address":"127.0.0.1:55555","id":"stranger","#
            + #""last_attempt":"2027-01-15T08:00:00+00:00"}],"read_only":false,"#
            + #""sessions":[{"checkpoint":"snap-3","entries":200000,"id":"live-1","lamport_ts":200001},"#
            + #"{"checkpoint":null,"entries":0,"id":"empty","lamport_ts":null}],"version":"9.8.7"}"# + "\n"
        let encoded = StatusDocument(sampleStatus(), version: "9.8.7").encoded()
        #expect(String(decoding: encoded, as: UTF8.self) == expected)
        #expect(throws: Never.self) { try JSONValue(parsing: encoded) }
    }

    @Test func anUnmeasuredCatchUpHasRateZeroAndNoETA() {
        var status = sampleStatus()
        status.peers = [status.peers[0]]
        status.peers[0].catchUp = NodeStatus.CatchUp(done: 0, total: 10, ratePerSecond: nil)
        let text = String(decoding: StatusDocument(status, version: "1").encoded(), as: UTF8.self)
        #expect(text.contains(#""catch_up":{"done":0,"eta_s":null,"rate_per_s":0,"total":10}"#), "\(text)")
    }

    @Test func decodingTheBytesGivesTheDocumentBack() throws {
        let document = StatusDocument(sampleStatus(), version: "9.8.7")
        #expect(try StatusDocument(decoding: document.encoded()) == document)
        #expect(throws: (any Error).self) { try StatusDocument(decoding: Array(#"{"node_id":1}"#.utf8)) }
    }
}
