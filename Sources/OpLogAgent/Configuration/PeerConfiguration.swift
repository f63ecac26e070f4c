public import OpLog
public import OpLogIdentity
public import OpLogReplication

/// One peer the node was told about (DESIGN §7): its node ID, the address to dial it at (none
/// for a peer that only dials in) and what it may do.
///
/// `--peer ID@HOST:PORT` is a peer with an address and no rules; a `peers:` entry of the config
/// file may add `sessions` and `receive`. The rules are carried to the peer's link
/// (``LinkHandle/rules``, as `PeerRules`) for the engine to honour.
public struct PeerConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// What a peer may see and send.
    public struct Rules: Sendable, Hashable {
        /// The sessions offered to and taken from the peer; `nil`: every session.
        public var sessions: [SessionPattern]?
        /// Whether entries and checkpoints from the peer are written and forwarded (`false`: a
        /// backup that may read but not write).
        public var isReceiving: Bool

        /// Every session, both ways: what `--peer` and `--accept` give.
        public static let everything = Rules(sessions: nil, isReceiving: true)

        /// Rules with `sessions` (default every session) and `isReceiving` (default `true`).
        public init(sessions: [SessionPattern]? = nil, isReceiving: Bool = true) {
            self.sessions = sessions
            self.isReceiving = isReceiving
        }

        /// Whether the peer may see and send `session`: it matches one of ``sessions``, or
        /// there are none.
        public func admits(_ session: SessionID) -> Bool {
            self.sessions?.contains { $0.matches(session) } ?? true
        }
    }

    /// The peer's node ID: the only one its link admits.
    public var id: NodeFingerprint
    /// Where to dial it; `nil` for a peer that only dials in.
    public var address: PeerAddress?
    /// What it may do.
    public var rules: Rules

    /// A peer with `id`, dialled at `address` when there is one.
    public init(id: NodeFingerprint, address: PeerAddress? = nil, rules: Rules = .everything) {
        self.id = id
        self.address = address
        self.rules = rules
    }

    /// The `ID@HOST:PORT` form of `--peer`, `OPLOG_SYNC_PEERS` and a config file's `peers:`
    /// string entries.
    ///
    /// - Parameters:
    ///   - text: `ID@HOST:PORT`.
    ///   - origin: where `text` came from (`--peer`, `OPLOG_SYNC_PEERS`, a file), named in the
    ///     error.
    /// - Throws: ``AgentError`` `.invalidConfiguration` with one line naming `origin`: text
    ///   without `@` (saying how to get the ID: `oplog-sync id` on that machine), a node ID
    ///   that does not parse (``NodeFingerprint/init(parsing:)``'s message), or an address that
    ///   is not `HOST:PORT`.
    public init(parsing text: String, origin: String) throws(AgentError) {
        guard let at = text.firstIndex(of: "@") else {
            throw AgentError(
                code: .invalidConfiguration,
                message: "\(origin) \(text) names no node ID: write it as ID@HOST:PORT, with the ID that "
                    + "`oplog-sync id` prints on that machine"
            )
        }
        let id = try Self.parseID(String(text[..<at]), origin: origin)
        let address: PeerAddress
        do {
            address = try PeerAddress(parsing: String(text[text.index(after: at)...]))
        } catch {
            throw AgentError(code: .invalidConfiguration, message: "\(origin) \(text): \(error.message)", cause: error)
        }
        self.init(id: id, address: address)
    }

    /// A node ID given in `origin` (`--accept`, `OPLOG_SYNC_ACCEPT`, a file's entry).
    ///
    /// - Throws: ``AgentError`` `.invalidConfiguration`: `origin`, then why `text` is not a node
    ///   ID.
    public static func parseID(_ text: String, origin: String) throws(AgentError) -> NodeFingerprint {
        do {
            return try NodeFingerprint(parsing: text)
        } catch {
            throw AgentError(code: .invalidConfiguration, message: "\(origin): \(error.message)", cause: error)
        }
    }

    /// `ID@HOST:PORT`, or the ID alone for a peer without an address.
    public var description: String {
        self.address.map { "\(self.id)@\($0)" } ?? "\(self.id)"
    }
}
