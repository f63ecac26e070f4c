import Testing

/// Process tests of `oplog-sync run` (issue #4, DESIGN §6 "Process"): real daemons on loopback
/// with free ports, writers appending beside them, the invariants of DESIGN §3 checked on the
/// files themselves.
///
/// One test at a time: each starts several daemons and writers, and CI has two cores. The
/// nested suites live in the `Run*.swift` files.
@Suite("oplog-sync run (processes)", .serialized, .timeLimit(.minutes(5)))
struct RunProcessTests {
    /// For tests that need `muse_like.py`.
    static let python = ConditionTrait.enabled(if: TestEnvironment.hasPython, "python3 is not on PATH")
}
