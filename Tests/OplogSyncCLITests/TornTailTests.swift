import Foundation
import Testing

/// DESIGN §2: "A line is an entry only once its `\n` is written", and an unfinished tail is never
/// appended after until it is finished, or closed with `\n` once it is stale.
@Suite("Unfinished last lines through the CLI")
struct TornTailTests {
    static let first = museLine(actor: "muse", lamportTimestamp: 1)
    static let second = museLine(actor: "muse", lamportTimestamp: 2)
    /// The line a Muse writer is in the middle of appending.
    static let torn = museLine(actor: "muse", lamportTimestamp: 41, op: #"{"op":"tempo","bpm":120}"#)

    @Test("`append` waits while the last line is being written, then lands on its own line after it")
    func appendWaitsForAnUnfinishedLine() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "torn")
            let files = commands.files
            let cut = Self.torn.utf8.count / 2
            let head = Array(Self.torn.utf8.prefix(cut))
            let rest = Array(Self.torn.utf8.dropFirst(cut))
            try files.appendRaw(Self.first + "\n")
            try files.appendRaw(head)

            #expect(try await commands.log().map(\.line.text) == [Self.first], "log does not print the unfinished line")
            #expect(try await commands.log(["--canonical"]).map(\.line.text) == [Self.first])
            let verify = try await Programs.oplogSync(["verify", "--root", folder.path])
            #expect(verify.exitCode == 0, "an unfinished tail is a note, not a problem: \(verify)")

            let watch = try FileAccessWatch(folder: files.sessionFolder, fileName: "ops.jsonl")
            async let appended = Programs.oplogSync([
                "append", "--root", folder.path, "--session", commands.session, "--actor", "cli",
                "--domain", "music", "--op", #"{"op":"insert","seq":0}"#, "--stale-tail-seconds", "30",
            ])
            // append keeps looking at the log (accesses seen in 10 separate polls, 5 ms apart)
            // while the file stays as it was: it is waiting. Should it write instead, the file
            // changes and the wait ends at once.
            let unfinished = Array((Self.first + "\n").utf8) + head
            var pollsWithAccess = 0
            var accessesSeen = 0
            try await waitUntil("append to keep looking at the log", timeout: .seconds(60)) {
                let accesses = try watch.poll()
                if accesses > accessesSeen {
                    pollsWithAccess += 1
                    accessesSeen = accesses
                }
                return pollsWithAccess >= 10 || files.opsBytes() != unfinished
            }
            #expect(files.opsBytes().text == unfinished.text, "nothing written after an unfinished line")
            try files.appendRaw(rest + [UInt8(ascii: "\n")])

            let output = try await appended
            #expect(output.exitCode == 0, "\(output)")
            let bytes = files.opsBytes()
            #expect(bytes.last == UInt8(ascii: "\n"))
            let lines = splitCompleteLines(bytes)
            try #require(lines.count == 3, "lines: \(lines.map(\.text))")
            #expect(lines[0].text == Self.first)
            #expect(lines[1].text == Self.torn, "the finished line is intact, nothing glued to it")
            let entry = try ParsedEntry(line: lines[2])
            #expect(entry.opID == output.stdoutLines.first)
            #expect(entry.lamportTimestamp == 42, "counted the finished line's lamport_ts 41")
        }
    }

    @Test(
        "a stale unfinished line is closed with \\n before the entry; verify reports it",
        arguments: [true, false]
    )
    func staleTailIsClosed(agedByTest: Bool) async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "stale")
            let files = commands.files
            let fragment = String(Self.torn.prefix(Self.torn.utf8.count / 3))
            try files.appendRaw(Self.first + "\n" + Self.second + "\n" + fragment)
            if agedByTest {
                // A writer that crashed an hour ago.
                try FileManager.default.setAttributes(
                    [.modificationDate: Date(timeIntervalSinceNow: -3600)],
                    ofItemAtPath: files.opsPath
                )
            }  // else: the fragment goes stale while append waits its 0.2 s.

            let opID = try await commands.append(
                actor: "cli",
                op: #"{"op":"insert","seq":0}"#,
                extraArguments: ["--stale-tail-seconds", "0.2"]
            )
            let bytes = files.opsBytes()
            let lines = splitCompleteLines(bytes)
            #expect(bytes.last == UInt8(ascii: "\n"))
            try #require(lines.count == 4, "lines: \(lines.map(\.text))")
            #expect(lines.prefix(3).map(\.text) == [Self.first, Self.second, fragment], "the fragment stays as it was")
            #expect(try ParsedEntry(line: lines[3]).opID == opID, "the entry is on its own line")

            #expect(try await commands.log().map(\.opID) == [ParsedEntry(line: lines[0]).opID, ParsedEntry(line: lines[1]).opID, opID])
            let verify = try await Programs.oplogSync(["verify", "--root", folder.path])
            #expect(verify.exitCode == 1, "\(verify)")
            let reported = verify.stdoutLines
            #expect(reported.contains { $0.hasPrefix("stale:3:") && $0.localizedCaseInsensitiveContains("invalid") }, "\(verify)")
            #expect(!reported.contains { $0.hasPrefix("stale:4:") }, "the appended entry is clean: \(verify)")
        }
    }
}
