import Logging
import OpLog
import OpLogReplication

// checkpoint.json beside Muse's writer: read without blocking, replaced only if it is still
// what the core last saw, put back when it is damaged, retried when a write fails.
extension AgentCore {
    /// Reads the session's `checkpoint.json` and hands a valid one to the engine.
    ///
    /// A file being rewritten (it does not parse but changed within the settle age) is read
    /// again on the next tick, never waited for. A file that stays unparsable is put back to the
    /// greatest checkpoint the node knows, with a warning; one naming another session is
    /// reported once and not offered to peers (they would refuse it at every retransmission).
    func scanCheckpoint(_ session: SessionID) {
        let log = SessionLog(layout: self.configuration.layout, sessionID: session)
        let state: CheckpointState
        do {
            state = try log.checkpointState()
        } catch {
            self.logger.warning(
                "checkpoint.json not read",
                metadata: ["session": "\(session)", "error": "\(error.message)"]
            )
            return
        }
        var file = self.files.checkpoints.sessions[session] ?? CheckpointFiles.Session()
        file.isReadDue = false
        switch state {
        case .missing:
            file.lastSeen = nil
            self.files.checkpoints.sessions[session] = file
        case .beingWritten:
            file.isReadDue = true
            self.files.checkpoints.sessions[session] = file
        case .valid(let checkpoint):
            file.lastSeen = checkpoint.bytes
            self.files.checkpoints.sessions[session] = file
            guard checkpoint.sessionID == session.rawValue else {
                if self.files.checkpoints.shouldReport(checkpoint.bytes, session: session) {
                    self.logger.warning(
                        "checkpoint.json names another session; it is not shared (fix its session_id)",
                        metadata: ["session": "\(session)", "session_id": "\(checkpoint.sessionID)"]
                    )
                }
                return
            }
            self.apply(.localCheckpoint(session: session, checkpoint))
        case .invalid(let problem):
            self.files.checkpoints.sessions[session] = file
            guard let greatest = self.engine.checkpoint(of: session) else {
                if self.files.checkpoints.shouldReport(Array(problem.message.utf8), session: session) {
                    self.logger.warning(
                        "checkpoint.json is not a checkpoint, and no other is known to put back",
                        metadata: ["session": "\(session)", "error": "\(problem.message)"]
                    )
                }
                return
            }
            self.logger.warning(
                "checkpoint.json is not a checkpoint; putting back the greatest known",
                metadata: [
                    "session": "\(session)", "snapshot_id": "\(greatest.snapshotID)", "error": "\(problem.message)",
                ]
            )
            self.replaceCheckpoint(greatest, session: session)
        }
    }

    /// Replaces the session's `checkpoint.json` with `checkpoint` (keeping history), as the
    /// engine asked, unless a writer changed the file since the core last saw it: then the
    /// file is read instead, and the engine asks again if it still holds a greater one.
    func writeCheckpoint(_ checkpoint: Checkpoint, session: SessionID) {
        let log = SessionLog(layout: self.configuration.layout, sessionID: session)
        let state: CheckpointState
        do {
            state = try log.checkpointState()
        } catch {
            self.checkpointWriteFailed(checkpoint, session: session, error: error)
            return
        }
        let lastSeen = self.files.checkpoints.sessions[session]?.lastSeen
        switch state {
        case .missing, .invalid:
            // No file (never written, or removed by someone) or a damaged one: nothing a writer
            // made can be lost by writing the greatest known.
            self.replaceCheckpoint(checkpoint, session: session)
        case .beingWritten:
            self.files.checkpoints.sessions[session, default: CheckpointFiles.Session()].pendingWrite = checkpoint
        case .valid(let current):
            if current.bytes == checkpoint.bytes {
                self.files.checkpoints.sessions[session, default: CheckpointFiles.Session()].pendingWrite = nil
                return
            }
            guard current.bytes == lastSeen else {
                // A writer put a checkpoint there that the engine has not seen: it decides.
                self.files.checkpoints.sessions[session, default: CheckpointFiles.Session()].pendingWrite = nil
                self.scanCheckpoint(session)
                return
            }
            self.replaceCheckpoint(checkpoint, session: session)
        }
    }

    /// Writes the file (history kept); a failure is logged and retried on the next tick.
    private func replaceCheckpoint(_ checkpoint: Checkpoint, session: SessionID) {
        do {
            try SessionLog(layout: self.configuration.layout, sessionID: session).writeCheckpoint(checkpoint)
            var file = self.files.checkpoints.sessions[session] ?? CheckpointFiles.Session()
            file.lastSeen = checkpoint.bytes
            file.pendingWrite = nil
            self.files.checkpoints.sessions[session] = file
        } catch {
            self.checkpointWriteFailed(checkpoint, session: session, error: error)
        }
    }

    private func checkpointWriteFailed(_ checkpoint: Checkpoint, session: SessionID, error: OpLogError) {
        let isFirst = self.files.checkpoints.sessions[session]?.pendingWrite == nil
        self.files.checkpoints.sessions[session, default: CheckpointFiles.Session()].pendingWrite = checkpoint
        self.logger.log(
            level: isFirst ? .error : .debug,
            "cannot write checkpoint.json; retrying",
            metadata: ["session": "\(session)", "error": "\(error.message)"]
        )
    }

    /// Retries the checkpoint writes that failed or waited, and the reads of files that were
    /// being rewritten. Called on every tick.
    func retryCheckpoints() {
        for session in self.files.checkpoints.sessionsToRetry {
            guard let file = self.files.checkpoints.sessions[session] else { continue }
            if let pending = file.pendingWrite {
                self.writeCheckpoint(pending, session: session)
            } else if file.isReadDue {
                self.scanCheckpoint(session)
            }
        }
    }
}
