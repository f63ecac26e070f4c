import Foundation
import OpLogAgent
import Testing

/// `Config/oplog-sync.yaml` (issue #14, item 5): every key the daemon reads is in it, with a
/// comment, and nothing in it is a key the daemon does not read.
@Suite struct ShippedConfigTests {
    static let file = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Config/oplog-sync.yaml")

    static func lines() throws -> [String] {
        try String(contentsOf: Self.file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
    }

    /// The keys set at the top level (`key: value`) and those shown commented out (`# key: value`,
    /// for a default that depends on the root).
    static func keys() throws -> (set: [String], commented: [String]) {
        var set: [String] = []
        var commented: [String] = []
        for line in try Self.lines() {
            if let match = line.wholeMatch(of: /([a-z_]+):.*/) {
                set.append(String(match.1))
            } else if let match = line.wholeMatch(of: /# ([a-z_]+): .*/) {
                commented.append(String(match.1))
            }
        }
        return (set, commented)
    }

    @Test func everyKeyTheDaemonReadsIsThereWithAComment() throws {
        let (set, commented) = try Self.keys()
        let lines = try Self.lines()
        for (name, kind) in SettingKeys.all where kind != .retired {
            #expect(set.contains(name) || commented.contains(name), "\(name) is missing from Config/oplog-sync.yaml")
            let index = try #require(lines.firstIndex { $0.hasPrefix("\(name):") || $0.hasPrefix("# \(name): ") })
            #expect(index > 0 && lines[index - 1].hasPrefix("#"), "\(name) has a comment above it")
        }
        #expect(!set.contains("node_id") && !commented.contains("node_id"), "a retired key is not shown")
        for key in set + commented {
            #expect(SettingKeys.kind(of: key) != nil, "\(key) is in the file but the daemon does not read it")
        }
    }

    @Test func aPeerEntryShowsEveryField() throws {
        let text = try Self.lines().joined(separator: "\n")
        for field in ["id", "address", "sessions", "receive"] {
            #expect(text.contains("#   - \(field): ") || text.contains("#     \(field): "), "peers' \(field)")
        }
    }
}
