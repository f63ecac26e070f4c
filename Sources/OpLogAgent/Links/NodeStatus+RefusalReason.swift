import OpLogWire

extension NodeStatus.RefusalReason {
    /// The refusal of a hello that ``Hello/validate(peer:)`` rejected with `error`.
    init(_ error: WireError) {
        // `WireError.Code` is an extensible struct: a code added later counts as invalid_hello.
        if error.code == .protocolVersionMismatch {
            self = .protocolVersion
        } else if error.code == .invalidNodeID {
            self = .invalidNodeID
        } else if error.code == .ownNodeID {
            self = .ownNodeID
        } else {
            self = .invalidHello
        }
    }
}
