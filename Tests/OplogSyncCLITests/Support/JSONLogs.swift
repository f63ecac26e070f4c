import Foundation
import Testing

/// One line of a daemon's stderr under `--log-format json`.
struct JSONLogLine: @unchecked Sendable {
    /// The parsed object (values are JSON strings, arrays and objects).
    let object: [String: Any]

    var level: String { self.object["level"] as? String ?? "" }
    var message: String { self.object["message"] as? String ?? "" }
    var timestamp: Date? {
        (self.object["timestamp"] as? String).flatMap { text in
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter.date(from: text)
        }
    }

    /// A metadata field as text.
    subscript(field: String) -> String? { self.object[field] as? String }
}

extension AgentProcess {
    /// Every line the daemon wrote to stderr, each parsed as one JSON object, in order. The
    /// harness's own `==== test:` lines are left out, and so is a last line still being written.
    ///
    /// - Throws: naming the first line that is not a JSON object with `timestamp`, `level`,
    ///   `message` and `label`.
    func jsonLog() throws -> [JSONLogLine] {
        var text = self.logText()
        if !text.hasSuffix("\n"), let end = text.lastIndex(of: "\n") { text = String(text[...end]) }
        var lines: [JSONLogLine] = []
        for (number, line) in text.split(separator: "\n").enumerated() where !line.hasPrefix("==== test:") {
            let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8))
            guard let object = parsed as? [String: Any],
                ["timestamp", "level", "message", "label"].allSatisfy({ object[$0] is String })
            else {
                throw AgentFailure("\(self.name)'s log line \(number + 1) is not a JSON log object: \(line)")
            }
            lines.append(JSONLogLine(object: object))
        }
        return lines
    }
}
