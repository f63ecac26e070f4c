import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The two shapes of the daemon's log lines on stderr (`--log-format`, `log_format`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's `StreamLogHandler` lines: `TIMESTAMP LEVEL LABEL: METADATA [SOURCE] MESSAGE`.
    case text
    /// One JSON object per line (``JSONLogHandler``).
    case json

    /// A handler of this format writing to stderr at `level`.
    public func handler(label: String, level: Logger.Level) -> any LogHandler {
        switch self {
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        case .json:
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// A log handler that writes one JSON object per line, for log shippers (journald's JSON
/// output, Loki, Elasticsearch, `jq`).
///
/// Each line is a complete object ending in `\n`, written with one `write(2)` under a process-wide
/// lock, so lines from concurrent tasks never interleave. Its fields, in this order:
/// `timestamp` (RFC 3339, UTC, milliseconds), `level`, `label`, `message`, `source` (the module),
/// then every metadata key of the handler, the metadata provider and the call, in code point
/// order (a call's value wins), and `error.message`/`error.type` when an error is given. String
/// and string-convertible metadata values are JSON strings, arrays arrays and dictionaries
/// objects. A metadata key that is one of the five fixed fields is written as `metadata.KEY`,
/// so no field is ever written twice.
public struct JSONLogHandler: LogHandler {
    /// Where the lines go: stderr unless a test gives its own sink.
    private let sink: @Sendable ([UInt8]) -> Void
    private let label: String

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// A handler writing to stderr.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.init(label: label, metadataProvider: metadataProvider, sink: Self.writeToStandardError)
    }

    /// A handler giving each complete line (with its `\n`) to `sink`.
    public init(
        label: String,
        metadataProvider: Logger.MetadataProvider? = nil,
        sink: @escaping @Sendable ([UInt8]) -> Void
    ) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var metadata = self.metadata
        if let provided = self.metadataProvider?.get() { metadata.merge(provided) { _, new in new } }
        if let explicit = event.metadata { metadata.merge(explicit) { _, new in new } }
        if let error = event.error {
            metadata["error.message"] = "\(error)"
            metadata["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line = JSONLine()
        line.field("timestamp", string: Self.timestamp())
        line.field("level", string: event.level.rawValue)
        line.field("label", string: self.label)
        line.field("message", string: event.message.description)
        line.field("source", string: event.source)
        for key in metadata.keys.sorted(by: { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }) {
            guard let value = metadata[key] else { continue }
            line.field(Self.fixedFields.contains(key) ? "metadata.\(key)" : key, value: value)
        }
        self.sink(line.finished())
    }

    private static let fixedFields: Set<String> = ["timestamp", "level", "label", "message", "source"]

    /// `2026-12-02T13:45:01.123Z`: the wall clock in UTC, to the millisecond. The civil date is
    /// computed from the day number (Howard Hinnant's `civil_from_days`), with no `tm` or
    /// `timespec`, whose members an optimised build of this module cannot name reliably.
    static func timestamp(_ date: Date = Date()) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let (days, dayMilliseconds) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let (day, time) = dayMilliseconds < 0 ? (days - 1, dayMilliseconds + 86_400_000) : (days, dayMilliseconds)
        let shifted = day + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func padded(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let seconds = time / 1000
        return "\(padded(year, 4))-\(padded(month, 2))-\(padded(dayOfMonth, 2))"
            + "T\(padded(seconds / 3600, 2)):\(padded(seconds / 60 % 60, 2)):\(padded(seconds % 60, 2))"
            + ".\(padded(time % 1000, 3))Z"
    }

    private static let standardErrorLock = Mutex(())

    @Sendable private static func writeToStandardError(_ bytes: [UInt8]) {
        Self.standardErrorLock.withLock { _ in
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let count = write(2, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                    if count < 0, errno == EINTR { continue }
                    if count <= 0 { return }
                    offset += count
                }
            }
        }
    }
}

/// One JSON object being written, field by field (RFC 8259 string escaping).
struct JSONLine {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]

    mutating func field(_ key: String, string: String) {
        self.key(key)
        self.string(string)
    }

    mutating func field(_ key: String, value: Logger.Metadata.Value) {
        self.key(key)
        self.value(value)
    }

    /// The object closed, with its `\n`.
    mutating func finished() -> [UInt8] {
        self.bytes.append(UInt8(ascii: "}"))
        self.bytes.append(UInt8(ascii: "\n"))
        return self.bytes
    }

    private mutating func key(_ key: String) {
        if self.bytes.count > 1 { self.bytes.append(UInt8(ascii: ",")) }
        self.string(key)
        self.bytes.append(UInt8(ascii: ":"))
    }

    private mutating func value(_ value: Logger.Metadata.Value) {
        switch value {
        case .string(let text):
            self.string(text)
        case .stringConvertible(let convertible):
            self.string(convertible.description)
        case .array(let values):
            self.bytes.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
                self.value(element)
            }
            self.bytes.append(UInt8(ascii: "]"))
        case .dictionary(let fields):
            self.bytes.append(UInt8(ascii: "{"))
            let keys = fields.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
            for (index, key) in keys.enumerated() {
                if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
                self.string(key)
                self.bytes.append(UInt8(ascii: ":"))
                if let element = fields[key] { self.value(element) }
            }
            self.bytes.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private mutating func string(_ text: String) {
        self.bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                self.bytes.append(contentsOf: Array("\\u00".utf8))
                self.bytes.append(Self.hexDigits[Int(byte >> 4)])
                self.bytes.append(Self.hexDigits[Int(byte & 0xF)])
            default:
                self.bytes.append(byte)
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }
}
