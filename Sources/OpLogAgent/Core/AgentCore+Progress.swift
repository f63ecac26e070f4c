import Logging
import NIOPosix
import OpLog
import OpLogReplication

// The progress record: what each peer acknowledged, written to the state folder about once a
// second while acknowledgements move.
extension AgentCore {
    /// Writes the progress record if it changed and the last write is `interval` old: on the
    /// thread pool (``runProgressSaves()``) while the agent runs, since each write is two
    /// `fsync`s; in place once the agent is stopping (``finishWrites()``) and for the last one
    /// (`interval` zero), so two writes of it never overlap.
    func saveProgress(ifOlderThan interval: Duration = .seconds(1)) {
        guard self.progress.isSaveDue(interval: interval) else { return }
        let marks = self.progressMarks()
        self.progress.lastSave = ContinuousClock.now
        self.progress.isDirty = false
        guard interval == .zero || self.writers.isSyncingInPlace else {
            self.progress.savesInFlight += 1
            self.background.progressRequests.yield(marks)
            return
        }
        do {
            try self.background.progressStore.save(marks)
        } catch {
            self.progress.isDirty = true
            self.logger.error("\(error.message)")
        }
    }

    /// Each peer's acknowledged sequence per session, with the placement of the entry it ends
    /// at, as the progress record holds them: from the engine's memory, reading no log, so a
    /// record of a thousand sessions costs no more reads than one of a single session (none).
    private func progressMarks() -> [NodeID: [SessionID: ProgressStore.Mark]] {
        var marks: [NodeID: [SessionID: ProgressStore.Mark]] = [:]
        for (peer, sessions) in self.progress.acknowledged {
            for (session, acknowledged) in sessions {
                let last = acknowledged == 0 ? nil : self.engine.placement(of: session, sequence: acknowledged)
                guard acknowledged == 0 || last != nil else { continue }
                marks[peer, default: [:]][session] = ProgressStore.Mark(acknowledged: acknowledged, last: last)
            }
        }
        return marks
    }

    /// Writes the progress records ``saveProgress(ifOlderThan:)`` hands over, one at a time, on
    /// NIO's thread pool. Runs for the agent's lifetime.
    nonisolated func runProgressSaves() async {
        for await marks in self.background.progressSaves {
            let store = self.background.progressStore
            var isWritten = false
            var failure: String?
            do {
                try await NIOThreadPool.singleton.runIfActive { try store.save(marks) }
                isWritten = true
            } catch let error as AgentError {
                failure = error.message
            } catch is CancellationError {
                // The agent is stopping: its last record is written in place after this.
            } catch {
                failure = "cannot record progress: \(error)"
            }
            await self.finishProgressSave(isWritten: isWritten, failure: failure)
        }
    }

    private func finishProgressSave(isWritten: Bool, failure: String?) {
        self.progress.savesInFlight -= 1
        // Not written: written again at the next chance (or by the last save, when stopping).
        if !isWritten { self.progress.isDirty = true }
        if let failure { self.logger.error("\(failure)") }
        self.resumeDrainWaitersIfIdle()
    }
}
