import Foundation
import Subprocess
import SystemPackage

/// What a finished process left behind.
struct ProcessOutput: Sendable, CustomStringConvertible {
    var command: String
    var terminationStatus: TerminationStatus
    var standardOutput: [UInt8]
    var standardError: [UInt8]

    /// The exit code, or `nil` when a signal ended the process.
    var exitCode: Int32? {
        if case .exited(let code) = self.terminationStatus { return code }
        return nil
    }

    var stdout: String { String(decoding: self.standardOutput, as: UTF8.self) }
    var stderr: String { String(decoding: self.standardError, as: UTF8.self) }

    /// Standard output split at `\n`, without a final empty line.
    var stdoutLines: [String] { Self.lines(self.standardOutput) }
    /// Standard error split at `\n`, without a final empty line.
    var stderrLines: [String] { Self.lines(self.standardError) }

    var description: String {
        "`\(self.command)` \(self.terminationStatus)\n--- stdout:\n\(self.stdout.prefix(4000))\n--- stderr:\n\(self.stderr.prefix(4000))"
    }

    private static func lines(_ bytes: [UInt8]) -> [String] {
        var parts = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if parts.last?.isEmpty == true { parts.removeLast() }
        return parts.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// A wait that ran past its deadline; fails the test that awaited it.
struct DeadlineExceeded: Error, CustomStringConvertible {
    var what: String
    var timeout: Duration
    var description: String { "deadline of \(self.timeout) exceeded waiting for \(self.what)" }
}

/// Runs `body`, failing with ``DeadlineExceeded`` (and cancelling `body`, which kills any process
/// it runs) if it has not finished within `timeout`.
func withDeadline<T: Sendable>(
    _ timeout: Duration,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw DeadlineExceeded(what: what, timeout: timeout)
        }
        return value
    }
}

/// ``waitFor(_:timeout:pollInterval:_:)`` for a yes-or-no `condition`: for conditions on files
/// that other processes change, where there is no event to wait for.
func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(30),
    pollInterval: Duration = .milliseconds(5),
    _ condition: () throws -> Bool
) async throws {
    try await waitFor(what, timeout: timeout, pollInterval: pollInterval) { try condition() ? nil : "not yet" }
}

/// The programs the tests drive.
enum Programs {
    static let outputLimit = 512 << 20
    static let defaultTimeout: Duration = .seconds(240)

    /// Runs `oplog-sync ARGUMENTS`, feeding `input` on stdin.
    static func oplogSync(
        _ arguments: [String],
        input: [UInt8]? = nil,
        environment: [String: String] = [:],
        timeout: Duration = Self.defaultTimeout
    ) async throws -> ProcessOutput {
        try await Self.run(
            TestEnvironment.oplogSyncBinary,
            arguments,
            input: input,
            environment: environment,
            timeout: timeout
        )
    }

    /// Runs `python3 muse_like.py ARGUMENTS`.
    static func museLike(_ arguments: [String], timeout: Duration = Self.defaultTimeout) async throws -> ProcessOutput {
        try await Self.python([TestEnvironment.museLikeScript] + arguments, timeout: timeout)
    }

    /// Runs `python3 -B ARGUMENTS` (no bytecode files left in the source tree).
    static func python(_ arguments: [String], timeout: Duration = Self.defaultTimeout) async throws -> ProcessOutput {
        guard let python3 = TestEnvironment.python3 else { throw MissingPython() }
        return try await Self.run(python3, ["-B"] + arguments, input: nil, timeout: timeout)
    }

    /// Runs `executable` with a closure that writes its stdin while it runs; stdout and stderr
    /// are collected.
    static func runWritingInput(
        _ executable: String,
        _ arguments: [String],
        timeout: Duration = Self.defaultTimeout,
        _ writeInput: @escaping @Sendable (StandardInputWriter) async throws -> Void
    ) async throws -> ProcessOutput {
        let command = ([executable] + arguments).joined(separator: " ")
        return try await withDeadline(timeout, "`\(command)`") {
            let result = try await Subprocess.run(
                .path(FilePath(executable)),
                arguments: Arguments(arguments),
                environment: Self.environment,
                input: .inputWriter,
                output: .bytes(limit: Self.outputLimit),
                error: .bytes(limit: Self.outputLimit)
            ) { execution in
                try await writeInput(execution.standardInputWriter)
                try await execution.standardInputWriter.finish()
            }
            return ProcessOutput(
                command: command,
                terminationStatus: result.terminationStatus,
                standardOutput: result.standardOutput,
                standardError: result.standardError
            )
        }
    }

    static func run(
        _ executable: String,
        _ arguments: [String],
        input: [UInt8]?,
        environment: [String: String] = [:],
        timeout: Duration
    ) async throws -> ProcessOutput {
        let command = ([executable] + arguments).joined(separator: " ")
        return try await withDeadline(timeout, "`\(command)`") {
            var variables: [Environment.Key: String?] = [:]
            for (name, value) in environment { variables[Environment.Key(stringLiteral: name)] = value }
            let configuration = Configuration(
                executable: .path(FilePath(executable)),
                arguments: Arguments(arguments),
                environment: Self.environment.updating(variables)
            )
            let result =
                if let input {
                    try await Subprocess.run(
                        configuration,
                        input: .array(input),
                        output: .bytes(limit: Self.outputLimit),
                        error: .bytes(limit: Self.outputLimit)
                    )
                } else {
                    try await Subprocess.run(
                        configuration,
                        input: .none,
                        output: .bytes(limit: Self.outputLimit),
                        error: .bytes(limit: Self.outputLimit)
                    )
                }
            return ProcessOutput(
                command: command,
                terminationStatus: result.terminationStatus,
                standardOutput: result.standardOutput,
                standardError: result.standardError
            )
        }
    }

    private static var environment: Environment {
        .inherit.updating(["PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"])
    }
}

struct MissingPython: Error, CustomStringConvertible {
    var description: String { "python3 is not on PATH" }
}
