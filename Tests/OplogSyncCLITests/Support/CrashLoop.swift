import Foundation
import Testing

/// One SIGKILL of a crash loop: when it came, and how far the stream had got.
struct CrashRecord: Sendable, CustomStringConvertible {
    /// 1 for the first kill.
    var number: Int
    /// The progress (bytes) the kill waited for after the start, and whether it came in time.
    var gap: Int
    var isGapReached: Bool
    /// The random wait after that.
    var delay: Duration
    /// How long the killed run had been listening.
    var upTime: Duration
    /// How long the agent then stayed down (besides what `whileDown` took).
    var downTime: Duration
    /// The stream's progress (bytes) when the killed run started listening, and at the kill.
    var progressAtStart: Int
    var progressAtKill: Int

    /// Whether the stream moved during the killed run.
    var movedDuringRun: Bool { self.progressAtKill > self.progressAtStart }

    var description: String {
        "#\(self.number): up \(self.upTime.formatted(.units(allowed: [.milliseconds]))) "
            + "(+\(self.gap) bytes\(self.isGapReached ? "" : " not reached") then \(self.delay.formatted(.units(allowed: [.milliseconds])))), "
            + "progress \(self.progressAtStart)→\(self.progressAtKill) bytes, down \(self.downTime.formatted(.units(allowed: [.milliseconds])))"
    }
}

extension AgentProcess {
    /// Kills the agent with SIGKILL once per element of `gaps`: once `progress` has grown by
    /// that many bytes since the agent started listening (or after `maximumWait`, if the
    /// stream stalls or ends first), and a further random `delay` (milliseconds); then runs
    /// `whileDown` with the kill's number, waits a random `downTime` and restarts the agent on
    /// its port with its state folder. The agent is running when this returns.
    ///
    /// Small gaps make kills land during start-up and the handshake, larger ones mid-stream.
    /// - Throws: what a start or `whileDown` throws (each start waits at most 60 s).
    func crashRepeatedly(
        after gaps: [Int],
        maximumWait: Duration = .seconds(2),
        using random: inout SplitMix64,
        delay: ClosedRange<Int>,
        downTime: ClosedRange<Int>,
        progress: () -> Int,
        whileDown: (Int) async throws -> Void = { _ in }
    ) async throws -> [CrashRecord] {
        var records: [CrashRecord] = []
        for (index, gap) in gaps.enumerated() {
            let started = ContinuousClock.now
            let progressAtStart = progress()
            let extra = random.milliseconds(in: delay)
            let down = random.milliseconds(in: downTime)
            var isGapReached = true
            do {
                try await waitFor("\(gap) more of progress", timeout: maximumWait, pollInterval: .milliseconds(10)) {
                    let made = progress() - progressAtStart
                    return made >= gap ? nil : "\(made) of \(gap)"
                }
            } catch is ConditionTimedOut {
                isGapReached = false  // killed anyway, after `maximumWait`
            }
            try await Task.sleep(for: extra)
            let upTime = ContinuousClock.now - started
            try await self.kill()
            records.append(
                CrashRecord(
                    number: index + 1,
                    gap: gap,
                    isGapReached: isGapReached,
                    delay: extra,
                    upTime: upTime,
                    downTime: down,
                    progressAtStart: progressAtStart,
                    progressAtKill: progress()
                )
            )
            try await whileDown(index + 1)
            try await Task.sleep(for: down)
            try await self.start(listen: .same)
        }
        return records
    }
}

/// `count` random gaps in `0...2 * mean`: how much of a stream a crash loop lets through
/// before each kill.
func randomGaps(count: Int, mean: Int, using random: inout SplitMix64) -> [Int] {
    (0..<count).map { _ in Int.random(in: 0...max(2 * mean, 0), using: &random) }
}

extension SessionFiles {
    /// The size of `ops.jsonl` in bytes (0 when it does not exist): a cheap measure of a
    /// stream's progress.
    func opsSize() -> Int {
        var status = stat()
        return stat(self.opsPath, &status) == 0 ? Int(status.st_size) : 0
    }
}

/// A summary of a crash loop for the test's output: how many kills found the file growing.
func describeCrashes(_ records: [CrashRecord], victim: String) -> String {
    let moving = records.filter(\.movedDuringRun).count
    return "\(records.count) SIGKILLs of \(victim), \(moving) of them in a run during which the stream moved:\n  "
        + records.map(\.description).joined(separator: "\n  ")
}

/// Muse's writer (`muse_like.py`), streaming into a session from a background process: one
/// `open("a").write(line)` per entry, as Muse appends, pausing between bursts so the stream
/// lasts long enough to be interrupted many times.
enum MuseStream {
    /// Starts `python3 -c SCRIPT MUSE_LIKE ROOT SESSION ACTOR COUNT BURST PAUSE`: `count` entries
    /// by `actor` (each with `seq` 0, 1, …), sleeping `pause` after every `burst`. The task's
    /// value is the finished process; cancelling it kills the writer.
    static func start(
        root: String,
        session: String,
        actor: String,
        count: Int,
        burst: Int,
        pause: Duration
    ) -> Task<ProcessOutput, any Error> {
        let seconds = Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18
        let arguments = [
            "-c", Self.script, TestEnvironment.museLikeScript, root, session, actor, String(count), String(burst),
            String(seconds),
        ]
        return Task { try await Programs.python(arguments) }
    }

    /// The lines in `files` written by `actor`, found by their `"actor_id":"ACTOR"` member as
    /// Muse lays it out.
    static func lines(by actor: String, in files: SessionFiles) -> [[UInt8]] {
        let marker = Array(#""actor_id":"\#(actor)""#.utf8)
        return files.completeLines().filter { $0.firstRange(of: marker) != nil }
    }

    private static let script = """
        import importlib.util, sys, time
        spec = importlib.util.spec_from_file_location("muse_like", sys.argv[1])
        muse = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(muse)
        root, session, actor = sys.argv[2], sys.argv[3], sys.argv[4]
        count, burst, pause = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
        log = muse.OpLog(root, session)
        for i in range(count):
            op = {"op": muse.KINDS[i % len(muse.KINDS)], "pitch": 60 + i % 12, "seq": i}
            log.append(muse.make_op_entry(actor, "music", op, log.next_lamport_ts()))
            if i % burst == burst - 1:
                time.sleep(pause)
        """
}

extension AgentCluster {
    /// Waits (at most `timeout`) until every agent's copy of `session` holds exactly the
    /// entries `expectedOpIDs`, then checks the invariants of DESIGN §3 on the files (each line
    /// complete and an entry, no op_id twice, parents first, the same bytes everywhere) and runs
    /// `verify` on each. Every problem recorded names `seed`.
    ///
    /// - Throws: ``ConditionTimedOut`` when the copies still differ at the deadline.
    func expectConverged(
        _ session: String,
        on agents: [AgentProcess],
        expectedOpIDs: Set<String>,
        seed: TestSeed,
        timeout: Duration = .seconds(120),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let replicas = agents.map { $0.replica(session) }
        try await waitFor("\(session) to converge on \(agents.map(\.name))", timeout: timeout) {
            sameLinesGap(replicas, minimumLines: expectedOpIDs.count)
        }
        self.expectNoProblems(
            replicaProblems(replicas, expectedOpIDs: expectedOpIDs),
            "\(seed): replicas of \(session) disagree or break an invariant",
            sourceLocation: sourceLocation
        )
        self.expectNoProblems(try await verifyProblems(replicas), "\(seed): verify fails", sourceLocation: sourceLocation)
    }
}
