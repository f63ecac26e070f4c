public import NIOCore
import OpLogReplication

extension WireMessage {
    /// Decodes one frame payload (the bytes after the length field).
    ///
    /// Total: every byte sequence yields a message or a `WireError`, never a trap. Every length
    /// and count is checked against the bytes left in the payload before anything is allocated,
    /// so memory stays within a small multiple of the payload's size. The encoding is canonical:
    /// a payload that decodes re-encodes to the same bytes. A hello of another protocol version
    /// is rejected as soon as its version field is read, since the fields after it follow that
    /// version's layout.
    /// - Parameter payload: One frame's payload, consumed whole.
    /// - Throws: `WireError` with code `.unknownMessageType`, `.truncatedField`,
    ///   `.lengthOutOfBounds`, `.countOutOfBounds`, `.trailingBytes`, `.badMagic`, `.invalidField`
    ///   (a string that is not UTF-8, reserved flag bits), `.protocolVersionMismatch` or
    ///   `.invalidNodeID` (a node id that is not UTF-8).
    /// - Complexity: O(payload bytes).
    public init(decoding payload: ByteBuffer) throws(WireError) {
        var reader = WirePayloadReader(payload)
        let typeByte = try reader.readInteger("type", as: UInt8.self)
        guard let type = WireFormat.MessageType(rawValue: typeByte) else {
            throw WireError(code: .unknownMessageType, message: "unknown message type \(Self.hex(typeByte))")
        }
        reader.messageKind = "\(type.name) message"
        switch type {
        case .hello:
            self = .hello(try Self.decodeHello(&reader))
        case .ping:
            self = .ping
        case .pong:
            self = .pong
        case .entries:
            let session = try reader.readString("session")
            let after = try reader.readInteger("after", as: UInt64.self)
            let through = try reader.readInteger("through", as: UInt64.self)
            let flags = try reader.readInteger("flags", as: UInt8.self)
            guard flags & ~WireFormat.liveFlag == 0 else {
                throw WireError(
                    code: .invalidField,
                    message: "entries message: reserved flag bits set in \(Self.hex(flags))"
                )
            }
            let count = try reader.readCount("line count", minimumElementSize: 4)
            var lines: [[UInt8]] = []
            lines.reserveCapacity(count)
            for index in 0..<count {
                lines.append(try reader.readBytes("line \(index)"))
            }
            let noticeCount = try reader.readCount("notice count", minimumElementSize: WireFormat.noticeSize)
            var notices: [EntryNotice] = []
            notices.reserveCapacity(noticeCount)
            for index in 0..<noticeCount {
                notices.append(
                    EntryNotice(
                        sequence: try reader.readInteger("notice \(index) sequence", as: UInt64.self),
                        hash: try reader.readInteger("notice \(index) hash", as: UInt64.self),
                        contentHash: try reader.readInteger("notice \(index) contentHash", as: UInt64.self)
                    )
                )
            }
            let batch = EntryBatch(
                session: session,
                after: after,
                through: through,
                lines: lines,
                notices: notices,
                isLive: flags & WireFormat.liveFlag != 0
            )
            self = .replication(.entries(batch))
        case .acknowledge:
            let session = try reader.readString("session")
            let after = try reader.readInteger("after", as: UInt64.self)
            let through = try reader.readInteger("through", as: UInt64.self)
            self = .replication(.acknowledge(session: session, after: after, through: through))
        case .checkpoint:
            let session = try reader.readString("session")
            let bytes = try reader.readBytes("checkpoint")
            self = .replication(.checkpoint(session: session, bytes: bytes))
        case .checkpointAcknowledge:
            let session = try reader.readString("session")
            let lamportTimestamp = try reader.readInteger("lamportTimestamp", as: Int64.self)
            let snapshotID = try reader.readString("snapshotID")
            let digest = try reader.readBytes("digest")
            self = .replication(
                .checkpointAcknowledge(
                    session: session,
                    lamportTimestamp: lamportTimestamp,
                    snapshotID: snapshotID,
                    digest: digest
                )
            )
        case .retransmit:
            self = .replication(.retransmit(session: try reader.readString("session")))
        case .prune:
            self = .replication(.prune(session: try reader.readString("session")))
        case .graft:
            let session = try reader.readString("session")
            let count = try reader.readCount("sequence count", minimumElementSize: 8)
            var sequences: [UInt64] = []
            sequences.reserveCapacity(count)
            for _ in 0..<count { sequences.append(try reader.readInteger("sequence", as: UInt64.self)) }
            self = .replication(.graft(session: session, sequences: sequences))
        case .reconcile:
            self = .replication(try Self.decodeReconcile(&reader))
        }
        try reader.finish()
    }

    private static func decodeHello(_ reader: inout WirePayloadReader) throws(WireError) -> Hello {
        guard try reader.readMagic("magic", expected: WireFormat.magic) else {
            throw WireError(code: .badMagic, message: "hello does not start with \"OPLS\": the peer is not oplog-sync")
        }
        let version = try reader.readInteger("protocolVersion", as: UInt16.self)
        guard version == Hello.currentProtocolVersion else {
            throw WireError(
                code: .protocolVersionMismatch,
                message: "peer speaks protocol version \(version), this node speaks \(Hello.currentProtocolVersion)"
            )
        }
        let flags = try reader.readInteger("flags", as: UInt8.self)
        guard flags & ~(WireFormat.readOnlyFlag | WireFormat.takesNothingFlag) == 0 else {
            throw WireError(code: .invalidField, message: "hello message: reserved flag bits set in \(Self.hex(flags))")
        }
        let nodeID: String
        do {
            nodeID = try reader.readString("nodeID")
        } catch {
            guard error.code == .invalidField else {
                throw error
            }
            throw WireError(code: .invalidNodeID, message: "peer node id is not valid UTF-8")
        }
        let nonce = try reader.readBytes("nonce")
        guard nonce.count == ReconciliationKey.nonceLength else {
            throw WireError(
                code: .invalidField,
                message: "hello message: nonce of \(nonce.count) bytes, not \(ReconciliationKey.nonceLength)"
            )
        }
        return Hello(
            protocolVersion: version,
            nodeID: nodeID,
            isReadOnly: flags & WireFormat.readOnlyFlag != 0,
            takesEntries: flags & WireFormat.takesNothingFlag == 0,
            nonce: nonce
        )
    }

    private static func decodeReconcile(_ reader: inout WirePayloadReader) throws(WireError) -> ReplicationMessage {
        let session = try reader.readString("session")
        let exchange = try reader.readInteger("exchange", as: UInt64.self)
        let step = try reader.readInteger("step", as: UInt32.self)
        let count = try reader.readCount("range count", minimumElementSize: WireFormat.reconcileRangeHeaderSize)
        var ranges: [ReconciliationRange] = []
        ranges.reserveCapacity(count)
        for index in 0..<count {
            let lamport = try reader.readInteger("range \(index) lamport", as: UInt64.self)
            let hash = try reader.readInteger("range \(index) hash", as: UInt64.self)
            let kindByte = try reader.readInteger("range \(index) kind", as: UInt8.self)
            let payload: ReconciliationPayload
            switch WireFormat.RangeKind(rawValue: kindByte) {
            case .skip:
                payload = .skip
            case .fingerprint:
                let entries = try reader.readInteger("range \(index) count", as: UInt64.self)
                let sum = try reader.readInteger("range \(index) sum", as: UInt64.self)
                payload = .fingerprint(count: entries, sum: sum)
            case .matched:
                payload = .matched
            case .ids:
                let idCount = try reader.readCount("range \(index) id count", minimumElementSize: 8)
                var ids: [UInt64] = []
                ids.reserveCapacity(idCount)
                for _ in 0..<idCount { ids.append(try reader.readInteger("range \(index) id", as: UInt64.self)) }
                payload = .ids(ids)
            case .lacking:
                payload = .lacking(try reader.readBytes("range \(index) bitmap"))
            case nil:
                throw WireError(
                    code: .invalidField,
                    message: "reconcile message: range \(index) has unknown kind \(Self.hex(kindByte))"
                )
            }
            ranges.append(
                ReconciliationRange(upperBound: ReconciliationBound(lamport: lamport, hash: hash), payload: payload)
            )
        }
        return .reconcile(session: session, exchange: exchange, step: step, ranges: ranges)
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return byte < 0x10 ? "0x0\(digits)" : "0x\(digits)"
    }
}
