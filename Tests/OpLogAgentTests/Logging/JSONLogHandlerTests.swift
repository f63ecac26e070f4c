import Foundation
import Logging
import Synchronization
import Testing

@testable import OpLogAgent

@Suite struct JSONLogHandlerTests {
    /// The lines a handler wrote, each parsed as one JSON object.
    final class Lines: Sendable {
        private let written = Mutex<[[UInt8]]>([])

        var sink: @Sendable ([UInt8]) -> Void { { line in self.written.withLock { $0.append(line) } } }

        var raw: [[UInt8]] { self.written.withLock { $0 } }

        func objects() throws -> [[String: Any]] {
            try self.raw.map { line in
                #expect(line.last == UInt8(ascii: "\n"))
                #expect(line.dropLast().contains(UInt8(ascii: "\n")) == false, "one line per event")
                let object = try JSONSerialization.jsonObject(with: Data(line))
                return try #require(object as? [String: Any])
            }
        }
    }

    private func logger(_ lines: Lines, level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: "oplog-sync") { label in JSONLogHandler(label: label, sink: lines.sink) }
        logger.logLevel = level
        return logger
    }

    @Test func eachEventIsOneObjectWithTheFixedFieldsAndTheMetadata() throws {
        let lines = Lines()
        var logger = self.logger(lines)
        logger[metadataKey: "node"] = "studio"
        logger.warning(
            "folder not replicated",
            metadata: [
                "folder.path": "/songs/.muse/op_log/s\u{E9}ance-\u{266B}",
                "count": .stringConvertible(3),
                "peers": ["a", "b"],
                "nested": ["x": "1", "y": ["2"]],
            ]
        )
        logger.debug("not at this level")
        let objects = try lines.objects()
        #expect(objects.count == 1)
        let object = try #require(objects.first)
        #expect(object["level"] as? String == "warning")
        #expect(object["message"] as? String == "folder not replicated")
        #expect(object["label"] as? String == "oplog-sync")
        #expect(object["source"] as? String == "OpLogAgentTests")
        #expect(object["node"] as? String == "studio")
        #expect(object["folder.path"] as? String == "/songs/.muse/op_log/s\u{E9}ance-\u{266B}")
        #expect(object["count"] as? String == "3")
        #expect(object["peers"] as? [String] == ["a", "b"])
        let nested = try #require(object["nested"] as? [String: Any])
        #expect(nested["x"] as? String == "1")
        #expect(nested["y"] as? [String] == ["2"])
        let timestamp = try #require(object["timestamp"] as? String)
        let parsed = try #require(ISO8601DateFormatter.withFractionalSeconds.date(from: timestamp), "\(timestamp)")
        #expect(abs(parsed.timeIntervalSinceNow) < 3600, "\(timestamp) is the wall clock's time")
        #expect(timestamp.hasSuffix("Z") && timestamp.count == "2026-12-02T13:45:01.123Z".count)
        // The fixed fields come first, in their order, for a reader without jq.
        let text = String(decoding: lines.raw[0], as: UTF8.self)
        #expect(text.hasPrefix("{\"timestamp\":\"\(timestamp)\",\"level\":\"warning\",\"label\":\"oplog-sync\","))
    }

    @Test func stringsAreEscapedSoEveryLineParses() throws {
        let lines = Lines()
        let logger = self.logger(lines)
        let hostile = "quote \" backslash \\ newline \n return \r tab \t nul \u{0} bell \u{7} del \u{7F} \u{1F3B5}"
        logger.error("\(hostile)", metadata: [hostile: "\(hostile)"])
        let object = try #require(try lines.objects().first)
        #expect(object["message"] as? String == hostile)
        #expect(object[hostile] as? String == hostile)
    }

    @Test func metadataNamedLikeAFixedFieldDoesNotReplaceIt() throws {
        let lines = Lines()
        let logger = self.logger(lines)
        logger.info("hello", metadata: ["level": "custom", "message": "other", "timestamp": "then"])
        let object = try #require(try lines.objects().first)
        #expect(object["level"] as? String == "info")
        #expect(object["message"] as? String == "hello")
        #expect(object["metadata.level"] as? String == "custom")
        #expect(object["metadata.message"] as? String == "other")
        #expect(object["metadata.timestamp"] as? String == "then")
        let text = String(decoding: lines.raw[0], as: UTF8.self)
        #expect(text.components(separatedBy: "\"level\":").count == 2, "\(text)")
    }

    @Test func anErrorIsTwoFields() throws {
        struct DiskFull: Error, CustomStringConvertible {
            var description: String { "no space left on device" }
        }
        let lines = Lines()
        let logger = self.logger(lines)
        logger.error("append failed", error: DiskFull(), metadata: ["session": "song"])
        let object = try #require(try lines.objects().first)
        #expect(object["error.message"] as? String == "no space left on device")
        #expect((object["error.type"] as? String)?.hasSuffix("DiskFull") == true)
        #expect(object["session"] as? String == "song")
    }

    @Test func theMetadataProviderAndTheCallMergeTheCallWinning() throws {
        let lines = Lines()
        let provider = Logger.MetadataProvider { ["trace": "t-1", "session": "from-provider"] }
        var logger = Logger(label: "x") { label in
            JSONLogHandler(label: label, metadataProvider: provider, sink: lines.sink)
        }
        logger.logLevel = .trace
        logger.trace("merged", metadata: ["session": "from-call"])
        let object = try #require(try lines.objects().first)
        #expect(object["trace"] as? String == "t-1")
        #expect(object["session"] as? String == "from-call")
    }

    /// RFC 3339 in UTC to the millisecond, across leap days, centuries and the epoch (times
    /// that are exact in binary, so the expected milliseconds are exact too).
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (-1.5, "1969-12-31T23:59:58.500Z"),
        (951_782_400.0, "2000-02-29T00:00:00.000Z"),
        (1_709_164_800.5, "2024-02-29T00:00:00.500Z"),
        (1_800_000_012.25, "2027-01-15T08:00:12.250Z"),
        (4_102_444_799.75, "2099-12-31T23:59:59.750Z"),
    ])
    func timestamps(seconds: Double, text: String) {
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: seconds)) == text)
    }

    @Test func theFormatsByName() {
        #expect(LogFormat(rawValue: "json") == .json)
        #expect(LogFormat(rawValue: "text") == .text)
        #expect(LogFormat(rawValue: "JSON") == nil)
        #expect(LogFormat.json.handler(label: "x", level: .notice).logLevel == .notice)
        #expect(LogFormat.text.handler(label: "x", level: .error).logLevel == .error)
    }
}

extension ISO8601DateFormatter {
    fileprivate static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
