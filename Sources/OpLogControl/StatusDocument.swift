import Foundation
import OpLog
public import OpLogAgent
import OpLogReplication

/// The JSON of `GET /status` (DESIGN §8), field for field: what the endpoint serves, what the
/// status page reads and what `oplog-sync status` decodes.
///
/// Every key is always present (sorted in the JSON); a value that does not exist is `null`, never
/// a missing key:
///
/// ```
/// node_id string, version string, listen string, read_only bool,
/// peers [{ id string|null, address string|null, connected bool, lag_entries int,
///          lag_seconds number, last_seen string|null (RFC 3339), bytes_sent int,
///          bytes_received int,
///          catch_up { done int, total int, rate_per_s number, eta_s number|null } | null }],
/// pending [{ id string, address string, last_attempt string (RFC 3339) }],
/// sessions [{ id string, entries int, lamport_ts int|null, checkpoint string|null }]
/// ```
///
/// A configured peer whose address has not answered yet is listed with its configured `id`
/// (`null` only for an address given without one, which today's configuration refuses);
/// `rate_per_s` is 0 until the catch-up was measured twice, and `eta_s` is `null` while the
/// rate is 0.
public struct StatusDocument: Codable, Sendable, Equatable {
    public struct Peer: Codable, Sendable, Equatable {
        public var id: String?
        public var address: String?
        public var connected: Bool
        public var lagEntries: UInt64
        public var lagSeconds: Double
        public var lastSeen: String?
        public var bytesSent: UInt64
        public var bytesReceived: UInt64
        public var catchUp: CatchUp?

        enum CodingKeys: String, CodingKey {
            case id, address, connected
            case lagEntries = "lag_entries"
            case lagSeconds = "lag_seconds"
            case lastSeen = "last_seen"
            case bytesSent = "bytes_sent"
            case bytesReceived = "bytes_received"
            case catchUp = "catch_up"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.id, forKey: .id)
            try container.encode(self.address, forKey: .address)
            try container.encode(self.connected, forKey: .connected)
            try container.encode(self.lagEntries, forKey: .lagEntries)
            try container.encode(self.lagSeconds, forKey: .lagSeconds)
            try container.encode(self.lastSeen, forKey: .lastSeen)
            try container.encode(self.bytesSent, forKey: .bytesSent)
            try container.encode(self.bytesReceived, forKey: .bytesReceived)
            try container.encode(self.catchUp, forKey: .catchUp)
        }
    }

    public struct CatchUp: Codable, Sendable, Equatable {
        public var done: UInt64
        public var total: UInt64
        public var ratePerSecond: Double
        public var etaSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case done, total
            case ratePerSecond = "rate_per_s"
            case etaSeconds = "eta_s"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.done, forKey: .done)
            try container.encode(self.total, forKey: .total)
            try container.encode(self.ratePerSecond, forKey: .ratePerSecond)
            try container.encode(self.etaSeconds, forKey: .etaSeconds)
        }
    }

    public struct Pending: Codable, Sendable, Equatable {
        public var id: String
        public var address: String
        public var lastAttempt: String

        enum CodingKeys: String, CodingKey {
            case id, address
            case lastAttempt = "last_attempt"
        }
    }

    public struct Session: Codable, Sendable, Equatable {
        public var id: String
        public var entries: Int
        public var lamportTimestamp: UInt64?
        public var checkpoint: String?

        enum CodingKeys: String, CodingKey {
            case id, entries
            case lamportTimestamp = "lamport_ts"
            case checkpoint
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.id, forKey: .id)
            try container.encode(self.entries, forKey: .entries)
            try container.encode(self.lamportTimestamp, forKey: .lamportTimestamp)
            try container.encode(self.checkpoint, forKey: .checkpoint)
        }
    }

    public var nodeID: String
    public var version: String
    public var listen: String
    public var readOnly: Bool
    public var peers: [Peer]
    public var pending: [Pending]
    public var sessions: [Session]

    enum CodingKeys: String, CodingKey {
        case nodeID = "node_id"
        case version, listen
        case readOnly = "read_only"
        case peers, pending, sessions
    }

    /// The document of `status`, as a node of `version` serves it.
    public init(_ status: NodeStatus, version: String) {
        self.nodeID = status.nodeID.rawValue
        self.version = version
        self.listen = status.listen
        self.readOnly = status.isReadOnly
        self.peers = status.peers.map { peer in
            Peer(
                id: peer.id?.rawValue,
                address: peer.address,
                connected: peer.isConnected,
                lagEntries: peer.lagEntries,
                lagSeconds: peer.lagSeconds,
                lastSeen: peer.lastSeen?.iso8601,
                bytesSent: peer.bytesSent,
                bytesReceived: peer.bytesReceived,
                catchUp: peer.catchUp.map { catchUp in
                    CatchUp(
                        done: catchUp.done,
                        total: catchUp.total,
                        ratePerSecond: Self.rounded(catchUp.ratePerSecond ?? 0, places: 1),
                        etaSeconds: catchUp.etaSeconds.map { Self.rounded($0, places: 1) }
                    )
                }
            )
        }
        self.pending = status.pending.map { pending in
            // Written as every other time of the document is (WallClockTime's RFC 3339 form).
            let seconds = pending.lastAttempt.timeIntervalSince1970
            let whole = seconds.rounded(.down)
            let time = WallClockTime(seconds: Int(whole), nanoseconds: Int(((seconds - whole) * 1e9).rounded(.down)))
            return Pending(id: pending.id, address: pending.address, lastAttempt: time.iso8601)
        }
        self.sessions = status.sessions.map { session in
            Session(
                id: session.id.rawValue,
                entries: session.entries,
                lamportTimestamp: session.lamportMaximum,
                checkpoint: session.checkpointSnapshotID
            )
        }
    }

    /// The document's JSON: one object, keys sorted (the same bytes for the same status, so two
    /// reads of a quiet node compare equal), then `\n`.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(self)) + [UInt8(ascii: "\n")]
        } catch {
            // Strings, integers and finite numbers only: encoding cannot fail.
            preconditionFailure("the status document does not encode: \(error)")
        }
    }

    /// Decodes a document from `/status`'s bytes.
    /// - Throws: the decoder's error when the bytes are not such a document.
    public init(decoding bytes: [UInt8]) throws {
        self = try JSONDecoder().decode(StatusDocument.self, from: Data(bytes))
    }

    private static func rounded(_ value: Double, places: Int) -> Double {
        let scale = places == 0 ? 1 : (1...places).reduce(1.0) { result, _ in result * 10 }
        return (value * scale).rounded() / scale
    }
}
