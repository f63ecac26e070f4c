import Foundation
import Testing

/// DESIGN §2: "Nothing is ever written outside `ROOT/.muse/op_log/` … and no symbolic link is
/// followed out of them."
@Suite("Symbolic links out of the op log")
struct SymlinkTests {
    /// Where a link to a folder outside the root is planted.
    enum Link: String, CaseIterable, Sendable {
        /// `ROOT/.muse/op_log/evil -> OUTSIDE`
        case sessionFolder
        /// `ROOT/.muse/op_log/evil/ops.jsonl -> OUTSIDE/ops.jsonl` (and the same for checkpoint.json)
        case sessionFiles
        /// `ROOT/.muse/op_log -> OUTSIDE`
        case opLogFolder
        /// `ROOT/.muse -> OUTSIDE`
        case museFolder

        func plant(root: String, outside: String) throws {
            let manager = FileManager.default
            switch self {
            case .sessionFolder:
                try manager.createDirectory(atPath: "\(root)/.muse/op_log", withIntermediateDirectories: true)
                try manager.createSymbolicLink(atPath: "\(root)/.muse/op_log/evil", withDestinationPath: outside)
            case .sessionFiles:
                try manager.createDirectory(atPath: "\(root)/.muse/op_log/evil", withIntermediateDirectories: true)
                for name in ["ops.jsonl", "checkpoint.json"] {
                    try manager.createSymbolicLink(atPath: "\(root)/.muse/op_log/evil/\(name)", withDestinationPath: "\(outside)/\(name)")
                }
            case .opLogFolder:
                try manager.createDirectory(atPath: "\(root)/.muse", withIntermediateDirectories: true)
                try manager.createSymbolicLink(atPath: "\(root)/.muse/op_log", withDestinationPath: outside)
            case .museFolder:
                try manager.createDirectory(atPath: root, withIntermediateDirectories: true)
                try manager.createSymbolicLink(atPath: "\(root)/.muse", withDestinationPath: outside)
            }
        }
    }

    @Test("nothing is written through a link, or read through it", arguments: Link.allCases)
    func linksAreNotFollowed(link: Link) async throws {
        try await withTemporaryFolder { folder in
            let root = folder.path("root")
            let outside = folder.path("outside")
            // The target holds what a log would: a session's files, and files named like one.
            let outsideLine = museLine(opID: "outside-1", actor: "outsider", lamportTimestamp: 7)
            for session in ["", "/evil", "/op_log/evil"] {
                let sessionFolder = outside + session
                try FileManager.default.createDirectory(atPath: sessionFolder, withIntermediateDirectories: true)
                try Data((outsideLine + "\n").utf8).write(to: URL(fileURLWithPath: "\(sessionFolder)/ops.jsonl"))
            }
            try link.plant(root: root, outside: outside)
            let outsideBefore = treeListing(outside)
            let outsideBytes = FileManager.default.contents(atPath: "\(outside)/ops.jsonl")

            let append = try await Programs.oplogSync([
                "append", "--root", root, "--session", "evil", "--actor", "a", "--domain", "music", "--op", "{}",
            ])
            expectOneLineError(append)
            let checkpoint = try await Programs.oplogSync(["checkpoint", "--root", root, "--session", "evil", "--snapshot", "s"])
            expectOneLineError(checkpoint)
            #expect(treeListing(outside) == outsideBefore, "nothing written outside the root")
            #expect(FileManager.default.contents(atPath: "\(outside)/ops.jsonl") == outsideBytes)

            let log = try await Programs.oplogSync(["log", "--root", root, "--session", "evil"])
            #expect(!log.stdout.contains("outside-1"), "nothing read through the link: \(log)")
            if log.exitCode != 0 { expectOneLineError(log) }

            let sessions = try await Programs.oplogSync(["sessions", "--root", root])
            #expect(!sessions.stdoutLines.contains("evil") || link == .sessionFiles, "\(sessions)")
            if sessions.exitCode != 0 { expectOneLineError(sessions) }
        }
    }

    @Test("`sessions` leaves out a linked session and lists the real ones")
    func sessionsSkipsLinks() async throws {
        try await withTemporaryFolder { folder in
            let root = folder.path("root")
            let outside = folder.path("outside")
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            try Link.sessionFolder.plant(root: root, outside: outside)
            try SessionFiles(root: root, session: "real").appendRaw(museLine(actor: "m", lamportTimestamp: 1) + "\n")
            let output = try await Programs.oplogSync(["sessions", "--root", root])
            #expect(output.exitCode == 0, "\(output)")
            #expect(output.stdoutLines == ["real"])
        }
    }
}
