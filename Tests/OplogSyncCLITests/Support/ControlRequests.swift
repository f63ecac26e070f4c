import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OpLog

/// What a control endpoint answered to one `GET`.
struct HTTPAnswer: Sendable, CustomStringConvertible {
    var status: UInt
    var contentType: String?
    var body: [UInt8]

    var text: String { String(decoding: self.body, as: UTF8.self) }

    var description: String { "HTTP \(self.status) (\(self.contentType ?? "no content type")): \(self.text.prefix(2000))" }
}

/// `GET http://ADDRESS/PATH` with a bounded wait.
func httpGet(_ address: String, _ path: String, timeout: Duration = .seconds(10)) async throws -> HTTPAnswer {
    let request = HTTPClientRequest(url: "http://\(address)\(path)")
    let response = try await HTTPClient.shared.execute(request, timeout: TimeAmount(timeout))
    let body = try await response.body.collect(upTo: 64 << 20)
    return HTTPAnswer(
        status: response.status.code,
        contentType: response.headers.first(name: "content-type"),
        body: Array(body.readableBytesView)
    )
}

/// One sample line of a Prometheus text exposition: `name{label="value",…} number`.
struct MetricSample: Sendable, Equatable, CustomStringConvertible {
    var name: String
    var labels: [String: String]
    var value: Double

    var description: String {
        "\(self.name)\(self.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })=\(self.value)"
    }
}

/// The samples of a `/metrics` answer, parsed line by line (comments skipped).
struct MetricsExposition: Sendable, CustomStringConvertible {
    var samples: [MetricSample]

    init(_ text: String) throws {
        var samples: [MetricSample] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw AgentFailure("not a sample line: \(line)")
            }
            let series = line[..<space]
            var labels: [String: String] = [:]
            var name = String(series)
            if let open = series.firstIndex(of: "{"), series.last == "}" {
                name = String(series[..<open])
                let body = series[series.index(after: open)..<series.index(before: series.endIndex)]
                // Label values here are node ids and reasons: no commas or quotes inside.
                for pair in body.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { throw AgentFailure("bad label in \(line)") }
                    labels[String(parts[0])] = String(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
                }
            }
            samples.append(MetricSample(name: name, labels: labels, value: value))
        }
        self.samples = samples
    }

    /// The value of the series `name` with exactly `labels`, if it exists.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        self.samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// Every series named `name`.
    func series(_ name: String) -> [MetricSample] {
        self.samples.filter { $0.name == name }
    }

    var description: String { self.samples.map(\.description).joined(separator: "\n") }
}

extension AgentProcess {
    /// The control endpoint's address; throws when this agent serves none.
    func requireHTTPAddress() throws -> String {
        guard let address = self.httpAddress else { throw AgentFailure("\(self.name) serves no control endpoint") }
        return address
    }

    /// `GET /status`, as bytes and parsed (keys in the order sent).
    func status() async throws -> (bytes: [UInt8], json: JSONValue) {
        let answer = try await httpGet(try self.requireHTTPAddress(), "/status")
        guard answer.status == 200 else { throw AgentFailure("\(self.name) /status: \(answer)") }
        return (answer.body, try JSONValue(parsing: answer.body))
    }

    /// `GET /metrics`, parsed.
    func metrics() async throws -> MetricsExposition {
        let answer = try await httpGet(try self.requireHTTPAddress(), "/metrics")
        guard answer.status == 200 else { throw AgentFailure("\(self.name) /metrics: \(answer)") }
        return try MetricsExposition(answer.text)
    }
}

extension JSONValue {
    /// The elements when this is an array, else none.
    var elements: [JSONValue] {
        if case .array(let elements) = self { return elements }
        return []
    }

    /// The keys in order when this is an object, else none.
    var keys: [String] {
        if case .object(let object) = self { return object.members.map(\.key) }
        return []
    }

    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var number: Double? {
        if case .number(let number) = self { return number.doubleValue }
        return nil
    }

    /// The number when it is written as an integer (no fraction or exponent).
    var integer: Int? {
        if case .number(let number) = self, let value = Int(number.text) { return value }
        return nil
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var isNull: Bool { self == .null }

    /// A short name of the value's JSON type: `string`, `integer`, `number`, `bool`, `null`,
    /// `array` or `object`.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .number(let number): Int(number.text) == nil ? "number" : "integer"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
