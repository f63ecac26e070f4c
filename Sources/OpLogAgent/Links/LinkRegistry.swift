import OpLogReplication

/// The live links, at most one per peer, and who waits to hear when a peer's link comes or goes.
///
/// Two nodes that dial each other end up with two connections; both ends keep the same one,
/// the connection dialed by the node with the smaller id, so the pair has one link.
struct LinkRegistry: Sendable {
    /// What ``register(_:)`` did with a link.
    enum Registration: Sendable {
        /// The link is the peer's link now.
        case added
        /// The link is the peer's link now and replaced this one, which the caller closes (the
        /// engine hears the old one went before it hears the new one came).
        case replaced(LinkHandle)
        /// The peer keeps its existing link; the caller closes this one.
        case refused
    }

    private var links: [NodeID: LinkHandle] = [:]
    private var watchers: [NodeID: [AsyncStream<Bool>.Continuation]] = [:]

    /// Makes `link` the link to its peer, unless the peer's existing link is the one to keep.
    mutating func register(_ link: LinkHandle) -> Registration {
        let registration: Registration
        if let existing = self.links[link.peer] {
            guard link.dialer < existing.dialer else { return .refused }
            registration = .replaced(existing)
        } else {
            registration = .added
        }
        self.links[link.peer] = link
        self.notify(link.peer, isConnected: true)
        return registration
    }

    /// Removes `link` if it is still its peer's link; returns whether it was.
    mutating func unregister(_ link: LinkHandle) -> Bool {
        guard self.links[link.peer] === link else { return false }
        self.links[link.peer] = nil
        self.notify(link.peer, isConnected: false)
        return true
    }

    /// The peer's link, if it has one.
    func link(to peer: NodeID) -> LinkHandle? {
        self.links[peer]
    }

    /// Whether `link` is its peer's link (a replaced or refused one is not).
    func isCurrent(_ link: LinkHandle) -> Bool {
        self.links[link.peer] === link
    }

    /// The peers with a link, in order.
    var connectedPeers: [NodeID] { self.links.keys.sorted() }

    /// Every link, for a shutdown to close.
    var allLinks: [LinkHandle] { Array(self.links.values) }

    /// Whether the peer has a link, now and after every change: the stream yields the current
    /// state first, then each change, until the caller stops iterating.
    mutating func connectionStates(of peer: NodeID) -> AsyncStream<Bool> {
        let (stream, continuation) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingNewest(1))
        continuation.yield(self.links[peer] != nil)
        self.watchers[peer, default: []].append(continuation)
        return stream
    }

    private mutating func notify(_ peer: NodeID, isConnected: Bool) {
        guard let watchers = self.watchers[peer] else { return }
        let live = watchers.filter { continuation in
            if case .terminated = continuation.yield(isConnected) { return false }
            return true
        }
        self.watchers[peer] = live.isEmpty ? nil : live
    }
}
