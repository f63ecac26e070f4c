import Logging
import OpLog
import OpLogReplication

// The log lines (and status notes) of the engine's reports.
extension AgentCore {
    func log(_ report: ReplicationReport) {
        switch report {
        case .rejectedEntry(let peer, let session, let rejection):
            self.status.rejectedByReason["\(rejection.code)", default: 0] += 1
            self.logger.warning(
                "entry rejected",
                error: rejection,
                metadata: [
                    "peer": "\(peer?.rawValue ?? "local")", "session": "\(session)", "reason": "\(rejection.code)",
                ]
            )
        case .rejectedMessage(let peer, let rejection):
            self.logger.warning(
                "message rejected",
                error: rejection,
                metadata: ["peer": "\(peer)", "reason": "\(rejection.code)"]
            )
        case .orphansWritten(let session, let count):
            self.logger.warning(
                "entries written without their parents after waiting for them",
                metadata: ["session": "\(session)", "count": "\(count)"]
            )
        case .checkpointAdopted(let session, let lamportTimestamp, let snapshotID, let peer):
            self.files.checkpointSnapshots[session] = snapshotID
            self.logger.info(
                "checkpoint adopted",
                metadata: [
                    "session": "\(session)", "lamport_ts": "\(lamportTimestamp)", "snapshot_id": "\(snapshotID)",
                    "peer": "\(peer?.rawValue ?? "local")",
                ]
            )
        case .reconciled(let peer, let session, let lacking, let count):
            self.logger.info(
                "reconciled with peer",
                metadata: ["peer": "\(peer)", "session": "\(session)", "lacking": "\(lacking)", "held": "\(count)"]
            )
        case .peerLacksAcknowledged(let peer, let session, let acknowledged, let holds):
            self.logger.warning(
                "peer lacks entries it had acknowledged (restored from a backup?); sending them again",
                metadata: [
                    "peer": "\(peer)", "session": "\(session)", "acknowledged": "\(acknowledged)", "holds": "\(holds)",
                ]
            )
        case .duplicateReceived(let peer, let session, let opID, let location, let line):
            self.compare(line, with: location, opID: opID, session: session, peer: peer)
        case .repeatedLocalOpID(let session, let opID, let location, let firstLocation):
            guard self.files.reportedRepeats.insert(opID.rawValue).inserted else { return }
            self.logger.warning(
                "op_id repeated in ops.jsonl; the later line is not replicated",
                metadata: [
                    "session": "\(session)", "op_id": "\(opID)", "offset": "\(location.offset)",
                    "first_offset": "\(firstLocation.offset)",
                ]
            )
        }
    }

    /// A peer's entry dropped as a duplicate of the local one at `location`: if the local
    /// line's bytes differ, two writers gave `opID` to different entries. Logged (once per op
    /// id) and counted; both files keep their own line.
    private func compare(
        _ line: [UInt8],
        with location: EntryLocation,
        opID: OpID,
        session: SessionID,
        peer: NodeID
    ) {
        guard !self.files.reportedConflicts.contains(opID.rawValue) else { return }
        let log = SessionLog(layout: self.configuration.layout, sessionID: session)
        let range = location.offset..<(location.offset + Int64(location.length))
        guard let local = try? log.readBytes(in: range), local != line else { return }
        self.files.reportedConflicts.insert(opID.rawValue)
        self.logger.warning(
            "a peer's entry has the op_id of a different local entry; both are kept as they are",
            metadata: ["session": "\(session)", "op_id": "\(opID)", "peer": "\(peer)"]
        )
    }
}
