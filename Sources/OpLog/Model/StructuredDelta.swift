/// What a session's ops since its checkpoint amount to in one domain: Muse's
/// `to_structured_delta(domain)`, but in the canonical order so every replica agrees.
///
/// ``summary`` counts ops by `domain_op["op"]` (`"unknown"` when absent) and lists the counts in
/// kind-name order, as `"1 delete, 2 insert"`, or `"no ops"`; this is Muse's format exactly.
/// Where Muse would fail (a `domain_op` that is not an object, an `op` that is not a string),
/// the kind is `"unknown"` or the `op` value's compact JSON text.
public struct StructuredDelta: Sendable, Hashable {
    public let domain: String
    /// The `domain_op` of each matching entry, in canonical order.
    public let ops: [JSONValue]
    public let summary: String

    /// Collapses `entries` (any order) to the delta for `domain`.
    public init(domain: String, entries: [OpEntry]) {
        self.domain = domain
        let wanted = ExactText(domain)
        self.ops = entries.canonicallySorted().filter { ExactText($0.domain) == wanted }.map(\.domainOp)
        var counts: [ExactText: Int] = [:]
        for op in self.ops {
            counts[ExactText(Self.kind(of: op)), default: 0] += 1
        }
        let parts =
            counts
            .sorted { ExactText.precedes($0.key.text, $1.key.text) }
            .map { "\($0.value) \($0.key.text)" }
        self.summary = parts.isEmpty ? "no ops" : parts.joined(separator: ", ")
    }

    /// `{"domain":…,"ops":[…],"summary":…}` in Python's compact layout.
    public var jsonValue: JSONValue {
        .object(
            JSONObject(["domain": .string(self.domain), "ops": .array(self.ops), "summary": .string(self.summary)])
        )
    }

    private static func kind(of op: JSONValue) -> String {
        switch op["op"] {
        case nil: "unknown"
        case .string(let kind)?: kind
        case let other?: String(decoding: PythonJSON.compact(other), as: UTF8.self)
        }
    }
}
