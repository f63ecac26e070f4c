import OpLogReplication
import OpLogWire

extension WireMessage {
    /// About how many bytes the message holds in memory beyond its fixed part: its lines, a
    /// checkpoint's bytes, a reconciliation step's ranges. What ``LinkOutbox`` counts.
    var estimatedSize: Int {
        switch self {
        case .hello, .ping, .pong:
            return 0
        case .replication(let message):
            switch message {
            case .entries(let batch):
                return batch.lines.reduce(0) { $0 + $1.count + 16 } + 24 * batch.notices.count
            case .checkpoint(_, let bytes):
                return bytes.count
            case .reconcile(_, _, _, let ranges):
                return ranges.reduce(0) { total, range in
                    switch range.payload {
                    case .ids(let ids): total + 32 + 8 * ids.count
                    case .lacking(let bits): total + 32 + bits.count
                    case .skip, .fingerprint, .matched: total + 32
                    }
                }
            case .graft(_, let sequences):
                return 8 * sequences.count
            case .acknowledge, .checkpointAcknowledge, .retransmit, .prune:
                return 0
            }
        }
    }
}
