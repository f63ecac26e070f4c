import Foundation
import Subprocess
import Testing

/// DESIGN §3.6 through the CLI: after entries from other writers land in the file, the next
/// local timestamp is above every timestamp in it (max + 1).
@Suite(
    "Lamport timestamps after foreign appends",
    .enabled(if: TestEnvironment.hasPython, "python3 is not on PATH: skipping the Muse interop tests")
)
struct LamportTests {
    @Test("each one-shot append is max + 1 over Muse's entries and a replica's")
    func oneShotAppendsFollowForeignEntries() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "lamport")
            try await commands.museWrite(actor: "muse-a", count: 5)
            #expect(try readEntries(commands.files).map(\.lamportTimestamp) == [1, 2, 3, 4, 5])

            let first = try await commands.append(actor: "cli", op: #"{"op":"insert","seq":0}"#)
            var entries = try readEntries(commands.files)
            #expect(entries.last?.opID == first)
            #expect(entries.last?.lamportTimestamp == 6)

            // A new Muse process starts its counter from the file's highest timestamp (6).
            try await commands.museWrite(actor: "muse-b", count: 7)
            entries = try readEntries(commands.files)
            #expect(entries.suffix(7).map(\.lamportTimestamp) == Array(7...13))

            let second = try await commands.append(actor: "cli", op: #"{"op":"insert","seq":1}"#)
            entries = try readEntries(commands.files)
            #expect(entries.last?.opID == second)
            #expect(entries.last?.lamportTimestamp == 14)

            // An entry replicated from a node whose clock ran far ahead, then one far behind.
            try await commands.museAppend(actor: "remote", lamportTimestamp: 1_000, op: #"{"op":"tempo"}"#)
            try await commands.museAppend(actor: "remote-slow", lamportTimestamp: 3, op: #"{"op":"tempo"}"#)
            let third = try await commands.append(actor: "cli", op: #"{"op":"insert","seq":2}"#)
            entries = try readEntries(commands.files)
            #expect(entries.last?.opID == third)
            #expect(entries.last?.lamportTimestamp == 1_001)
        }
    }

    @Test("a long-running `append --op -` sees entries appended while it runs")
    func streamingAppendSeesForeignEntries() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "lamport-live")
            let files = commands.files
            try await commands.museWrite(actor: "muse-a", count: 3)
            let arguments = [
                "append", "--root", folder.path, "--session", commands.session,
                "--actor", "cli-live", "--domain", "music", "--op", "-",
            ]
            let output = try await Programs.runWritingInput(TestEnvironment.oplogSyncBinary, arguments) { input in
                _ = try await input.write(#"{"op":"insert","seq":0}"# + "\n")
                try await waitUntil("the first streamed entry in the file") {
                    files.opsBytes().text.contains(#""actor_id":"cli-live""#)
                }
                // Muse's writer (a new process: counter from the file) and a replica with a fast clock.
                try await commands.museWrite(actor: "muse-b", count: 4)
                try await commands.museAppend(actor: "remote", lamportTimestamp: 500, op: #"{"op":"tempo"}"#)
                try await commands.museWrite(actor: "muse-c", count: 2)
                _ = try await input.write(#"{"op":"insert","seq":1}"# + "\n")
            }
            #expect(output.exitCode == 0, "\(output)")
            let entries = try readEntries(files)
            let streamed = entries.filter { $0.actorID == "cli-live" }
            try #require(streamed.count == 2)
            #expect(output.stdoutLines == streamed.map(\.opID))
            #expect(streamed[0].lamportTimestamp == 4)
            let others = entries.filter { $0.actorID != "cli-live" }
            #expect(others.map(\.lamportTimestamp) == [1, 2, 3, 5, 6, 7, 8, 500, 501, 502])
            #expect(streamed[1].lamportTimestamp == 503, "above every timestamp in the file, not just its own")
            #expect(entries.last?.opID == streamed[1].opID)
        }
    }
}
