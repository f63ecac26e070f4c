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
        #expect(Hello.currentProtocolVersion == 3)
        #expect(self.ours.protocolVersion == Hello.currentProtocolVersion)
    }

    @Test(arguments: [
        Hello(nodeID: "node-b", isReadOnly: false),
        Hello(nodeID: "node-b", isReadOnly: true),
        Hello(nodeID: String(repeating: "x", count: 128), isReadOnly: false),
        Hello(nodeID: String(repeating: "é", count: 64), isReadOnly: false),
        Hello(nodeID: "n", isReadOnly: false),
    ])
    func acceptsAWellFormedPeer(peer: Hello) {
        #expect(self.validationError(peer) == nil)
    }

    @Test func rejectsAnotherVersion() {
        let error = self.validationError(Hello(protocolVersion: 1, nodeID: "node-b", isReadOnly: false))
        #expect(error?.code == .protocolVersionMismatch)
        #expect(error?.message == "peer speaks protocol version 1, this node speaks 3")
    }

    @Test func versionIsCheckedBeforeTheNodeID() {
        #expect(self.validationError(Hello(protocolVersion: 0, nodeID: "", isReadOnly: false))?.code == .protocolVersionMismatch)
    }

    @Test func rejectsOurOwnID() {
        let error = self.validationError(Hello(nodeID: "node-a", isReadOnly: true))
        #expect(error?.code == .ownNodeID)
        #expect(error?.message.hasPrefix("peer has this node's own id") == true)
    }

    @Test func comparesIDsByTheirUTF8Bytes() {
        let precomposed = Hello(nodeID: "caf\u{E9}", isReadOnly: false)
        let decomposed = Hello(nodeID: "cafe\u{301}", isReadOnly: false)
        #expect(precomposed.nodeID == decomposed.nodeID)  // equal as Swift strings
        #expect(throws: Never.self) { try precomposed.validate(peer: decomposed) }
        #expect {
            try precomposed.validate(peer: precomposed)
        } throws: { error in
            (error as? WireError)?.code == .ownNodeID
        }
    }

    @Test func rejectsAnEmptyID() {
        let error = self.validationError(Hello(nodeID: "", isReadOnly: false))
        #expect(error?.code == .invalidNodeID)
        #expect(error?.message == "peer node id is empty")
    }

    @Test func limitsTheIDInUTF8BytesNotCharacters() {
        #expect(self.validationError(Hello(nodeID: String(repeating: "x", count: 129), isReadOnly: false))?.code == .invalidNodeID)
        // 65 characters, 130 bytes.
        let error = self.validationError(Hello(nodeID: String(repeating: "é", count: 65), isReadOnly: false))
        #expect(error?.code == .invalidNodeID)
        #expect(error?.message == "peer node id is 130 bytes long, longer than 128")
    }
}
