import Foundation
import Testing

/// STYLE §5 and DESIGN §5: bad input is one line on stderr, `oplog-sync: error: …`, a non-zero
/// exit, and nothing written.
@Suite("CLI errors")
struct CLIErrorTests {
    static let badSessionIDs = ["../x", "a/b", "", String(repeating: "a", count: 129), ".", "..", "/abs", "x y"]

    /// Subcommands that take `--session`, with their other required options.
    static let sessionCommands: [[String]] = [
        ["append", "--actor", "a", "--domain", "music", "--op", #"{"op":"insert"}"#],
        ["log"],
        ["log", "--canonical", "--since-checkpoint"],
        ["delta", "--domain", "music"],
        ["checkpoint", "--snapshot", "snap"],
        ["verify"],
    ]

    @Test("a bad session id is refused before anything is touched", arguments: Self.badSessionIDs, Self.sessionCommands)
    func badSessionID(session: String, command: [String]) async throws {
        try await withTemporaryFolder { folder in
            let root = try Self.makeRoot(in: folder)
            let before = treeListing(folder.path)
            var arguments = command
            arguments.insert(contentsOf: ["--root", root, "--session", session], at: 1)
            let output = try await Programs.oplogSync(arguments)
            expectOneLineError(output)
            #expect(treeListing(folder.path) == before, "nothing created or changed")
        }
    }

    @Test(
        "`--op` that is not JSON is refused",
        arguments: [#"{"op":"#, "not json", "", #"{"a":1} trailing"#, "[1,]", "{'op':'insert'}", #"{"a":"\x"}"#]
    )
    func badOpJSON(op: String) async throws {
        try await withTemporaryFolder { folder in
            let root = try Self.makeRoot(in: folder)
            let before = treeListing(folder.path)
            for session in ["existing", "new-session"] {
                let output = try await Programs.oplogSync([
                    "append", "--root", root, "--session", session, "--actor", "a", "--domain", "music", "--op", op,
                ])
                expectOneLineError(output)
            }
            #expect(treeListing(folder.path) == before, "nothing created or changed")
        }
    }

    @Test("a line of `--op -` input that is not JSON is refused")
    func badOpLineOnStandardInput() async throws {
        try await withTemporaryFolder { folder in
            let root = try Self.makeRoot(in: folder)
            let before = treeListing(folder.path)
            let output = try await Programs.oplogSync(
                ["append", "--root", root, "--session", "new-session", "--actor", "a", "--domain", "music", "--op", "-"],
                input: Array(#"{"op":"#.utf8) + [UInt8(ascii: "\n")]
            )
            expectOneLineError(output)
            #expect(treeListing(folder.path) == before, "nothing created or changed")
        }
    }

    @Test(
        "a missing root is an error for every subcommand",
        arguments: [
            ["append", "--session", "s", "--actor", "a", "--domain", "music", "--op", "{}"],
            ["log", "--session", "s"],
            ["delta", "--session", "s", "--domain", "music"],
            ["checkpoint", "--session", "s", "--snapshot", "snap"],
            ["sessions"],
            ["verify"],
            ["verify", "--session", "s"],
        ]
    )
    func missingRoot(command: [String]) async throws {
        try await withTemporaryFolder { folder in
            let missing = folder.path("no-such-root")
            var arguments = command
            arguments.insert(contentsOf: ["--root", missing], at: 1)
            let output = try await Programs.oplogSync(arguments)
            expectOneLineError(output)
            #expect(treeListing(folder.path).isEmpty, "the root is not created: \(treeListing(folder.path))")
        }
    }

    /// A root holding one session with one entry.
    static func makeRoot(in folder: TemporaryFolder) throws -> String {
        let root = folder.path("root")
        try SessionFiles(root: root, session: "existing").appendRaw(museLine(actor: "muse", lamportTimestamp: 1) + "\n")
        return root
    }
}

/// Checks the CLI's error contract: a non-zero exit, nothing on stdout, and exactly one line on
/// stderr that starts `oplog-sync: error:`.
func expectOneLineError(_ output: ProcessOutput, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(output.exitCode != nil && output.exitCode != 0, "\(output)", sourceLocation: sourceLocation)
    #expect(output.stdout.isEmpty, "\(output)", sourceLocation: sourceLocation)
    #expect(output.stderrLines.count == 1, "\(output)", sourceLocation: sourceLocation)
    #expect(output.stderrLines.first?.hasPrefix("oplog-sync: error:") == true, "\(output)", sourceLocation: sourceLocation)
}
