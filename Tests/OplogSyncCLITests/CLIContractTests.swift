import Foundation
import Testing

/// DESIGN §5: the command-line contract other programs rely on.
@Suite("CLI contract")
struct CLIContractTests {
    /// Ways a session can be empty: no `.muse/`, no `op_log/`, a session folder without `ops.jsonl`.
    enum EmptyLayout: String, CaseIterable, Sendable {
        case noMuseFolder, noOpLogFolder, sessionWithoutOps

        func make(root: String) throws {
            let manager = FileManager.default
            switch self {
            case .noMuseFolder:
                try manager.createDirectory(atPath: root, withIntermediateDirectories: true)
            case .noOpLogFolder:
                try manager.createDirectory(atPath: "\(root)/.muse", withIntermediateDirectories: true)
            case .sessionWithoutOps:
                try manager.createDirectory(atPath: "\(root)/.muse/op_log/s", withIntermediateDirectories: true)
            }
        }
    }

    @Test("an empty root or session reads as empty: log, delta, sessions exit 0", arguments: EmptyLayout.allCases)
    func emptyIsNotAnError(layout: EmptyLayout) async throws {
        try await withTemporaryFolder { folder in
            let root = folder.path("root")
            try layout.make(root: root)
            let before = treeListing(folder.path)

            for arguments in [["log"], ["log", "--canonical"], ["log", "--since-checkpoint"]] {
                let output = try await Programs.oplogSync(arguments + ["--root", root, "--session", "s"])
                #expect(output.exitCode == 0, "\(output)")
                #expect(output.stdout.isEmpty, "\(output)")
                #expect(!output.stderr.contains("error"), "\(output)")
            }
            let delta = try await Programs.oplogSync(["delta", "--root", root, "--session", "s", "--domain", "music"])
            #expect(delta.exitCode == 0, "\(delta)")
            #expect(delta.stdout == #"{"domain":"music","ops":[],"summary":"no ops"}"# + "\n")
            let sessions = try await Programs.oplogSync(["sessions", "--root", root])
            #expect(sessions.exitCode == 0, "\(sessions)")
            #expect(sessions.stdoutLines == (layout == .sessionWithoutOps ? ["s"] : []))
            let verify = try await Programs.oplogSync(["verify", "--root", root])
            #expect(verify.exitCode == 0, "\(verify)")
            #expect(treeListing(folder.path) == before, "reading creates nothing")
        }
    }

    @Test("`sessions` lists valid session folders in code point order, and nothing else")
    func sessionsAreSorted() async throws {
        try await withTemporaryFolder { folder in
            let root = folder.path("root")
            let opLog = "\(root)/.muse/op_log"
            let valid = ["b", "B", "a.1", "a-1", "a_1", "0", "Z", "zz", "..a", String(repeating: "x", count: 128)]
            for name in valid + ["has space", "caf\u{E9}", String(repeating: "y", count: 129)] {
                try FileManager.default.createDirectory(atPath: "\(opLog)/\(name)", withIntermediateDirectories: true)
            }
            try SessionFiles(root: root, session: "b").appendRaw(museLine(actor: "m", lamportTimestamp: 1) + "\n")
            try #require(FileManager.default.createFile(atPath: "\(opLog)/plain-file", contents: Data()))
            try FileManager.default.createSymbolicLink(atPath: "\(opLog)/link-to-b", withDestinationPath: "\(opLog)/b")

            let output = try await Programs.oplogSync(["sessions", "--root", root])
            #expect(output.exitCode == 0, "\(output)")
            let expected = valid.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
            #expect(output.stdoutLines == expected)
            #expect(expected.prefix(4) == ["..a", "0", "B", "Z"])
        }
    }

    @Test(
        "`--help` of each subcommand exits 0 and names its options",
        arguments: [
            ("append", ["--root", "--session", "--actor", "--domain", "--op", "--parent", "--intent", "--reservation", "--stale-tail-seconds"]),
            ("log", ["--root", "--session", "--canonical", "--since-checkpoint"]),
            ("delta", ["--root", "--session", "--domain"]),
            ("checkpoint", ["--root", "--session", "--snapshot"]),
            ("sessions", ["--root"]),
            ("verify", ["--root", "--session", "--against"]),
        ]
    )
    func subcommandHelp(subcommand: String, options: [String]) async throws {
        let output = try await Programs.oplogSync([subcommand, "--help"])
        #expect(output.exitCode == 0, "\(output)")
        for option in options {
            #expect(output.stdout.contains(option), "\(subcommand) --help mentions \(option): \(output)")
        }
    }

    @Test("`--help` lists the subcommands")
    func topLevelHelp() async throws {
        let output = try await Programs.oplogSync(["--help"])
        #expect(output.exitCode == 0, "\(output)")
        for subcommand in ["append", "log", "delta", "checkpoint", "sessions", "verify"] {
            #expect(output.stdout.contains(subcommand), "\(output)")
        }
    }
}
