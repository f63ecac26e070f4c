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
}
