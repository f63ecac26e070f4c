import Testing

@testable import OpLog

@Suite("Verifier")
struct LogVerifierTests {
    private func findings(_ lines: [String], tail: String = "") throws -> [LogVerifier.Finding] {
        let directory = try TemporaryDirectory()
        try directory.appendRaw(lines.joined(separator: "\n") + "\n" + tail, session: "s")
        return try LogVerifier().verify(try directory.log("s"))
    }

    @Test func cleanLogHasNoProblems() throws {
        let made = try OpEntry.make(actorID: "a", lamportTimestamp: 1, domain: "d", domainOp: .null, createdAt: "t")
        let child = try OpEntry.make(actorID: "a", lamportTimestamp: 2, parentOpIDs: [made.opID], domain: "d", domainOp: .null, createdAt: "t")
        #expect(try self.findings([made.line.text, child.line.text, museLine(id: "uuid-1", lamport: 3)]).isEmpty)
    }

    @Test func findsEachKindOfProblemWithItsLine() throws {
        let made = try OpEntry.make(actorID: "a", lamportTimestamp: 1, domain: "d", domainOp: .null, createdAt: "t")
        let tampered = made.line.text.replacingOccurrences("\"lamport_ts\":1", with: "\"lamport_ts\":2")
        let findings = try self.findings(
            [
                museLine(id: "child", lamport: 2, parents: ["parent"]),  // 1: before its parent
                museLine(id: "parent", lamport: 1),  // 2
                museLine(id: "parent", lamport: 1),  // 3: duplicate
                "garbage",  // 4
                tampered,  // 5: wrong sha256 id
                museLine(id: "orphan", lamport: 3, parents: ["never"]),  // 6: warning only
            ],
            tail: "{\"unfinished"
        )
        let problems = findings.filter(\.isProblem).map { "\($0.lineNumber) \($0.kind)" }
        #expect(problems == ["1 childBeforeParent", "3 duplicateOpID", "4 invalidLine", "5 contentIDMismatch"])
        let others = findings.filter { !$0.isProblem }.map { "\($0.lineNumber) \($0.kind)" }
        #expect(others == ["6 missingParent", "7 unterminatedTail"])
        #expect(findings.first?.description.hasPrefix("s:1: child before parent") == true)
    }
}
