import ArgumentParser
import Logging
import OpLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `oplog-sync`: replicate Muse op logs, and read and write them from the command line.
@main
struct OpLogSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oplog-sync",
        abstract: "Read, write and replicate Muse op logs (ROOT/.muse/op_log/<session>/ops.jsonl).",
        discussion: """
            Muse records every live edit as one JSON line in ROOT/.muse/op_log/<session>/ops.jsonl \
            and marks commits in checkpoint.json beside it. These commands read and write those \
            files exactly as Muse does, safely alongside Muse's own writer.
            """,
        version: OpLogSyncVersion.line,
        subcommands: [
            AppendCommand.self, LogCommand.self, DeltaCommand.self, CheckpointCommand.self,
            SessionsCommand.self, VerifyCommand.self, RunCommand.self, IdCommand.self, StatusCommand.self,
        ]
    )

    /// Parses, runs, and turns any failure into one line on stderr and a non-zero exit.
    static func main() async {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        do {
            var command = try Self.parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as CommandFailure {
            Self.exit(withError: ExitCode(error.exitCode))
        } catch {
            let code = Self.exitCode(for: error)
            guard code != .success else { Self.exit(withError: error) }  // --help, --version
            var message = Self.message(for: error)
            if let first = message.split(separator: "\n").first { message = String(first) }
            if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
            StandardError.write("oplog-sync: error: \(message)")
            Self.exit(withError: code)
        }
    }
}

/// A command that already reported its outcome and only wants a given exit status.
struct CommandFailure: Error {
    var exitCode: Int32
}

/// Unbuffered writes to stderr, for the CLI's own diagnostics.
enum StandardError {
    static func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let count = Glibc.write(2, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if count <= 0 { return }
                offset += count
            }
        }
    }
}

/// Buffered writes to stdout, for contract output (lines, JSON).
struct StandardOutput {
    private var buffer: [UInt8] = []

    mutating func write(_ bytes: some Sequence<UInt8>) {
        self.buffer.append(contentsOf: bytes)
        if self.buffer.count >= 1 << 16 { self.flush() }
    }

    mutating func writeLine(_ bytes: some Sequence<UInt8>) {
        self.write(bytes)
        self.buffer.append(UInt8(ascii: "\n"))
    }

    mutating func writeLine(_ text: String) {
        self.writeLine(text.utf8)
    }

    mutating func flush() {
        self.buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let count = Glibc.write(1, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if count <= 0 { return }
                offset += count
            }
        }
        self.buffer.removeAll(keepingCapacity: true)
    }
}
