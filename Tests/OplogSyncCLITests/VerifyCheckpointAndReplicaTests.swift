import Foundation
import Testing

/// `verify` reports a checkpoint.json that `log --since-checkpoint` cannot read, and
/// `verify --against` lists op ids whose lines differ between two replicas.
@Suite("verify: checkpoints and --against")
struct VerifyCheckpointAndReplicaTests {
    @Test("an unparsable checkpoint.json makes verify exit 1 with session, path and why")
    func unparsableCheckpointIsReported() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "torn")
            try await commands.append(actor: "cli", op: #"{"op":"insert"}"#)
            try Data("{\n  \"session_id\": \"torn\",\n  \"snap".utf8).write(
                to: URL(fileURLWithPath: commands.files.checkpointPath)
            )
            let log = try await Programs.oplogSync(["log", "--root", folder.path, "--session", "torn", "--since-checkpoint"])
            #expect(log.exitCode != 0, "reading since the checkpoint fails: \(log)")

            for arguments in [["--session", "torn"], []] {
                let output = try await Programs.oplogSync(["verify", "--root", folder.path] + arguments)
                #expect(output.exitCode == 1, "\(output)")
                let line = try #require(output.stdoutLines.first, "\(output)")
                #expect(line.hasPrefix("torn:checkpoint.json: invalid checkpoint: "), "\(output)")
                #expect(line.contains(commands.files.checkpointPath), "names the file: \(output)")
                #expect(line.contains("not JSON"), "says why: \(output)")
            }

            _ = try await commands.oplogSync("checkpoint", ["--snapshot", "snap-1"])
            let fixed = try await Programs.oplogSync(["verify", "--root", folder.path])
            #expect(fixed.exitCode == 0, "\(fixed)")
        }
    }

    @Test("--against lists op ids with different lines in each replica, with both line numbers")
    func againstListsDifferingLines() async throws {
        try await withTemporaryFolder { folder in
            let a = folder.path("a")
            let b = folder.path("b")
            for root in [a, b] { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }
            let here = SessionCommands(root: a, session: "s")
            let there = SessionCommands(root: b, session: "s")
            let shared = try await here.append(actor: "cli", op: #"{"op":"insert"}"#)
            try there.files.appendRaw(here.files.opsBytes())
            // A writer bug: one UUID id, two different entries.
            try here.files.appendRaw(museLine(opID: "uuid-1", actor: "muse", lamportTimestamp: 2) + "\n")
            try there.files.appendRaw(museLine(opID: "only-b", actor: "muse", lamportTimestamp: 3) + "\n")
            try there.files.appendRaw(museLine(opID: "uuid-1", actor: "muse", lamportTimestamp: 2, op: #"{"op":"delete"}"#) + "\n")
            // A session only one side has is not compared.
            try SessionCommands(root: a, session: "alone").files.appendRaw(museLine(actor: "m", lamportTimestamp: 1) + "\n")

            let output = try await Programs.oplogSync(["verify", "--root", a, "--against", b])
            #expect(output.exitCode == 1, "\(output)")
            #expect(
                output.stdoutLines == [
                    "s: op_id uuid-1 differs: line 2 of \(here.files.opsPath), line 3 of \(there.files.opsPath)"
                ],
                "\(output)"
            )
            #expect(!output.stdout.contains(shared), "\(output)")

            let one = try await Programs.oplogSync(["verify", "--root", a, "--against", b, "--session", "s"])
            #expect(one.exitCode == 1, "\(one)")
            #expect(one.stdoutLines.count == 1, "\(one)")

            // Identical replicas, and a replica compared with itself.
            try there.files.rewrite(lines: here.files.completeLines())
            for other in [b, a] {
                let same = try await Programs.oplogSync(["verify", "--root", a, "--against", other])
                #expect(same.exitCode == 0, "\(same)")
                #expect(same.stdout.isEmpty, "\(same)")
            }
            // Plain verify is unchanged by the option's existence: the logs are clean.
            let plain = try await Programs.oplogSync(["verify", "--root", a])
            #expect(plain.exitCode == 0, "\(plain)")
        }
    }

    @Test("--against a root that does not exist is a one-line error")
    func againstAMissingRootIsAnError() async throws {
        try await withTemporaryFolder { folder in
            try SessionCommands(root: folder.path, session: "s").files.appendRaw(museLine(actor: "m", lamportTimestamp: 1) + "\n")
            let output = try await Programs.oplogSync(["verify", "--root", folder.path, "--against", folder.path("nowhere")])
            #expect(output.exitCode != 0 && output.exitCode != nil, "\(output)")
            #expect(output.stderrLines.count == 1, "\(output)")
            #expect(output.stderr.hasPrefix("oplog-sync: error: "), "\(output)")
        }
    }

    @Test("folders that are not sessions are named on stderr by `sessions` and `verify`")
    func skippedFoldersAreReported() async throws {
        try await withTemporaryFolder { folder in
            try SessionCommands(root: folder.path, session: "ok").files.appendRaw(museLine(actor: "m", lamportTimestamp: 1) + "\n")
            try FileManager.default.createDirectory(
                atPath: "\(folder.path)/.muse/op_log/s\u{E9}ance-\u{266B}",
                withIntermediateDirectories: true
            )
            for command in ["sessions", "verify"] {
                let output = try await Programs.oplogSync([command, "--root", folder.path])
                #expect(output.exitCode == 0, "\(output)")
                #expect(!output.stdout.contains("ance"), "\(output)")
                #expect(output.stderr.contains("folder not replicated"), "\(output)")
                #expect(output.stderr.contains("s\u{E9}ance-\u{266B}"), "\(output)")
                #expect(output.stderr.contains("rename"), "\(output)")
            }
        }
    }
}
