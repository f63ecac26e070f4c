import Foundation
import OpLogIdentity
import Subprocess
import Synchronization
import SystemPackage
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One `oplog-sync run` daemon under test: the built binary on `127.0.0.1:0` (its control
/// endpoint too, `--http 127.0.0.1:0`, unless told otherwise), its own root, state folder and log
/// file (stderr, appended to across restarts), at `--log-level debug`.
///
/// Signals go to the process by pid only while it is known not to have been reaped (the task
/// that runs it keeps it unreaped until it has seen it exit), so they never reach another
/// process. Every wait is bounded.
final class AgentProcess: Sendable {
    /// What the daemon is started with, besides `--root`, `--listen`, `--state-dir` and
    /// `--log-level`.
    struct Options: Sendable {
        /// `--peer` values: `ID@HOST:PORT`.
        var peers: [String] = []
        /// `--accept` IDs.
        var accepted: [String] = []
        var isReadOnly = false
        /// Whether the control endpoint serves (on a free port); `false` passes `--http off`. An
        /// `--http` in ``extraArguments`` is passed instead.
        var servesHTTP = true
        /// More options, such as `--hold-seconds 1`.
        var extraArguments: [String] = []
    }

    /// Where the next start listens.
    enum ListenPort: Sendable {
        /// Port 0: a free port the system chooses.
        case fresh
        /// The port the previous run listened on.
        case same
    }

    let name: String
    let root: String
    let stateDirectory: String
    /// The daemon's stderr, every run appended, with a marker line before each start.
    let logPath: String
    private let folder: String
    private let state: Mutex<State>

    private struct State {
        var options: Options
        var current: RunningProcess?
        var port: Int?
        var httpPort: Int?
        var launches = 0
    }

    /// Prepares the folders, with `identity` (if given) installed in the state folder;
    /// ``start(listen:)`` launches the process.
    init(name: String, folder: String, identity: Identity?, options: Options) throws {
        self.name = name
        self.folder = folder
        self.root = "\(folder)/root"
        self.stateDirectory = "\(folder)/state"
        self.logPath = "\(folder)/agent.log"
        self.state = Mutex(State(options: options))
        try FileManager.default.createDirectory(atPath: self.root, withIntermediateDirectories: true)
        if let identity { try IdentityPool.install(identity, inStateFolder: self.stateDirectory) }
    }

    /// The port of the current (or last) run; 0 before the first start.
    var port: Int { self.state.withLock { $0.port ?? 0 } }

    /// `127.0.0.1:PORT`, for other agents' `--peer`.
    var address: String { "127.0.0.1:\(self.port)" }

    /// The control endpoint's `127.0.0.1:PORT` of the current (or last) run, as it printed it
    /// (`http on …`); `nil` when it does not serve one.
    var httpAddress: String? { self.state.withLock { $0.httpPort.map { "127.0.0.1:\($0)" } } }

    var isRunning: Bool { self.state.withLock { $0.current?.control.hasExited == false } }

    /// The pid of the running daemon, while it runs.
    var pid: pid_t? { self.state.withLock { $0.current?.control.pid } }

    /// The node ID of the identity in the agent's state folder (`nil` while it has none).
    var nodeID: String? {
        (try? IdentityStore(stateFolder: FilePath(self.stateDirectory)).load())?.nodeID.description
    }

    /// `ID@127.0.0.1:PORT`, for other agents' `--peer`; `via` replaces the address (a proxy's).
    func peerArgument(via address: String? = nil) throws -> String {
        guard let id = self.nodeID else { throw AgentFailure("\(self.name) has no identity yet") }
        return "\(id)@\(address ?? self.address)"
    }

    /// Files of `session` under this agent's root.
    func files(_ session: String) -> SessionFiles {
        SessionFiles(root: self.root, session: session)
    }

    /// CLI and Muse commands on `session` under this agent's root.
    func commands(_ session: String) -> SessionCommands {
        SessionCommands(root: self.root, session: session)
    }

    /// Replaces the `--peer` list (`ID@HOST:PORT`) used from the next start on.
    func setPeers(_ peers: [String]) {
        self.state.withLock { $0.options.peers = peers }
    }

    /// Replaces the extra options used from the next start on (such as `--config FILE`).
    func setExtraArguments(_ arguments: [String]) {
        self.state.withLock { $0.options.extraArguments = arguments }
    }

    /// Adds to the `--accept` list used from the next start on.
    func accept(_ ids: [String]) {
        self.state.withLock { $0.options.accepted += ids }
    }

    /// Starts the daemon and waits (at most `timeout`) until it prints `listening on HOST:PORT`.
    ///
    /// - Throws: ``AgentFailure`` when it exits first, prints something else, or is still silent
    ///   at the deadline (it is then killed).
    func start(listen: ListenPort = .fresh, timeout: Duration = .seconds(60)) async throws {
        let (options, port, launch) = try self.state.withLock { state in
            guard state.current == nil else { throw AgentFailure("\(self.name) is already running") }
            state.launches += 1
            let port = listen == .same ? (state.port ?? 0) : 0
            return (state.options, port, state.launches)
        }
        var arguments = [
            "run", "--root", self.root, "--listen", "127.0.0.1:\(port)", "--state-dir", self.stateDirectory,
            "--log-level", "debug",
        ]
        for peer in options.peers { arguments += ["--peer", peer] }
        for id in options.accepted { arguments += ["--accept", id] }
        if options.isReadOnly { arguments.append("--read-only") }
        let servesHTTP: Bool
        if let given = options.extraArguments.firstIndex(of: "--http") {
            servesHTTP = options.extraArguments.dropFirst(given + 1).first != "off"
        } else {
            servesHTTP = options.servesHTTP
            arguments += ["--http", servesHTTP ? "127.0.0.1:0" : "off"]
        }
        arguments += options.extraArguments

        let stdoutPath = "\(self.folder)/stdout-\(launch).txt"
        try Self.appendToFile(self.logPath, "==== test: start #\(launch): oplog-sync \(arguments.joined(separator: " "))\n")
        let running = try RunningProcess.launch(arguments: arguments, stdoutPath: stdoutPath, stderrPath: self.logPath)
        self.state.withLock { $0.current = running }

        var bound: Int?
        var httpBound: Int?
        do {
            try await waitFor("\(self.name) to print `listening on`", timeout: timeout, pollInterval: .milliseconds(20)) {
                let output = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
                let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                if let line = lines.first {
                    bound = try self.port(in: line, after: "listening on ")
                    guard servesHTTP else { return nil }
                    // `http on HOST:PORT` follows once the control endpoint serves.
                    if lines.count >= 2 {
                        httpBound = try self.port(in: lines[lines.index(after: lines.startIndex)], after: "http on ")
                        return nil
                    }
                }
                if running.control.hasExited {
                    let status = await running.task.result
                    self.state.withLock { $0.current = nil }
                    throw AgentFailure("\(self.name) exited (\(status)) before listening\n\(self.logTail())")
                }
                return "nothing on stdout yet"
            }
        } catch {
            await self.killAndWait()
            if error is ConditionTimedOut {
                throw AgentFailure("\(self.name) did not print `listening on` within \(timeout)\n\(self.logTail())")
            }
            throw error
        }
        guard let bound else { preconditionFailure("waitFor returns once the port is read") }
        if port != 0 { #expect(bound == port, "\(self.name) restarted on its old port") }
        self.state.withLock { state in
            state.port = bound
            state.httpPort = httpBound
        }
    }

    /// The port of a `PREFIX127.0.0.1:PORT` line the daemon printed.
    private func port(in line: Substring, after prefix: String) throws -> Int {
        guard line.hasPrefix(prefix), let colon = line.lastIndex(of: ":"),
            let port = Int(line[line.index(after: colon)...]), port > 0
        else {
            throw AgentFailure("\(self.name) printed \(String(reflecting: String(line))) instead of \(prefix)HOST:PORT")
        }
        #expect(line.dropFirst(prefix.count).hasPrefix("127.0.0.1:"), "\(self.name): \(line)")
        return port
    }

    /// Sends SIGTERM and waits (at most `timeout`) for the process to exit; expects exit 0.
    func stop(timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation) async throws {
        guard let running = self.state.withLock({ $0.current }) else { return }
        running.control.signal(SIGTERM)
        let status = try await self.waitForExit(running, timeout: timeout, after: "SIGTERM")
        #expect(
            status == .exited(0),
            "\(self.name) exits 0 on SIGTERM\n\(status == .exited(0) ? "" : self.crashReport())",
            sourceLocation: sourceLocation
        )
    }

    /// Sends `signal` to the running process (SIGSTOP and SIGCONT freeze and thaw it: a peer
    /// that holds still while a test looks at the node it links to); nothing when not running.
    func send(_ signal: Int32) {
        self.state.withLock { $0.current }?.control.signal(signal)
    }

    /// Sends SIGKILL and waits for the process to be gone.
    func kill() async throws {
        guard let running = self.state.withLock({ $0.current }) else { return }
        running.control.signal(SIGKILL)
        _ = try await self.waitForExit(running, timeout: .seconds(60), after: "SIGKILL")
    }

    /// Waits (at most `timeout`) for the process to exit on its own, sending no signal, and
    /// returns how it ended: for a daemon that is expected to stop by itself.
    ///
    /// - Throws: ``AgentFailure`` when it is not running, or still runs at the deadline.
    func waitForExit(timeout: Duration = .seconds(60)) async throws -> TerminationStatus {
        guard let running = self.state.withLock({ $0.current }) else {
            throw AgentFailure("\(self.name) is not running")
        }
        return try await self.waitForExit(running, timeout: timeout, after: "no signal")
    }

    /// Stops (SIGTERM, exit 0 expected) and starts again with the same root and state folder.
    func restart(listen: ListenPort = .same) async throws {
        try await self.stop()
        try await self.start(listen: listen)
    }

    /// SIGKILL if still running, then waits for the exit: for cleanup paths, never throws.
    func killAndWait() async {
        guard let running = self.state.withLock({ $0.current }) else { return }
        running.control.signal(SIGKILL)
        _ = await running.task.result
        self.state.withLock { state in
            if state.current === running { state.current = nil }
        }
    }

    private func waitForExit(_ running: RunningProcess, timeout: Duration, after signal: String) async throws -> TerminationStatus {
        do {
            try await waitFor("\(self.name) to exit after \(signal)", timeout: timeout, pollInterval: .milliseconds(20)) {
                running.control.hasExited ? nil : "still running"
            }
        } catch is ConditionTimedOut {
            throw AgentFailure("\(self.name) still running \(timeout) after \(signal)\n\(self.logTail())")
        }
        let status = try await running.task.value
        self.state.withLock { state in
            if state.current === running { state.current = nil }
        }
        try Self.appendToFile(self.logPath, "==== test: \(self.name) ended after \(signal): \(status)\n")
        return status
    }

    // MARK: Logs

    /// Everything the daemon wrote to stderr, over all its runs.
    func logText() -> String {
        (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? ""
    }

    /// The last `lines` lines of the log, headed with the agent's name.
    func logTail(lines: Int = 40) -> String {
        let all = self.logText().split(separator: "\n", omittingEmptySubsequences: false)
        return "--- \(self.name) (\(self.logPath)), last \(min(lines, all.count)) of \(all.count) log lines:\n"
            + all.suffix(lines).joined(separator: "\n")
    }

    /// What the log says about a crash: from the runtime's last "Fatal error" or "Program
    /// crashed" line to the end (at most 400 lines, so the crashing thread's frames are in),
    /// or the last 40 lines when there is no such line.
    func crashReport() -> String {
        let all = self.logText().split(separator: "\n", omittingEmptySubsequences: false)
        guard
            let start = all.lastIndex(where: { $0.contains("Fatal error") })
                ?? all.lastIndex(where: { $0.contains("Program crashed") })
        else { return self.logTail() }
        let report = all[start...].prefix(400)
        return "--- \(self.name) (\(self.logPath)), crash report, \(report.count) lines:\n"
            + report.joined(separator: "\n")
    }

    private static func appendToFile(_ path: String, _ text: String) throws {
        let descriptor = try FileDescriptor.open(
            FilePath(path),
            .writeOnly,
            options: [.create, .append],
            permissions: [.ownerReadWrite, .groupRead, .otherRead]
        )
        defer { try? descriptor.close() }
        _ = try descriptor.writeAll(Array(text.utf8))
    }
}

/// One launch of the daemon: the task that runs it (its value is the termination status) and
/// the pid, for signals.
private final class RunningProcess: Sendable {
    let task: Task<TerminationStatus, any Error>
    let control: ProcessControl

    private init(task: Task<TerminationStatus, any Error>, control: ProcessControl) {
        self.task = task
        self.control = control
    }

    static func launch(arguments: [String], stdoutPath: String, stderrPath: String) throws -> RunningProcess {
        let permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]
        let standardOutput = try FileDescriptor.open(
            FilePath(stdoutPath),
            .writeOnly,
            options: [.create, .truncate],
            permissions: permissions
        )
        let standardError: FileDescriptor
        do {
            standardError = try FileDescriptor.open(
                FilePath(stderrPath),
                .writeOnly,
                options: [.create, .append],
                permissions: permissions
            )
        } catch {
            try? standardOutput.close()
            throw error
        }
        let control = ProcessControl()
        let task = Task<TerminationStatus, any Error> {
            defer { control.markExited() }
            let result = try await Subprocess.run(
                .path(FilePath(TestEnvironment.oplogSyncBinary)),
                arguments: Arguments(arguments),
                environment: .inherit,
                input: .none,
                output: .fileDescriptor(standardOutput, closeAfterSpawningProcess: true),
                error: .fileDescriptor(standardError, closeAfterSpawningProcess: true)
            ) { execution in
                let pid = execution.processIdentifier.value
                control.started(pid)
                // Subprocess reaps the child only after this closure returns: until then its pid
                // cannot be reused, so `kill(pid, …)` reaches it or its zombie and nothing else.
                await ProcessControl.termination(of: pid)
                control.markExited()
            }
            return result.terminationStatus
        }
        return RunningProcess(task: task, control: control)
    }
}

/// The pid of a running daemon, and whether it is known to have exited.
private final class ProcessControl: Sendable {
    private let state = Mutex<(pid: pid_t?, hasExited: Bool, pendingSignals: [Int32])>((nil, false, []))

    var hasExited: Bool { self.state.withLock { $0.hasExited } }

    /// The pid, once started and until known to have exited.
    var pid: pid_t? { self.state.withLock { $0.hasExited ? nil : $0.pid } }

    func started(_ pid: pid_t) {
        let pending = self.state.withLock { state in
            state.pid = pid
            defer { state.pendingSignals = [] }
            return state.pendingSignals
        }
        for signal in pending { self.signal(signal) }
    }

    func markExited() {
        self.state.withLock { $0.hasExited = true }
    }

    /// Sends `signal` to the process unless it is known to have exited (queued if it has not
    /// started yet).
    func signal(_ signal: Int32) {
        self.state.withLock { state in
            guard !state.hasExited else { return }
            guard let pid = state.pid else {
                state.pendingSignals.append(signal)
                return
            }
            // Under the lock: `markExited` (which precedes the reap) cannot run meanwhile.
            _ = Glibc.kill(pid, signal)
        }
    }

    /// Returns once `pid` (a child of this process) has exited, without reaping it: a thread of
    /// its own blocks in `waitid` until then. Cancelling the wait kills the process.
    static func termination(of pid: pid_t) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (exited: CheckedContinuation<Void, Never>) in
                let waiter = Thread {
                    var info = siginfo_t()
                    while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
                    exited.resume()
                }
                waiter.name = "wait-\(pid)"
                waiter.start()
            }
        } onCancel: {
            _ = Glibc.kill(pid, SIGKILL)
        }
    }
}

/// A daemon that did not start or stop as a test needed.
struct AgentFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
