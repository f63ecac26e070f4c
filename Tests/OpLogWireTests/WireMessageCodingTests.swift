import NIOCore
import OpLogReplication
import OpLogWire
import Testing

@Suite struct WireMessageCodingTests {
    @Test(arguments: sampleMessages)
    func roundTrip(message: WireMessage) throws {
        let bytes = try payloadBytes(message)
        #expect(bytes.count == message.encodedLength)
        #expect(try decode(bytes) == message)
    }

    @Test func linesAndCheckpointsCarryEveryByteValue() throws {
        let allBytes = (0...255).map { UInt8($0) }
        let lines = [allBytes, allBytes.reversed()] + allBytes.map { [$0] }
        let entries = WireMessage.replication(.entries(EntryBatch(session: "s", after: 0, through: 258, lines: lines)))
        #expect(try decode(payloadBytes(entries)) == entries)
        let checkpoint = WireMessage.replication(.checkpoint(session: "s", bytes: allBytes))
        #expect(try decode(payloadBytes(checkpoint)) == checkpoint)
    }

    @Test func helloLayout() throws {
        let nonce = (1...16).map { UInt8($0) }
        let bytes = try payloadBytes(.hello(Hello(nodeID: "ab", isReadOnly: true, nonce: nonce)))
        #expect(
            bytes == [0x01] + Array("OPLS".utf8) + [0x00, 0x05, 0x01, 0, 0, 0, 2] + Array("ab".utf8) + [0, 0, 0, 16] + nonce
        )
        let writable = try payloadBytes(.hello(Hello(nodeID: "ab", isReadOnly: false)))
        #expect(writable[7] == 0x00)
        let takesNothing = Hello(nodeID: "ab", isReadOnly: true, takesEntries: false, nonce: nonce)
        let flagged = try payloadBytes(.hello(takesNothing))
        #expect(flagged[7] == 0x03)
        #expect(try decode(flagged) == .hello(takesNothing))
    }

    @Test func entriesLayoutIsBigEndianAndLengthPrefixed() throws {
        let message = WireMessage.replication(.entries(EntryBatch(session: "s", after: 1, through: 0x0102_0304_0506_0708, lines: [[0xFF], []])))
        let expected: [UInt8] =
            [0x10, 0, 0, 0, 1, 0x73] + [0, 0, 0, 0, 0, 0, 0, 1] + [1, 2, 3, 4, 5, 6, 7, 8] + [0] + [0, 0, 0, 2] + [0, 0, 0, 1, 0xFF] + [0, 0, 0, 0]
            + [0, 0, 0, 0]
        #expect(try payloadBytes(message) == expected)
        let notice = EntryNotice(sequence: 5, hash: 6, contentHash: 7)
        let announced = WireMessage.replication(.entries(EntryBatch(session: "s", after: 4, through: 5, lines: [], notices: [notice], isLive: true)))
        let announcedBytes: [UInt8] =
            [0x10] + lengthPrefixed([0x73]) + bigEndianBytes(UInt64(4)) + bigEndianBytes(UInt64(5)) + [1] + bigEndianBytes(UInt32(0))
            + bigEndianBytes(UInt32(1)) + bigEndianBytes(UInt64(5)) + bigEndianBytes(UInt64(6)) + bigEndianBytes(UInt64(7))
        #expect(try payloadBytes(announced) == announcedBytes)
    }

    @Test func entriesWithReservedFlagsAreRejected() throws {
        var bytes = try payloadBytes(.replication(.entries(EntryBatch(session: "s", after: 0, through: 1, lines: []))))
        for flags: UInt8 in [0x02, 0x80, 0xFF] {
            bytes[22] = flags
            #expect(decodeError(bytes)?.code == .invalidField, "flags \(flags)")
        }
    }

    @Test func noticeCountLargerThanTheFrameCouldHoldIsRejected() throws {
        let header: [UInt8] = [0x10] + lengthPrefixed([0x73]) + bigEndianBytes(UInt64(0)) + bigEndianBytes(UInt64(4)) + [0] + bigEndianBytes(UInt32(0))
        #expect(decodeError(header + bigEndianBytes(UInt32(2)) + Array(repeating: 0, count: 47))?.code == .countOutOfBounds)
        let graft: [UInt8] = [0x17] + lengthPrefixed([0x73]) + bigEndianBytes(UInt32.max)
        #expect(decodeError(graft + Array(repeating: 0, count: 8))?.code == .countOutOfBounds)
    }

    @Test func otherReplicationLayouts() throws {
        let acknowledge = WireMessage.replication(.acknowledge(session: "s", after: 2, through: 3))
        #expect(try payloadBytes(acknowledge) == [0x11] + lengthPrefixed([0x73]) + bigEndianBytes(UInt64(2)) + bigEndianBytes(UInt64(3)))
        let checkpoint = WireMessage.replication(.checkpoint(session: "s", bytes: [9, 8]))
        #expect(try payloadBytes(checkpoint) == [0x12] + lengthPrefixed([0x73]) + lengthPrefixed([9, 8]))
        let checkpointAcknowledge = WireMessage.replication(.checkpointAcknowledge(session: "s", lamportTimestamp: -1, snapshotID: "x", digest: [7, 6]))
        #expect(
            try payloadBytes(checkpointAcknowledge) == [0x13] + lengthPrefixed([0x73]) + Array(repeating: 0xFF, count: 8) + lengthPrefixed([0x78]) + lengthPrefixed([7, 6])
        )
        let retransmit = WireMessage.replication(.retransmit(session: "s"))
        #expect(try payloadBytes(retransmit) == [0x14] + lengthPrefixed([0x73]))
        #expect(try payloadBytes(.replication(.prune(session: "s"))) == [0x16] + lengthPrefixed([0x73]))
        let graft = WireMessage.replication(.graft(session: "s", sequences: [1, 2]))
        #expect(try payloadBytes(graft) == [0x17] + lengthPrefixed([0x73]) + bigEndianBytes(UInt32(2)) + bigEndianBytes(UInt64(1)) + bigEndianBytes(UInt64(2)))
        let reconcile = WireMessage.replication(
            .reconcile(
                session: "s",
                exchange: 9,
                step: 1,
                ranges: [
                    ReconciliationRange(upperBound: ReconciliationBound(lamport: 1, hash: 2), payload: .fingerprint(count: 3, sum: 4)),
                    ReconciliationRange(upperBound: .end, payload: .ids([5])),
                ]
            )
        )
        let firstRange = bigEndianBytes(UInt64(1)) + bigEndianBytes(UInt64(2)) + [1] + bigEndianBytes(UInt64(3)) + bigEndianBytes(UInt64(4))
        let secondRange = Array(repeating: 0xFF, count: 16) + [3] + bigEndianBytes(UInt32(1)) + bigEndianBytes(UInt64(5))
        let header: [UInt8] = [0x15] + lengthPrefixed([0x73]) + bigEndianBytes(UInt64(9)) + bigEndianBytes(UInt32(1)) + bigEndianBytes(UInt32(2))
        #expect(try payloadBytes(reconcile) == header + firstRange + secondRange)
        #expect(try payloadBytes(.ping) == [0x02])
        #expect(try payloadBytes(.pong) == [0x03])
    }

    @Test func everyUnknownTypeByteIsRejected() {
        let known: Set<UInt8> = [0x01, 0x02, 0x03, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17]
        for byte in UInt8.min...UInt8.max where !known.contains(byte) {
            #expect(decodeError([byte, 0, 0, 0, 0])?.code == .unknownMessageType, "type byte \(byte)")
        }
    }

    @Test func reconcileWithAnUnknownRangeKindIsRejected() {
        let header: [UInt8] = [0x15] + lengthPrefixed([0x73]) + bigEndianBytes(UInt64(1)) + bigEndianBytes(UInt32(0))
        let range: [UInt8] = Array(repeating: 0, count: 16) + [5]
        #expect(decodeError(header + bigEndianBytes(UInt32(1)) + range)?.code == .invalidField)
        // A range count the frame could not hold is refused before anything is allocated.
        #expect(decodeError(header + bigEndianBytes(UInt32.max))?.code == .countOutOfBounds)
    }

    @Test func emptyPayloadIsTruncated() {
        #expect(decodeError([])?.code == .truncatedField)
    }

    @Test(arguments: sampleMessages)
    func everyStrictPrefixIsRejected(message: WireMessage) throws {
        let bytes = try payloadBytes(message)
        let truncationCodes: [WireError.Code] = [.truncatedField, .lengthOutOfBounds, .countOutOfBounds]
        for length in 0..<bytes.count {
            let code = decodeError(Array(bytes.prefix(length)))?.code
            #expect(code.map { truncationCodes.contains($0) } == true, "prefix of \(length) bytes gave \(String(describing: code))")
        }
    }

    @Test(arguments: sampleMessages)
    func trailingBytesAreRejected(message: WireMessage) throws {
        #expect(decodeError(try payloadBytes(message) + [0])?.code == .trailingBytes)
    }

    @Test func lineCountLargerThanTheFrameCouldHoldIsRejected() throws {
        let header: [UInt8] = [0x10] + lengthPrefixed([0x73]) + bigEndianBytes(UInt64(0)) + bigEndianBytes(UInt64(4)) + [0]
        // 4 billion lines announced, 20 bytes left: rejected before reserving the array.
        #expect(decodeError(header + [0xFF, 0xFF, 0xFF, 0xFF] + Array(repeating: 0, count: 20))?.code == .countOutOfBounds)
        #expect(decodeError(header + bigEndianBytes(UInt32(6)) + Array(repeating: 0, count: 20))?.code == .countOutOfBounds)
        // Exactly as many empty lines as the bytes can hold (with the notice count) is fine.
        let fits = try decode(header + bigEndianBytes(UInt32(4)) + Array(repeating: 0, count: 20))
        #expect(fits == .replication(.entries(EntryBatch(session: "s", after: 0, through: 4, lines: [[], [], [], []]))))
    }

    @Test func lengthLargerThanTheRestOfTheFrameIsRejected() {
        let checkpoint: [UInt8] = [0x12] + lengthPrefixed([0x73]) + [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3]
        #expect(decodeError(checkpoint)?.code == .lengthOutOfBounds)
        let session: [UInt8] = [0x11] + bigEndianBytes(UInt32(17)) + Array(repeating: 0x61, count: 16)
        #expect(decodeError(session)?.code == .lengthOutOfBounds)
    }

    @Test func stringsMustBeUTF8() {
        let acknowledge: [UInt8] = [0x11] + lengthPrefixed([0x73, 0xC3]) + Array(repeating: 0, count: 16)
        #expect(decodeError(acknowledge)?.code == .invalidField)
        let snapshot: [UInt8] = [0x13] + lengthPrefixed([0x73]) + bigEndianBytes(Int64(1)) + lengthPrefixed([0xFF])
        #expect(decodeError(snapshot)?.code == .invalidField)
    }

    @Test func helloWithBadMagicIsRejected() {
        let bytes: [UInt8] = [0x01] + Array("HTTP".utf8) + [0, 1, 0] + lengthPrefixed([0x61])
        #expect(decodeError(bytes)?.code == .badMagic)
    }

    @Test func helloOfAnotherVersionIsRejectedWhateverFollows() {
        let bytes: [UInt8] = [0x01] + Array("OPLS".utf8) + [0, 1] + [0xEE, 0xEE, 0xEE]
        let error = decodeError(bytes)
        #expect(error?.code == .protocolVersionMismatch)
        #expect(error?.message == "peer speaks protocol version 1, this node speaks 5")
    }

    @Test func helloWithReservedFlagsIsRejected() {
        let bytes: [UInt8] = [0x01] + Array("OPLS".utf8) + [0, 5, 0x04] + lengthPrefixed([0x61])
        #expect(decodeError(bytes)?.code == .invalidField)
    }

    @Test func helloWithNonUTF8NodeIDIsRejected() {
        let bytes: [UInt8] = [0x01] + Array("OPLS".utf8) + [0, 5, 0] + lengthPrefixed([0x61, 0xFE, 0x62])
        let error = decodeError(bytes)
        #expect(error?.code == .invalidNodeID)
        #expect(error?.message == "peer node id is not valid UTF-8")
    }

    @Test func encodingOverTheMaximumWritesNothing() {
        let message = WireMessage.replication(.checkpoint(session: "s", bytes: Array(repeating: 1, count: 2000)))
        var buffer = ByteBuffer()
        #expect {
            try message.encode(into: &buffer, maximumFrameSize: 1024)
        } throws: { error in
            (error as? WireError)?.code == .frameTooLarge
        }
        #expect(buffer.readableBytes == 0)
        #expect(message.encodedLength == 1 + 4 + 1 + 4 + 2000)
        #expect(throws: Never.self) { try message.encode(into: &buffer, maximumFrameSize: 2010) }
    }
}
