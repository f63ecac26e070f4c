import Foundation
import OpLog
import OpLogReplication
import SystemPackage
import Testing

@testable import OpLogAgent

/// A damaged whole-file record is reported with ``AgentError/Code/stateFileCorrupt`` and its
/// path, never silently taken for an empty one.
@Suite struct StateFileCorruptionTests {
    enum Record: String, CaseIterable, Sendable {
        case progress, remoteCheckpoints
    }

    /// Loads `record` from `folder`.
    private func load(_ record: Record, from folder: StateFolder) throws {
        switch record {
        case .progress: _ = try ProgressStore(folder: folder).load()
        case .remoteCheckpoints: _ = try RemoteCheckpointRecord(folder: folder).load()
        }
    }

    private func file(_ record: Record) -> StateFile {
        switch record {
        case .progress: .progress
        case .remoteCheckpoints: .remoteCheckpoints
        }
    }

    static let damage: [(Record, [UInt8])] = [
        (.progress, Array("not json".utf8)),
        (.progress, Array(#"{"version":1,"pe"#.utf8)),
        (.progress, Array(#"{"version":1,"peers":{"a":{"s":{"acknowledged":-1,"lastOpID":"x"}}}}"#.utf8)),
        (.remoteCheckpoints, Array("[1,2]".utf8)),
        (.remoteCheckpoints, Array(#"{"s":{"session_id":"s"}}"#.utf8)),
        (.remoteCheckpoints, []),
    ]

    @Test(arguments: Self.damage)
    func aDamagedRecordIsATypedError(record: Record, bytes: [UInt8]) throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            let path = folder.path(of: self.file(record))
            try writeFile(bytes, to: path)
            let error = #expect(throws: AgentError.self) { try self.load(record, from: folder) }
            #expect(error?.code == .stateFileCorrupt)
            #expect(error?.message.hasPrefix("\(path) ") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("\n") == false)
            #expect(fileBytes(path) == bytes, "a damaged record is left for a person to look at")
        }
    }

    @Test(arguments: Record.allCases)
    func aMissingRecordIsEmpty(record: Record) throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            try self.load(record, from: folder)
        }
    }

    /// A record that cannot be read at all (here a folder in its place) is an I/O error.
    @Test(arguments: Record.allCases)
    func anUnreadableRecordIsAnIOError(record: Record) throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            try writeFile([], to: folder.path(of: self.file(record)).appending("inside"))
            let error = #expect(throws: AgentError.self) { try self.load(record, from: folder) }
            #expect(error?.code == .io)
            #expect(error?.cause is Errno)
        }
    }
}
