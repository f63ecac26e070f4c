import OpLog

@testable import OpLogReplication

// What a failed run looked like at the end, for replaying a seed by hand
// (`OPLOG_SIM_VERBOSE=1` adds it to the failure message).
extension SimulationWorld {
    func diagnostics() -> String {
        var lines: [String] = []
        lines.append("t=\(self.now), heal at \(self.healStarted), \(self.inFlight) in flight, last send \(self.lastSend), \(self.events) events, \(self.reconciliations) reconciliations")
        for (index, replica) in self.replicas.enumerated() {
            guard let engine = replica.engine else {
                lines.append("n\(index): down")
                continue
            }
            var text = "n\(index)\(replica.isReadOnly ? " (read-only)" : ""): held \(engine.heldEntryCount), restarts \(replica.restarts - 1), orphans \(replica.orphanReports)"
            for session in self.parameters.sessions {
                let durable = engine.durableCount(of: session)
                let acknowledged = engine.links.keys.sorted().map { peer in
                    let state = engine.links[peer]?[session]
                    return "\(peer):\(state.map { "\($0.acknowledged)/\($0.sent)" } ?? "-")"
                }
                text += "\n   \(session): file \(replica.files[session]?.opIDs.count ?? 0), durable \(durable), links \(acknowledged.joined(separator: " "))"
            }
            lines.append(text)
        }
        if let missing = self.firstMissing() {
            lines.append("first missing: \(missing.id) (ts \(missing.entry.lamportTimestamp)) of n\(missing.origin), parents \(missing.entry.parentOpIDs.map(\.rawValue))")
            for (index, replica) in self.replicas.enumerated() {
                let status = { (id: OpID) -> String in
                    guard let session = self.session(of: id, at: missing.origin) else { return "?" }
                    let inFile = replica.files[session]?.opIDs.contains(id) == true
                    let state = replica.engine?.sessions[session]?.status[id].map { "\($0)" } ?? "unknown"
                    return "\(inFile ? "in file" : "not in file")/\(state)"
                }
                let parents = missing.entry.parentOpIDs.map { status($0) }.joined(separator: ", ")
                lines.append("  n\(index): \(status(missing.id)); parents: \(parents)")
            }
        }
        lines.append("last sends:\n  " + self.recentSends.joined(separator: "\n  "))
        return lines.joined(separator: "\n")
    }

    func session(of id: OpID, at index: Int) -> SessionID? {
        self.parameters.sessions.first { self.replicas[index].files[$0]?.opIDs.contains(id) == true }
    }

    func firstMissing() -> (id: OpID, entry: OpEntry, origin: Int)? {
        for id in self.madeOrder {
            guard let made = self.made[id], !self.replicas[made.origin].isReadOnly, let session = self.session(of: id, at: made.origin) else { continue }
            if self.replicas.contains(where: { $0.files[session]?.opIDs.contains(id) != true }) {
                return (id, made.entry, made.origin)
            }
        }
        return nil
    }
}
