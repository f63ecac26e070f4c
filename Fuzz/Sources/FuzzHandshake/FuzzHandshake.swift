import FuzzSupport
import NIOCore
import OpLogIdentity
import OpLogReplication
import OpLogWire

// The handshake, by the first byte of the input:
// - a hello payload from a peer (0): if it decodes, it re-encodes to the same bytes, and
//   `Hello.validate(peer:)` against our own hello refuses exactly what `NodeID(validating:)`
//   refuses (`.invalidNodeID`), then exactly our own id (`.ownNodeID`), and accepts the rest;
//   both sides derive the same reconciliation key;
// - a hello built from the input's fields (1): it survives encoding and decoding when it is of
//   our version, and is refused as `.protocolVersionMismatch`, by the decoder and by
//   `validate(peer:)`, when it is not;
// - a node ID as a person might type it (2): `NodeFingerprint(parsing:)` either refuses it as
//   `.invalidNodeID` or gives an ID whose canonical text is the input's letters with the
//   dashes put back, parses to the same ID (in upper and lower case, with and without dashes),
//   is a valid `NodeID`, and comes back from its hash;
// - a hash (3): its ID's text parses back to it, in every spelling, and every change of one
//   letter of that text to another letter of the alphabet is refused (the check letters catch
//   it).

// SwiftPM links an executable's entry point as `<Module>_main`.
@_cdecl("FuzzHandshake_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv, testOneInput: fuzzTestOneInput)
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>?,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    SeedWriter.writeIfAsked(Seeds.all)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data: data, size: size)
    switch input.byte() % 4 {
    case 0: HelloProperties.checkPayload(input.rest())
    case 1: HelloProperties.checkBuilt(&input)
    case 2: FingerprintProperties.checkText(String(decoding: input.rest(), as: UTF8.self))
    default: FingerprintProperties.checkHash(&input)
    }
    return 0
}

enum HelloProperties {
    static let ownID = "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD"
    static let own = Hello(nodeID: Self.ownID, isReadOnly: false, nonce: Array(repeating: 0x5A, count: 16))

    static func checkPayload(_ payload: [UInt8]) {
        let message: WireMessage
        do {
            message = try WireMessage(decoding: ByteBuffer(bytes: payload))
        } catch {
            return
        }
        guard case .hello(let hello) = message else { return }
        var encoded = ByteBuffer()
        do {
            try message.encode(into: &encoded)
        } catch {
            failProperty("a decoded hello does not encode: \(error)")
        }
        require(Array(encoded.readableBytesView) == payload, "hello re-encodes to other bytes: \(hex(payload))")
        Self.checkValidation(of: hello)
    }

    static func checkValidation(of peer: Hello) {
        let expected: WireError.Code?
        if peer.protocolVersion != Self.own.protocolVersion {
            expected = .protocolVersionMismatch
        } else if (try? NodeID(validating: peer.nodeID)) == nil {
            expected = .invalidNodeID
        } else if peer.nodeID.utf8.elementsEqual(Self.ownID.utf8) {
            expected = .ownNodeID
        } else {
            expected = nil
        }
        do {
            try Self.own.validate(peer: peer)
            require(expected == nil, "validate(peer:) accepted \(peer), expected \(String(describing: expected))")
        } catch {
            require(error.code == expected, "validate(peer:) threw \(error), expected \(String(describing: expected))")
        }
        require(
            Self.own.reconciliationKey(with: peer) == peer.reconciliationKey(with: Self.own),
            "the two sides of a link derive different keys"
        )
    }

    static func checkBuilt(_ input: inout FuzzInput) {
        let versionChoice = input.byte()
        let version = versionChoice < 200 ? Hello.currentProtocolVersion : input.integer(as: UInt16.self)
        let flags = input.byte()
        let nonceLength = input.byte() < 240 ? 16 : Int(input.byte() % 40)
        let nonce = input.bytes(nonceLength) + Array(repeating: 0, count: max(0, nonceLength - input.remaining.count))
        let nodeID = input.bool() ? Self.ownID : String(decoding: input.rest(), as: UTF8.self)
        let hello = Hello(
            protocolVersion: version,
            nodeID: nodeID,
            isReadOnly: flags & 1 != 0,
            takesEntries: flags & 2 == 0,
            nonce: nonce
        )
        var encoded = ByteBuffer()
        do {
            try WireMessage.hello(hello).encode(into: &encoded)
        } catch {
            failProperty("a hello of \(nodeID.utf8.count) id bytes does not encode: \(error)")
        }
        do {
            let decoded = try WireMessage(decoding: encoded)
            require(version == Hello.currentProtocolVersion, "a hello of version \(version) decoded")
            require(nonce.count == 16, "a hello with a nonce of \(nonce.count) bytes decoded")
            require(decoded == .hello(hello), "hello \(hello) decodes as \(decoded)")
        } catch {
            if version != Hello.currentProtocolVersion {
                require(error.code == .protocolVersionMismatch, "a hello of version \(version) failed with \(error)")
            } else {
                require(nonce.count != 16 && error.code == .invalidField, "hello \(hello) failed to decode: \(error)")
            }
        }
        Self.checkValidation(of: hello)
    }
}
