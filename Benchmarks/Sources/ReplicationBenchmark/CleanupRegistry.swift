import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The processes and folders this run made and has not cleaned up yet, so that an interrupted
/// run (SIGINT, SIGTERM, SIGHUP) still kills its own nodes, by pid, and removes its folders.
///
/// ``installSignalHandling()`` blocks those signals in every thread started afterwards and waits
/// for them with `sigwait(2)` on a thread of its own, where cleaning up needs no
/// async-signal-safe code.
final class CleanupRegistry: Sendable {
    static let shared = CleanupRegistry()

    private struct State {
        var processes: Set<pid_t> = []
        var folders: Set<String> = []
    }

    private let state = Mutex(State())

    /// The signals an interrupted run receives; children get them back unblocked and at their
    /// default action.
    static var handledSignals: sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, signal) }
        return signals
    }

    /// Blocks the handled signals in the calling thread (call it first, from the main thread,
    /// so every later thread inherits the mask) and starts the thread that waits for them.
    func installSignalHandling() {
        var signals = Self.handledSignals
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        // A non-interactive shell starts a background job with SIGINT ignored, and an ignored
        // signal never reaches sigwait: back to the default action (blocked, it never runs).
        for handled in [SIGINT, SIGTERM, SIGHUP] { signal(handled, SIG_DFL) }
        // A floor socket whose peer went away must fail with EPIPE, not end the run.
        signal(SIGPIPE, SIG_IGN)
        let thread = startThread {
            var signals = CleanupRegistry.handledSignals
            var received: Int32 = 0
            while sigwait(&signals, &received) != 0 {}
            let name = received == SIGINT ? "SIGINT" : received == SIGTERM ? "SIGTERM" : "SIGHUP"
            let line = "ReplicationBenchmark: \(name): stopping the nodes and removing the temporary roots\n"
            _ = line.utf8CString.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
            CleanupRegistry.shared.cleanUp()
            _exit(128 + received)
        }
        pthread_detach(thread)
    }

    func add(process: pid_t) {
        self.state.withLock { _ = $0.processes.insert(process) }
    }

    func remove(process: pid_t) {
        self.state.withLock { _ = $0.processes.remove(process) }
    }

    func add(folder: String) {
        self.state.withLock { _ = $0.folders.insert(folder) }
    }

    func remove(folder: String) {
        self.state.withLock { _ = $0.folders.remove(folder) }
    }

    /// Kills (SIGKILL) and reaps every process still registered, then removes every folder.
    func cleanUp() {
        let (processes, folders) = self.state.withLock { state in
            defer { state = State() }
            return (state.processes, state.folders)
        }
        for process in processes {
            kill(process, SIGKILL)
            var status: Int32 = 0
            waitpid(process, &status, 0)
        }
        for folder in folders {
            try? FileManager.default.removeItem(atPath: folder)
        }
    }
}
