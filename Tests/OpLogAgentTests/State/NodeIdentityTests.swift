import Foundation
import OpLog
import SystemPackage
import Testing

@testable import OpLogAgent

/// The node id in the state folder: made once, kept, overridden only for the run.
@Suite struct NodeIdentityTests {
    @Test func aNewIdIsRecordedAndKept() throws {
        try withScratchFolder { scratch in
            var configuration = AgentConfiguration(root: scratch.appending("root"))
            configuration.stateDirectory = scratch.appending("state")
            let first = try NodeIdentity.load(configuration: configuration)
            #expect(!first.isEmpty)
            #expect(fileBytes(scratch.appending("state/node_id")) == Array((first + "\n").utf8))
            #expect(try permissionBits(scratch.appending("state")) == 0o700)
            #expect(try NodeIdentity.load(configuration: configuration) == first)
            configuration.nodeID = "override"
            #expect(try NodeIdentity.load(configuration: configuration) == "override")
            configuration.nodeID = nil
            #expect(try NodeIdentity.load(configuration: configuration) == first, "an override is not recorded over an id")
        }
    }

    @Test func anOverrideIsRecordedWhenNoIdIs() throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            #expect(try NodeIdentity.load(in: folder, override: "studio") == "studio")
            #expect(try NodeIdentity.load(in: folder, override: nil) == "studio")
        }
    }

    @Test func theDefaultStateFolderIsBesideTheOpLogNotInIt() throws {
        try withScratchFolder { scratch in
            var configuration = AgentConfiguration(root: scratch)
            let id = try NodeIdentity.load(configuration: configuration)
            #expect(!id.isEmpty)
            configuration.stateDirectory = configuration.layout.opLogPath.appending("sync")
            let error = #expect(throws: AgentError.self) { try NodeIdentity.load(configuration: configuration) }
            #expect(error?.code == .stateFolder)
            #expect(error?.message == "state folder \(configuration.stateDirectory) must not be inside \(configuration.layout.opLogPath)")
        }
    }
}
