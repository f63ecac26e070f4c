import Foundation
import SystemPackage
import Testing

@testable import OpLog

@Suite("Paths and session ids")
struct SafetyTests {
    @Test(arguments: ["", ".", "..", "a/b", "../x", "a\u{0}b", "sp ace", "é", String(repeating: "x", count: 129)])
    func invalidSessionIDsAreRejected(text: String) {
        #expect(throws: OpLogError.self) { try SessionID(validating: text) }
    }

    @Test(arguments: ["a", "session-1", "A.b_c-9", "...", String(repeating: "x", count: 128)])
    func validSessionIDsAreAccepted(text: String) throws {
        #expect(try SessionID(validating: text).rawValue == text)
    }

    @Test func symbolicLinksInsideTheTreeAreNotFollowed() throws {
        let directory = try TemporaryDirectory()
        let outside = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path + "/.muse/op_log", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory.sessionFolder("evil"), withDestinationPath: outside.path)
        let log = try directory.log("evil")
        #expect { try log.append(lines: [Array(museLine(id: "a", lamport: 1).utf8)]) } throws: {
            ($0 as? OpLogError)?.code == .unsafePath
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
        #expect(try directory.layout.sessions().isEmpty)

        // A linked ops.jsonl inside a real session folder is refused too.
        try FileManager.default.createDirectory(atPath: directory.sessionFolder("s"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory.sessionFolder("s") + "/ops.jsonl", withDestinationPath: outside.path + "/target")
        #expect { try directory.log("s").append(lines: [Array(museLine(id: "a", lamport: 1).utf8)]) } throws: {
            ($0 as? OpLogError)?.code == .unsafePath
        }
        #expect(!FileManager.default.fileExists(atPath: outside.path + "/target"))

        // A linked .muse folder is refused.
        let other = try TemporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: other.path + "/.muse", withDestinationPath: outside.path)
        #expect { try other.layout.sessions() } throws: { ($0 as? OpLogError)?.code == .unsafePath }
    }

    @Test func sessionsAreSortedAndSkipFilesAndBadNames() throws {
        let directory = try TemporaryDirectory()
        for name in ["b", "a", "B", "has space"] {
            try FileManager.default.createDirectory(atPath: directory.sessionFolder(name), withIntermediateDirectories: true)
        }
        FileManager.default.createFile(atPath: directory.sessionFolder("file"), contents: Data())
        #expect(try directory.layout.sessions().map(\.rawValue) == ["B", "a", "b"])
        let empty = try TemporaryDirectory()
        #expect(try empty.layout.sessions().isEmpty)
        #expect(throws: OpLogError.self) { try OpLogLayout(root: "/nonexistent/root").sessions() }
    }

    /// Folders that are never replicated are listed with why, so the agent can say so.
    @Test func sessionListingNamesTheFoldersItSkips() throws {
        let directory = try TemporaryDirectory()
        for name in ["ok", "has space", "s\u{E9}ance-\u{266B}", String(repeating: "y", count: 129)] {
            try FileManager.default.createDirectory(atPath: directory.sessionFolder(name), withIntermediateDirectories: true)
        }
        _ = FileManager.default.createFile(atPath: directory.sessionFolder("plain-file"), contents: Data())
        try FileManager.default.createSymbolicLink(
            atPath: directory.sessionFolder("link"),
            withDestinationPath: directory.sessionFolder("ok")
        )
        let listing = try directory.layout.sessionListing()
        #expect(listing.sessions.map(\.rawValue) == ["ok"])
        #expect(listing.skipped.map(\.name) == ["has space", "link", "s\u{E9}ance-\u{266B}", String(repeating: "y", count: 129)])
        for folder in listing.skipped {
            #expect(folder.path == directory.layout.opLogPath.appending(folder.name))
            switch folder.reason {
            case .symbolicLink:
                #expect(folder.name == "link")
                #expect(folder.description.contains("symbolic link"))
            case .invalidSessionID(let error):
                #expect(error.code == .invalidSessionID)
                #expect(folder.description.contains("rename"))
            }
        }
        let empty = try TemporaryDirectory()
        #expect(try empty.layout.sessionListing().skipped.isEmpty)
    }
}
