public import NIOCore
import OpLogReplication

extension WireMessage {
    /// The number of bytes ``encode(into:maximumFrameSize:)`` writes: the frame payload, without
    /// the 4-byte length field.
    ///
    /// - Complexity: O(number of lines) for entries, O(1) otherwise.
    public var encodedLength: Int {
        switch self {
        case .hello(let hello):
            return 1 + WireFormat.magic.count + 2 + 1 + 4 + hello.nodeID.utf8.count + 4 + hello.nonce.count
        case .ping, .pong:
            return 1
        case .replication(let message):
            switch message {
            case .entries(let batch):
                let lines = batch.lines.reduce(0) { $0 + 4 + $1.count }
                let notices = 4 + WireFormat.noticeSize * batch.notices.count
                return 1 + 4 + batch.session.utf8.count + 8 + 8 + 1 + 4 + lines + notices
            case .acknowledge(let session, _, _):
                return 1 + 4 + session.utf8.count + 8 + 8
            case .checkpoint(let session, let bytes):
                return 1 + 4 + session.utf8.count + 4 + bytes.count
            case .checkpointAcknowledge(let session, _, let snapshotID, let digest):
                return 1 + 4 + session.utf8.count + 8 + 4 + snapshotID.utf8.count + 4 + digest.count
            case .retransmit(let session), .prune(let session):
                return 1 + 4 + session.utf8.count
            case .graft(let session, let sequences):
                return 1 + 4 + session.utf8.count + 4 + 8 * sequences.count
            case .reconcile(let session, _, _, let ranges):
                let rangeBytes = ranges.reduce(0) { total, range in
                    let fields =
                        switch range.payload {
                        case .skip, .matched: 0
                        case .fingerprint: 16
                        case .ids(let ids): 4 + 8 * ids.count
                        case .lacking(let bitmap): 4 + bitmap.count
                        }
                    return total + WireFormat.reconcileRangeHeaderSize + fields
                }
                return 1 + 4 + session.utf8.count + 8 + 4 + 4 + rangeBytes
            }
        }
    }

    /// Appends this message's frame payload to `buffer`: the type byte and the fields, without
    /// the length field (``WirePipeline`` adds it).
    ///
    /// Lines and checkpoint bytes are copied as they are. Nothing is written when the payload
    /// would exceed `maximumFrameSize` (or 4 GiB − 1, the most a length field can express): a
    /// peer would reject such a frame.
    /// - Parameters:
    ///   - buffer: The buffer to append to; capacity for ``encodedLength`` bytes is reserved once.
    ///   - maximumFrameSize: The largest payload to write, in bytes.
    /// - Throws: `WireError` with code `.frameTooLarge`.
    /// - Complexity: O(payload bytes).
    public func encode(
        into buffer: inout ByteBuffer,
        maximumFrameSize: Int = WireConfiguration.defaultMaximumFrameSize
    ) throws(WireError) {
        let length = self.encodedLength
        let limit = min(maximumFrameSize, Int(UInt32.max))
        guard length <= limit else {
            throw WireError(
                code: .frameTooLarge,
                message: "\(self.kind.name) message is \(length) bytes, more than the maximum frame size \(limit)"
            )
        }
        // Every field is shorter than the whole payload, so each length fits a UInt32 below.
        buffer.reserveCapacity(minimumWritableBytes: length)
        buffer.writeInteger(self.kind.rawValue)
        switch self {
        case .hello(let hello):
            buffer.writeBytes(WireFormat.magic)
            buffer.writeInteger(hello.protocolVersion, endianness: .big)
            let readOnly = hello.isReadOnly ? WireFormat.readOnlyFlag : 0
            buffer.writeInteger(readOnly | (hello.takesEntries ? 0 : WireFormat.takesNothingFlag))
            buffer.writeLengthPrefixed(hello.nodeID)
            buffer.writeLengthPrefixed(hello.nonce)
        case .ping, .pong:
            break
        case .replication(let message):
            switch message {
            case .entries(let batch):
                buffer.writeLengthPrefixed(batch.session)
                buffer.writeInteger(batch.after, endianness: .big)
                buffer.writeInteger(batch.through, endianness: .big)
                buffer.writeInteger(batch.isLive ? WireFormat.liveFlag : 0)
                buffer.writeInteger(UInt32(batch.lines.count), endianness: .big)
                for line in batch.lines {
                    buffer.writeLengthPrefixed(line)
                }
                buffer.writeInteger(UInt32(batch.notices.count), endianness: .big)
                for notice in batch.notices {
                    buffer.writeInteger(notice.sequence, endianness: .big)
                    buffer.writeInteger(notice.hash, endianness: .big)
                    buffer.writeInteger(notice.contentHash, endianness: .big)
                }
            case .acknowledge(let session, let after, let through):
                buffer.writeLengthPrefixed(session)
                buffer.writeInteger(after, endianness: .big)
                buffer.writeInteger(through, endianness: .big)
            case .checkpoint(let session, let bytes):
                buffer.writeLengthPrefixed(session)
                buffer.writeLengthPrefixed(bytes)
            case .checkpointAcknowledge(let session, let lamportTimestamp, let snapshotID, let digest):
                buffer.writeLengthPrefixed(session)
                buffer.writeInteger(lamportTimestamp, endianness: .big)
                buffer.writeLengthPrefixed(snapshotID)
                buffer.writeLengthPrefixed(digest)
            case .retransmit(let session), .prune(let session):
                buffer.writeLengthPrefixed(session)
            case .graft(let session, let sequences):
                buffer.writeLengthPrefixed(session)
                buffer.writeInteger(UInt32(sequences.count), endianness: .big)
                for sequence in sequences { buffer.writeInteger(sequence, endianness: .big) }
            case .reconcile(let session, let exchange, let step, let ranges):
                buffer.writeLengthPrefixed(session)
                buffer.writeInteger(exchange, endianness: .big)
                buffer.writeInteger(step, endianness: .big)
                buffer.writeInteger(UInt32(ranges.count), endianness: .big)
                for range in ranges {
                    buffer.writeReconciliationRange(range)
                }
            }
        }
    }

    /// The type byte of this message.
    private var kind: WireFormat.MessageType {
        switch self {
        case .hello: .hello
        case .ping: .ping
        case .pong: .pong
        case .replication(.entries): .entries
        case .replication(.acknowledge): .acknowledge
        case .replication(.checkpoint): .checkpoint
        case .replication(.checkpointAcknowledge): .checkpointAcknowledge
        case .replication(.retransmit): .retransmit
        case .replication(.reconcile): .reconcile
        case .replication(.prune): .prune
        case .replication(.graft): .graft
        }
    }
}

extension ByteBuffer {
    fileprivate mutating func writeLengthPrefixed(_ string: String) {
        self.writeInteger(UInt32(string.utf8.count), endianness: .big)
        self.writeString(string)
    }

    fileprivate mutating func writeLengthPrefixed(_ bytes: [UInt8]) {
        self.writeInteger(UInt32(bytes.count), endianness: .big)
        self.writeBytes(bytes)
    }

    fileprivate mutating func writeReconciliationRange(_ range: ReconciliationRange) {
        self.writeInteger(range.upperBound.lamport, endianness: .big)
        self.writeInteger(range.upperBound.hash, endianness: .big)
        switch range.payload {
        case .skip:
            self.writeInteger(WireFormat.RangeKind.skip.rawValue)
        case .fingerprint(let count, let sum):
            self.writeInteger(WireFormat.RangeKind.fingerprint.rawValue)
            self.writeInteger(count, endianness: .big)
            self.writeInteger(sum, endianness: .big)
        case .matched:
            self.writeInteger(WireFormat.RangeKind.matched.rawValue)
        case .ids(let ids):
            self.writeInteger(WireFormat.RangeKind.ids.rawValue)
            self.writeInteger(UInt32(ids.count), endianness: .big)
            for id in ids { self.writeInteger(id, endianness: .big) }
        case .lacking(let bitmap):
            self.writeInteger(WireFormat.RangeKind.lacking.rawValue)
            self.writeLengthPrefixed(bitmap)
        }
    }
}
