import Foundation
import SystemPackage
import Testing

@testable import OpLog

/// `verify` over checkpoints, and ``LogVerifier/divergences(between:and:)`` between replicas.
@Suite("Verifier: checkpoints and replicas")
struct LogVerifierDivergenceTests {
    @Test func anUnparsableCheckpointIsAProblemNamingTheFile() throws {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(museLine(id: "a", lamport: 1) + "\n", session: "s")
        let log = try directory.log("s")
        let verifier = LogVerifier(checkpointPatience: .milliseconds(20))
        #expect(try verifier.verify(log).isEmpty)
        _ = try directory.opLog("s").checkpoint(snapshotID: "snap")
        #expect(try verifier.verify(log).isEmpty, "a checkpoint we wrote is fine")

        try Data("{\"session_id\": \"s\", \"snap".utf8).write(to: URL(fileURLWithPath: log.checkpointPath.string))
        let findings = try verifier.verify(log)
        #expect(findings.map(\.kind) == [.invalidCheckpoint])
        let finding = try #require(findings.first)
        #expect(finding.isProblem)
        #expect(finding.lineNumber == 0)
        #expect(finding.description.hasPrefix("s:checkpoint.json: invalid checkpoint: \(log.checkpointPath): "))
        #expect(finding.description.contains("not JSON"))

        // JSON, but not a checkpoint.
        try Data("{\"session_id\": \"s\"}\n".utf8).write(to: URL(fileURLWithPath: log.checkpointPath.string))
        #expect(try verifier.verify(log).first?.message.contains("snapshot_id") == true)
    }

    @Test func divergencesNameTheOpAndBothLines() throws {
        let here = try TemporaryDirectory()
        let there = try TemporaryDirectory()
        let made = try OpEntry.make(actorID: "a", lamportTimestamp: 1, domain: "d", domainOp: .null, createdAt: "t")
        try here.appendRaw(
            [made.line.text, museLine(id: "u1", lamport: 2), museLine(id: "u2", lamport: 3), museLine(id: "only-here", lamport: 4)]
                .joined(separator: "\n") + "\n",
            session: "s"
        )
        // The same ops in another order, u1 with other content, u2 identical, one of its own.
        try there.appendRaw(
            [museLine(id: "only-there", lamport: 9), museLine(id: "u2", lamport: 3), museLine(id: "u1", lamport: 2, op: #"{"op":"delete"}"#), made.line.text]
                .joined(separator: "\n") + "\n",
            session: "s"
        )
        let divergences = try LogVerifier().divergences(between: here.log("s"), and: there.log("s"))
        #expect(divergences.map { "\($0.opID) \($0.lineNumber) \($0.otherLineNumber)" } == ["u1 2 3"])
        #expect(divergences.first?.description == "s: op_id u1: line 2 here, line 3 in the other log differ")
        #expect(try LogVerifier().divergences(between: here.log("s"), and: here.log("s")).isEmpty)
        #expect(try LogVerifier().divergences(between: here.log("s"), and: there.log("missing")).isEmpty)
    }

    @Test func aRepeatedIDIsComparedAtEachOfItsLines() throws {
        let here = try TemporaryDirectory()
        let there = try TemporaryDirectory()
        try here.appendRaw(
            [museLine(id: "u", lamport: 1), museLine(id: "u", lamport: 1, op: #"{"op":"delete"}"#)].joined(separator: "\n") + "\n",
            session: "s"
        )
        try there.appendRaw(museLine(id: "u", lamport: 1) + "\n", session: "s")
        let divergences = try LogVerifier().divergences(between: here.log("s"), and: there.log("s"))
        #expect(divergences.map { "\($0.lineNumber) \($0.otherLineNumber)" } == ["2 1"])
    }
}
