import Testing

@testable import OpLogAgent

/// The agent's error: a stable code, one line for the CLI, details for a person debugging.
@Suite struct AgentErrorTests {
    @Test func theDescriptionIsTheMessageAlone() {
        let error = AgentError(code: .io, message: "cannot record progress in /s/progress.json: Permission denied")
        #expect(error.description == "cannot record progress in /s/progress.json: Permission denied")
        #expect("\(error)" == error.message)
    }

    @Test func theThrowSiteIsRecorded() {
        let line = #line + 1
        let error = AgentError(code: .listen, message: "cannot listen on 127.0.0.1:1")
        #expect(error.location.line == line)
        #expect(error.location.file == #fileID)
    }

    @Test func theDetailedDescriptionNestsCauses() {
        let inner = AgentError(code: .io, message: "inner")
        let outer = AgentError(code: .stateFolder, message: "outer", cause: inner)
        let lines = outer.detailedDescription().split(separator: "\n").map(String.init)
        #expect(lines.first == "AgentError: unusable state folder")
        #expect(lines.contains("├─ Reason: outer"))
        #expect(lines.contains("│  └─ AgentError: I/O error"))
        #expect(lines.last?.hasPrefix("└─ Source location: OpLogAgentTests/AgentErrorTests.swift:") == true)
    }

    @Test func codesCompareByValue() {
        let codes: [AgentError.Code] = [
            .invalidAddress, .invalidConfiguration, .stateFolder, .stateFileCorrupt, .io, .opLogFolder, .listen,
            .handshake, .peerProtocol, .watcher, .invalidRecord, .unspecified,
        ]
        #expect(Set(codes).count == codes.count)
        #expect(Set(codes.map(\.description)).count == codes.count)
    }
}
