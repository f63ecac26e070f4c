import Logging
import OpLog
import OpLogReplication

// The log lines (and status notes) of the engine's reports.
extension AgentCore {
    func log(_ report: ReplicationReport) {
        switch report {
        case .rejectedEntry(let peer, let session, let rejection):
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
        }
    }
}
