#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One `oplog-sync run` process this run started: stdout is a pipe read until the `listening on`
/// line, stderr goes to a log file, and only this run's own pid is ever signalled.
struct NodeProcess {
    /// The node's name in the report ("A", "B").
    let name: String
    let pid: pid_t
    /// `HOST:PORT` from the `listening on` line.
    let address: String
    /// Where the node's stderr goes.
    let logPath: String
    private let standardOutput: Int32

    /// Starts `executable run ARGUMENTS` and waits (at most 60 seconds) for `listening on HOST:PORT`.
    /// - Throws: ``BenchmarkError`` when the process cannot start, ends, or stays silent; it is
    ///   killed first.
    init(name: String, executable: String, arguments: [String], logPath: String) throws(BenchmarkError) {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw BenchmarkError.systemCall("pipe") }
        // Close-on-exec: only the dup2 to the child's stdout crosses the exec.
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let pid: pid_t
        do throws(BenchmarkError) {
            pid = try Self.spawn(executable, ["run"] + arguments, standardOutput: pipeEnds[1], logPath: logPath)
        } catch {
            close(pipeEnds[0])
            close(pipeEnds[1])
            throw error
        }
        close(pipeEnds[1])
        self.name = name
        self.pid = pid
        self.logPath = logPath
        self.standardOutput = pipeEnds[0]
        do throws(BenchmarkError) {
            self.address = try Self.readListeningLine(
                from: pipeEnds[0],
                deadline: MonotonicClock.now() + 60_000_000_000
            )
        } catch {
            let ending = Self.stop(pid: pid, standardOutput: pipeEnds[0])
            let log = Self.tail(of: logPath)
            throw BenchmarkError(
                "node \(name) (pid \(pid)): \(error.description) (\(ending))\(log.isEmpty ? "" : "; its log:\n\(log)")"
            )
        }
    }

    /// The node ID of the identity in `stateFolder`, made there first if it has none: what
    /// `executable id --state-dir STATE` prints, so that two nodes can be paired by ID (DESIGN §7).
    /// - Throws: ``BenchmarkError`` when `id` cannot start, fails, or prints no ID.
    static func nodeID(executable: String, stateFolder: String, logPath: String) throws(BenchmarkError) -> String {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw BenchmarkError.systemCall("pipe") }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let pid: pid_t
        do throws(BenchmarkError) {
            pid = try Self.spawn(executable, ["id", "--state-dir", stateFolder], standardOutput: pipeEnds[1], logPath: logPath)
        } catch {
            close(pipeEnds[0])
            close(pipeEnds[1])
            throw error
        }
        close(pipeEnds[1])
        defer { close(pipeEnds[0]) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            output.append(contentsOf: buffer[..<count])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        CleanupRegistry.shared.remove(process: pid)
        let id = String(decoding: output.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        guard status == 0, !id.isEmpty else {
            throw BenchmarkError("`oplog-sync id --state-dir \(stateFolder)` failed: \(Self.tail(of: logPath))")
        }
        return id
    }

    /// Sends SIGTERM, waits up to 10 seconds for the exit, then SIGKILL; returns how it ended
    /// ("exit 0" is the graceful stop `oplog-sync run` promises).
    func stop() -> String {
        Self.stop(pid: self.pid, standardOutput: self.standardOutput)
    }

    private static func stop(pid: pid_t, standardOutput: Int32) -> String {
        defer {
            close(standardOutput)
            CleanupRegistry.shared.remove(process: pid)
        }
        kill(pid, SIGTERM)
        let deadline = MonotonicClock.now() + 10_000_000_000
        var status: Int32 = 0
        var usage = rusage()
        while MonotonicClock.now() < deadline {
            let reaped = wait4(pid, &status, WNOHANG, &usage)
            if reaped == pid { return "\(Self.describe(status: status)), \(CPUUsage.describe(usage))" }
            if reaped < 0 { return "not reaped: \(String(cString: strerror(errno)))" }
            MonotonicClock.sleep(milliseconds: 10)
        }
        kill(pid, SIGKILL)
        wait4(pid, &status, 0, &usage)
        return "no exit 10 s after SIGTERM; killed, \(CPUUsage.describe(usage))"
    }

    /// The last `lines` lines of a log file ("" if it is empty or missing).
    static func tail(of path: String, lines: Int = 20) -> String {
        guard let bytes = try? FileBytes.contents(of: path), !bytes.isEmpty else { return "" }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
    }

    private static func describe(status: Int32) -> String {
        let signal = status & 0x7F
        if signal == 0 { return "exit \((status >> 8) & 0xFF)" }
        return "killed by signal \(signal)"
    }

    /// `posix_spawn`: stdin from /dev/null, stdout to `standardOutput`, stderr to `logPath`, its
    /// own process group (a terminal's Ctrl-C reaches this run, which stops the node), signals
    /// unblocked and at their defaults.
    private static func spawn(
        _ executable: String,
        _ arguments: [String],
        standardOutput: Int32,
        logPath: String
    ) throws(BenchmarkError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, standardOutput, STDOUT_FILENO)
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultSignals = CleanupRegistry.handledSignals
        sigaddset(&defaultSignals, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)
        )

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard status == 0 else { throw BenchmarkError.systemCall("cannot start \(executable)", errno: status) }
        CleanupRegistry.shared.add(process: pid)
        return pid
    }

    private static func readListeningLine(from descriptor: Int32, deadline: UInt64) throws(BenchmarkError) -> String {
        let prefix = "listening on "
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            while let newline = output.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: output[..<newline], as: UTF8.self)
                output.removeSubrange(...newline)
                if line.hasPrefix(prefix) { return String(line.dropFirst(prefix.count)) }
            }
            let now = MonotonicClock.now()
            guard now < deadline else { throw BenchmarkError("no 'listening on' line within 60 s") }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min((deadline - now) / 1_000_000, 1000)) + 1)
            if ready < 0 && errno != EINTR { throw BenchmarkError.systemCall("poll") }
            guard ready > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw BenchmarkError("it ended before printing 'listening on'") }
            output.append(contentsOf: buffer[..<count])
        }
    }
}
