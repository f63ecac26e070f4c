import OpLog

@testable import OpLogReplication

// DESIGN §3.9, resume rather than restart: a link that comes back sends what the other end
// lacks, not what both already hold. Measured on the links that come up while the world heals,
// when the network no longer loses, duplicates or corrupts anything.
extension SimulationWorld {
    /// A link that came up while healing: what each end had fed to its engine at that moment,
    /// and what each then shipped the other of it.
    struct Reconnect {
        var epoch: Int
        /// Per end (0: the link's low end, 1: its high end), per session, the valid entries in
        /// the part of its files fed to its engine.
        var held: [[SessionID: Set<OpID>]]
        /// Per end, lines it shipped over this link of entries it held then.
        var shipped = [0, 0]
        /// Per end, lines it shipped of entries both ends held then: what resuming must not send.
        var resent = [0, 0]
    }

    /// The valid entries of each session in the part of replica `index`'s files its engine has
    /// been fed.
    func fedEntries(of index: Int) -> [SessionID: Set<OpID>] {
        var held: [SessionID: Set<OpID>] = [:]
        for (session, files) in self.replicas[index].files {
            // Every op id is in the file once: the fed part is the whole file's less the tail's.
            var ids = files.opIDs.filter { self.made[$0] != nil }
            for line in files.bytes[files.watchedOffset...].split(separator: UInt8(ascii: "\n")) {
                if let entry = self.entry(for: Array(line)) { ids.remove(entry.opID) }
            }
            if let unfinished = files.unfinished { ids.remove(unfinished.id) }
            held[session] = ids
        }
        return held
    }

    /// Called as link `link` changes state: when it comes up while healing, what both ends hold.
    func noteReconnect(_ link: Int) {
        guard self.isHealing, self.links[link].isConnected else { return }
        let held = [self.fedEntries(of: self.links[link].low), self.fedEntries(of: self.links[link].high)]
        self.reconnects[link] = Reconnect(epoch: self.links[link].epoch, held: held)
    }

    /// Counts `lines`, shipped by `index` to `peer`, against the link's reconnect if any.
    func noteShipped(_ lines: [[UInt8]], session: SessionID, from index: Int, to peer: NodeID) {
        guard let target = self.nodeIndex[peer], let link = self.linkIndex[Self.pairKey(index, target)],
            var reconnect = self.reconnects[link], reconnect.epoch == self.links[link].epoch
        else { return }
        let end = index == self.links[link].low ? 0 : 1
        let mine = reconnect.held[end][session] ?? []
        let theirs = reconnect.held[1 - end][session] ?? []
        for line in lines {
            guard let id = self.entry(for: line)?.opID, mine.contains(id) else { continue }
            reconnect.shipped[end] += 1
            if theirs.contains(id) { reconnect.resent[end] += 1 }
        }
        self.reconnects[link] = reconnect
    }

    /// (9) Over each link that came back while healing, neither end re-sent an entry both held
    /// (reconciliation and recorded progress tell each what the other has), and what each
    /// shipped of what it held is in proportion to what the other lacked: each entry once, plus
    /// the retransmissions of what stays unacknowledged. Nothing is lost while healing, so a
    /// range stays unacknowledged only while the receiver holds one of its entries for a
    /// parent: one round again for a parent still on its way from elsewhere, and, where
    /// parents may never exist, one round per retransmission timeout of the hold.
    func checkResumption() {
        for link in self.reconnects.keys.sorted() {
            guard let reconnect = self.reconnects[link], reconnect.epoch == self.links[link].epoch else { continue }
            let ends = [self.links[link].low, self.links[link].high]
            for end in 0...1 {
                let (from, to) = (ends[end], ends[1 - end])
                var lacked = 0
                for (session, mine) in reconnect.held[end] {
                    lacked += mine.subtracting(reconnect.held[1 - end][session] ?? []).count
                }
                if reconnect.resent[end] > 0 {
                    self.violate(
                        "9 resume",
                        "n\(from) sent n\(to) \(reconnect.resent[end]) entries both held when their link came back"
                    )
                }
                let engine = self.parameters.engine
                let rounds = self.parameters.missingParentRate > 0 ? 2 + Int(engine.holdTimeout / engine.retransmitTimeout) : 2
                if reconnect.shipped[end] > lacked * rounds {
                    self.violate(
                        "9 resume",
                        "n\(from) shipped n\(to) \(reconnect.shipped[end]) lines of what it held when their link came back; n\(to) lacked \(lacked) (at most \(rounds) rounds)"
                    )
                }
            }
        }
    }
}
