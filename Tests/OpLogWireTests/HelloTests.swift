import OpLogReplication
import OpLogWire
import Testing

@Suite struct HelloTests {
    let ours = Hello(nodeID: "node-a", isReadOnly: false)

    func validationError(_ peer: Hello) -> WireError? {
        do {
            try self.ours.validate(peer: peer)
            return nil
        } catch {
            return error
        }
    }

    @Test func defaultsToTheCurrentVersion() {
        #expect(Hello.currentProtocolVersion == 5)
        #expect(self.ours.protocolVersion == Hello.currentProtocolVersion)
    }

    @Test(arguments: [
        Hello(nodeID: "node-b", isReadOnly: false),
        Hello(nodeID: "node-b", isReadOnly: true),
        Hello(nodeID: String(repeating: "x", count: 64), isReadOnly: false),
        Hello(nodeID: "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD", isReadOnly: false),
        Hello(nodeID: "!~", isReadOnly: false),
        Hello(nodeID: "n", isReadOnly: false),
    ])
    func acceptsAWellFormedPeer(peer: Hello) {
        #expect(self.validationError(peer) == nil)
    }

    @Test func rejectsAnotherVersion() {
        let error = self.validationError(Hello(protocolVersion: 1, nodeID: "node-b", isReadOnly: false))
        #expect(error?.code == .protocolVersionMismatch)
        #expect(error?.message == "peer speaks protocol version 1, this node speaks 5")
    }

    @Test func versionIsCheckedBeforeTheNodeID() {
        #expect(self.validationError(Hello(protocolVersion: 0, nodeID: "", isReadOnly: false))?.code == .protocolVersionMismatch)
    }

    @Test func rejectsOurOwnID() {
        let error = self.validationError(Hello(nodeID: "node-a", isReadOnly: true))
        #expect(error?.code == .ownNodeID)
        #expect(error?.message.hasPrefix("peer has this node's own id") == true)
    }

    @Test func comparesIDsByTheirBytes() {
        let lower = Hello(nodeID: "node-b", isReadOnly: false)
        let upper = Hello(nodeID: "NODE-B", isReadOnly: false)
        #expect(throws: Never.self) { try lower.validate(peer: upper) }
        #expect {
            try lower.validate(peer: lower)
        } throws: { error in
            (error as? WireError)?.code == .ownNodeID
        }
    }

    /// A hello's id is valid exactly when `NodeID(validating:)` accepts it.
    @Test(arguments: [
        "", " ", "node b", "node\tb", "caf\u{E9}", "cafe\u{301}", "\u{7F}", "x\u{0}",
        String(repeating: "x", count: 64), String(repeating: "x", count: 65), "node-b", "!", "~",
    ])
    func agreesWithNodeIDValidation(id: String) {
        let isNodeID = (try? NodeID(validating: id)) != nil
        let error = self.validationError(Hello(nodeID: id, isReadOnly: false))
        #expect((error == nil) == isNodeID, "\(id.debugDescription)")
        if let error { #expect(error.code == .invalidNodeID) }
    }

    @Test func rejectsNonPrintableOrNonASCIIBytes() {
        let error = self.validationError(Hello(nodeID: "node b", isReadOnly: false))
        #expect(error?.code == .invalidNodeID)
        #expect(error?.message.hasPrefix("peer node id has byte 0x20 at offset 4") == true)
        #expect(self.validationError(Hello(nodeID: "caf\u{E9}", isReadOnly: false))?.code == .invalidNodeID)
    }

    @Test func rejectsAnEmptyID() {
        let error = self.validationError(Hello(nodeID: "", isReadOnly: false))
        #expect(error?.code == .invalidNodeID)
        #expect(error?.message == "peer node id is empty")
    }

    @Test func limitsTheIDToSixtyFourBytes() {
        #expect(Hello.maximumNodeIDLength == NodeID.maximumLength)
        let error = self.validationError(Hello(nodeID: String(repeating: "x", count: 65), isReadOnly: false))
        #expect(error?.code == .invalidNodeID)
        #expect(error?.message == "peer node id is 65 bytes long, longer than 64")
    }
}
