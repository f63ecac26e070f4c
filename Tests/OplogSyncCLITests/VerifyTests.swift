import Foundation
import Testing

/// DESIGN §5: `verify` checks every line parses, no op_id repeats, parents precede children and
/// `sha256:` ids match their content; it exits 1 naming what it found, 0 if clean.
@Suite("verify")
struct VerifyTests {
    enum Defect: String, CaseIterable, Sendable {
        case duplicateOpID, childBeforeParent, tamperedContent, wrongContentID, unparsableLine, notAnEntry

        /// Words one of which the finding must contain.
        var keywords: [String] {
            switch self {
            case .duplicateOpID: ["duplicate"]
            case .childBeforeParent: ["parent"]
            case .tamperedContent, .wrongContentID: ["content", "sha256", "mismatch"]
            case .unparsableLine, .notAnEntry: ["invalid", "parse", "json", "entry"]
            }
        }
    }

    /// Writes a log with one defect; returns the number of the line that has it.
    static func writeLog(with defect: Defect, _ commands: SessionCommands) async throws -> Int {
        let files = commands.files
        let first = try await commands.append(actor: "cli", op: #"{"op":"insert","pitch":60}"#)
        try await commands.append(actor: "cli", op: #"{"op":"insert","pitch":61}"#, extraArguments: ["--parent", first])
        try files.appendRaw(museLine(opID: "uuid-1", actor: "muse", lamportTimestamp: 3, parents: [first]) + "\n")
        var lines = files.completeLines()  // three clean lines: ours, our child of it, Muse's child of it
        switch defect {
        case .duplicateOpID:
            lines.append(lines[0])
            try files.rewrite(lines: lines)
            return 4
        case .childBeforeParent:
            lines.insert(Array(museLine(opID: "uuid-child", actor: "muse", lamportTimestamp: 5, parents: ["uuid-parent"]).utf8), at: 1)
            lines.append(Array(museLine(opID: "uuid-parent", actor: "muse", lamportTimestamp: 4).utf8))
            try files.rewrite(lines: lines)
            return 2
        case .tamperedContent:
            lines[1] = Array(lines[1].text.replacingOccurrences(of: #""pitch":61"#, with: #""pitch":62"#).utf8)
            try files.rewrite(lines: lines)
            return 2
        case .wrongContentID:
            let entry = try ParsedEntry(line: lines[0])
            let digits = entry.opID.dropFirst("sha256:".count)
            let flipped = "sha256:" + (digits.first == "0" ? "1" : "0") + digits.dropFirst()
            lines[0] = Array(lines[0].text.replacingOccurrences(of: entry.opID, with: flipped).utf8)
            try files.rewrite(lines: lines)
            return 1
        case .unparsableLine:
            lines.insert(Array(#"{"op_id":"x","actor_id":"#.utf8), at: 2)
            try files.rewrite(lines: lines)
            return 3
        case .notAnEntry:
            lines.insert(Array(#"{"op_id":"x","actor_id":"m","lamport_ts":"seven"}"#.utf8), at: 1)
            try files.rewrite(lines: lines)
            return 2
        }
    }

    @Test("each defect makes verify exit 1 and name its line", arguments: Defect.allCases)
    func defectIsReported(defect: Defect) async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "defective")
            let clean = SessionCommands(root: folder.path, session: "clean")
            try await clean.append(actor: "cli", op: #"{"op":"insert"}"#)
            let lineNumber = try await Self.writeLog(with: defect, commands)

            for arguments in [["--session", "defective"], []] {
                let output = try await Programs.oplogSync(["verify", "--root", folder.path] + arguments)
                #expect(output.exitCode == 1, "\(output)")
                let findings = output.stdoutLines.filter { $0.hasPrefix("defective:\(lineNumber):") }
                #expect(
                    findings.contains { finding in defect.keywords.contains { finding.localizedCaseInsensitiveContains($0) } },
                    "a finding for line \(lineNumber) naming the \(defect): \(output)"
                )
                #expect(!output.stdoutLines.contains { $0.hasPrefix("clean:") }, "\(output)")
            }
            let cleanOutput = try await Programs.oplogSync(["verify", "--root", folder.path, "--session", "clean"])
            #expect(cleanOutput.exitCode == 0, "\(cleanOutput)")
        }
    }

    @Test("a clean log mixing our entries, Muse's and parent links verifies")
    func cleanLogVerifies() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "clean")
            let first = try await commands.append(actor: "cli", op: #"{"op":"insert"}"#)
            try commands.files.appendRaw(museLine(opID: "uuid-1", actor: "muse", lamportTimestamp: 2, parents: [first]) + "\n")
            try await commands.append(actor: "cli", op: #"{"op":"delete"}"#, extraArguments: ["--parent", first, "--parent", "uuid-1"])
            let output = try await Programs.oplogSync(["verify", "--root", folder.path])
            #expect(output.exitCode == 0, "\(output)")
            #expect(output.stdout.isEmpty, "\(output)")
        }
    }
}
