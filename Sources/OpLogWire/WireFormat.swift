// The wire format is hand-rolled rather than JSON or Codable. Entry lines are most of the
// traffic and must arrive byte for byte as they are in the origin's file: JSON would escape them
// (or base64 them, a third larger) and Codable allocates per field and per key. A length-prefixed
// binary layout copies each line as-is, costs four bytes per line, and lets the decoder bound
// every length and count by the bytes left in the frame before it allocates anything.
//
// Layout (all integers big-endian, fixed width):
//
//     frame    := length:UInt32 payload                 length = payload bytes, at most the maximum
//     payload  := type:UInt8 fields
//     string   := length:UInt32 UTF-8 bytes
//     bytes    := length:UInt32 bytes
//
//     0x01 hello                  "OPLS" protocolVersion:UInt16 flags:UInt8 nodeID:string nonce:bytes
//                                 (flags bit 0: isReadOnly, bit 1: takes nothing from the receiver;
//                                 other bits zero; nonce: 16 random bytes)
//     0x02 ping                   (no fields)
//     0x03 pong                   (no fields)
//     0x10 entries                session:string after:UInt64 through:UInt64 flags:UInt8
//                                 count:UInt32 line:bytes × count notices:UInt32 notice × notices
//          notice                 sequence:UInt64 hash:UInt64 contentHash:UInt64
//                                 (flags bit 0: live; other bits zero)
//     0x11 acknowledge            session:string after:UInt64 through:UInt64
//     0x12 checkpoint             session:string checkpoint:bytes
//     0x13 checkpointAcknowledge  session:string lamportTimestamp:Int64 snapshotID:string digest:bytes
//                                 (digest: SHA-256 of the checkpoint's bytes)
//     0x14 retransmit             session:string
//     0x15 reconcile              session:string exchange:UInt64 step:UInt32 count:UInt32 range × count
//          range                  lamport:UInt64 hash:UInt64 kind:UInt8 fields   (upper bound, then what)
//                                 kind 0 skip, 1 fingerprint count:UInt64 sum:UInt64, 2 matched,
//                                 3 ids count:UInt32 id:UInt64 × count, 4 lacking bitmap:bytes
//                                 (sum and id: keyed hashes of entries, keyed by both nonces)
//     0x16 prune                  session:string
//     0x17 graft                  session:string count:UInt32 sequence:UInt64 × count
//
// Version 2 added the digest and `retransmit`; version 3 added `reconcile`; version 4 the
// hello's nonce, and keyed the hashes of `reconcile`; version 5 the broadcast trees (the
// entries' flags and notices, `prune`, `graft`). Peers of other versions are refused at
// the hello.
//
// The type byte, the magic and the version field of a hello keep their places in every future
// version, so that a peer of another version is reported as a version mismatch, not garbage.

/// Constants of the wire format described above.
enum WireFormat {
    /// The first four bytes of a hello's fields: "OPLS".
    static let magic: [UInt8] = Array("OPLS".utf8)
    /// Bytes of the length field in front of each payload.
    static let lengthFieldSize = 4
    /// The hello flag bit for ``Hello/isReadOnly``.
    static let readOnlyFlag: UInt8 = 0x01
    /// The hello flag bit for a sender that takes nothing from the receiver
    /// (``Hello/takesEntries`` false).
    static let takesNothingFlag: UInt8 = 0x02
    /// Bytes of a reconcile range without its payload's fields: bound and kind.
    static let reconcileRangeHeaderSize = 17
    /// Bytes of one notice in an entries message.
    static let noticeSize = 24
    /// The entries flag bit for ``EntryBatch/isLive``.
    static let liveFlag: UInt8 = 0x01

    /// The kind byte of a reconcile range.
    enum RangeKind: UInt8 {
        case skip = 0
        case fingerprint = 1
        case matched = 2
        case ids = 3
        case lacking = 4
    }

    /// The type byte that starts each payload.
    enum MessageType: UInt8 {
        case hello = 0x01
        case ping = 0x02
        case pong = 0x03
        case entries = 0x10
        case acknowledge = 0x11
        case checkpoint = 0x12
        case checkpointAcknowledge = 0x13
        case retransmit = 0x14
        case reconcile = 0x15
        case prune = 0x16
        case graft = 0x17

        /// The name used in error messages.
        var name: String {
            switch self {
            case .hello: "hello"
            case .ping: "ping"
            case .pong: "pong"
            case .entries: "entries"
            case .acknowledge: "acknowledge"
            case .checkpoint: "checkpoint"
            case .checkpointAcknowledge: "checkpointAcknowledge"
            case .retransmit: "retransmit"
            case .reconcile: "reconcile"
            case .prune: "prune"
            case .graft: "graft"
            }
        }
    }
}
