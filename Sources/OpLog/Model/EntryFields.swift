/// The fields of an entry line, decoded in one pass by ``JSONParser``.
///
/// One decoder serves both the full decode (``OpEntry/init(line:)``) and the index scan
/// (``OpIndexRecord``), so both accept exactly the same lines. Every value is validated, but only
/// what replication needs is built (`op_id`, `actor_id`, `lamport_ts`, `parent_op_ids`); the other
/// fields are located (``EntryFieldTokens``) and decoded on demand.
struct EntryFields {
    var opID: OpID
    var actorID: String
    var lamportTimestamp: Int
    var parentOpIDs: [OpID]
    var tokens: EntryFieldTokens

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(OpLogError) -> EntryFields {
        var parser = JSONParser(bytes)
        var opID: OpID?
        var actorID: String?
        var lamportTimestamp: Int?
        var parentOpIDs: [OpID]?
        var domain: Range<Int>?
        var domainOp: Range<Int>?
        var createdAt: Range<Int>?
        var intentID: Range<Int>?
        var reservationID: Range<Int>?
        var fieldError: OpLogError?

        func entryError(_ message: String) -> OpLogError {
            OpLogError(code: .invalidEntry, message: message)
        }

        do {
            parser.skipWhitespace()
            guard parser.peek() == UInt8(ascii: "{") else {
                throw JSONSyntaxError(reason: "an entry must be a JSON object", offset: parser.position)
            }
            try parser.parseObject { (parser: inout JSONParser, key: JSONKey) throws(JSONSyntaxError) in
                // A wrongly typed field is an entry error, but the rest of the line must still be
                // valid JSON, so remember it and keep parsing.
                func isString(_ name: StaticString) throws(JSONSyntaxError) -> Bool {
                    guard parser.peek() == UInt8(ascii: "\"") else {
                        if fieldError == nil { fieldError = entryError("field \(name) must be a string") }
                        try parser.skipValue()
                        return false
                    }
                    return true
                }
                func string(_ name: StaticString) throws(JSONSyntaxError) -> String? {
                    try isString(name) ? parser.parseString() : nil
                }
                // Strings replication does not need are checked but not built.
                func stringToken(_ name: StaticString) throws(JSONSyntaxError) -> Range<Int>? {
                    guard try isString(name) else { return nil }
                    let start = parser.position
                    try parser.skipString()
                    return start..<parser.position
                }
                switch Field(key, in: parser) {
                case .opID?:
                    if let text = try string("op_id") {
                        do throws(OpLogError) { opID = try OpID(validating: text) } catch {
                            if fieldError == nil { fieldError = entryError("field op_id: \(error.message)") }
                        }
                    }
                case .actorID?:
                    actorID = try string("actor_id")
                case .lamportTimestamp?:
                    lamportTimestamp = try Self.nonNegativeInteger(&parser, fieldError: &fieldError)
                case .parentOpIDs?:
                    parentOpIDs = try Self.opIDArray(&parser, fieldError: &fieldError)
                case .domain?:
                    domain = try stringToken("domain")
                case .domainOp?:
                    let start = parser.position
                    try parser.skipValue()
                    domainOp = start..<parser.position
                case .createdAt?:
                    createdAt = try stringToken("created_at")
                case .intentID?:
                    intentID = try stringToken("intent_id")
                case .reservationID?:
                    reservationID = try stringToken("reservation_id")
                case nil:
                    try parser.skipValue()
                }
            }
            try parser.expectEnd()
        } catch {
            throw OpLogError(code: .invalidJSON, message: "not JSON: \(error)")
        }
        if let fieldError { throw fieldError }
        guard let opID else { throw entryError("missing field op_id") }
        guard let actorID else { throw entryError("missing field actor_id") }
        guard let lamportTimestamp else { throw entryError("missing field lamport_ts") }
        guard let parentOpIDs else { throw entryError("missing field parent_op_ids") }
        guard let domain else { throw entryError("missing field domain") }
        guard let domainOp else { throw entryError("missing field domain_op") }
        return EntryFields(
            opID: opID,
            actorID: actorID,
            lamportTimestamp: lamportTimestamp,
            parentOpIDs: parentOpIDs,
            tokens: EntryFieldTokens(
                domain: domain,
                domainOp: domainOp,
                createdAt: createdAt,
                intentID: intentID,
                reservationID: reservationID
            )
        )
    }

    /// The entry fields, told apart by a key's length (and first byte) before one comparison.
    private enum Field: CaseIterable {
        case opID, actorID, lamportTimestamp, parentOpIDs, domain, domainOp, createdAt, intentID, reservationID

        init?(_ key: JSONKey, in parser: JSONParser) {
            if key.hasEscape {
                // Spelled with escapes, a name has another length: compare it decoded, with each.
                guard let field = Self.allCases.first(where: { parser.key(key, equals: $0.name) }) else {
                    return nil
                }
                self = field
                return
            }
            let field: Field
            switch key.range.count {
            case 5: field = .opID
            case 6: field = .domain
            case 8: field = .actorID
            case 9: field = parser.bytes[key.range.lowerBound] == UInt8(ascii: "d") ? .domainOp : .intentID
            case 10: field = parser.bytes[key.range.lowerBound] == UInt8(ascii: "l") ? .lamportTimestamp : .createdAt
            case 13: field = .parentOpIDs
            case 14: field = .reservationID
            default: return nil
            }
            guard parser.key(key, equals: field.name) else { return nil }
            self = field
        }

        var name: StaticString {
            switch self {
            case .opID: "op_id"
            case .actorID: "actor_id"
            case .lamportTimestamp: "lamport_ts"
            case .parentOpIDs: "parent_op_ids"
            case .domain: "domain"
            case .domainOp: "domain_op"
            case .createdAt: "created_at"
            case .intentID: "intent_id"
            case .reservationID: "reservation_id"
            }
        }
    }

    private static func nonNegativeInteger(
        _ parser: inout JSONParser,
        fieldError: inout OpLogError?
    ) throws(JSONSyntaxError) -> Int? {
        let start = parser.position
        let range = try parser.scanNumber()
        var value = 0
        for byte in parser.bytes[range] {
            let digit = byte &- UInt8(ascii: "0")
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(digit))
            guard digit < 10, !overflow1, !overflow2, sum <= LamportClock.maximumTimestamp else {
                if fieldError == nil {
                    fieldError = OpLogError(
                        code: .invalidEntry,
                        message:
                            "field lamport_ts must be an integer from 0 to 2^53 − 1 (\(LamportClock.maximumTimestamp)) (byte \(start))"
                    )
                }
                return nil
            }
            value = sum
        }
        return value
    }

    private static func opIDArray(
        _ parser: inout JSONParser,
        fieldError: inout OpLogError?
    ) throws(JSONSyntaxError) -> [OpID]? {
        guard parser.peek() == UInt8(ascii: "[") else {
            if fieldError == nil {
                fieldError = OpLogError(code: .invalidEntry, message: "field parent_op_ids must be an array")
            }
            try parser.skipValue()
            return nil
        }
        var ids: [OpID] = []
        var isValid = true
        try parser.parseArray { (parser: inout JSONParser) throws(JSONSyntaxError) in
            guard parser.peek() == UInt8(ascii: "\"") else {
                isValid = false
                try parser.skipValue()
                return
            }
            let text = try parser.parseString()
            if let id = try? OpID(validating: text) { ids.append(id) } else { isValid = false }
        }
        guard isValid else {
            if fieldError == nil {
                fieldError = OpLogError(code: .invalidEntry, message: "field parent_op_ids must hold valid op ids")
            }
            return nil
        }
        return ids
    }
}

/// Where an entry's lazily decoded fields are in its line: the byte range of each value's JSON
/// token (quotes included for strings), validated by ``EntryFields/decode(_:)``; `nil` for an
/// optional field the line does not have.
struct EntryFieldTokens: Sendable {
    var domain: Range<Int>
    var domainOp: Range<Int>
    var createdAt: Range<Int>?
    var intentID: Range<Int>?
    var reservationID: Range<Int>?

    /// The string whose token is at `range` in `line` (`""` when `range` is `nil`).
    ///
    /// - Precondition: the token was validated as a string when the line was decoded.
    static func string(at range: Range<Int>?, in line: [UInt8]) -> String {
        guard let range else { return "" }
        return line.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(UnsafeBufferPointer(rebasing: buffer[range]))
            guard let text = try? parser.parseString() else {
                preconditionFailure("an entry's string fields were validated when it was decoded")
            }
            return text
        }
    }

    /// The JSON value whose token is at `range` in `line`.
    ///
    /// - Precondition: the token was validated as a JSON value when the line was decoded.
    static func value(at range: Range<Int>, in line: [UInt8]) -> JSONValue {
        line.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(UnsafeBufferPointer(rebasing: buffer[range]))
            guard let value = try? parser.parseValue() else {
                preconditionFailure("an entry's domain_op was validated when it was decoded")
            }
            return value
        }
    }
}
