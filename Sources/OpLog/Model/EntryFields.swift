/// The fields of an entry line, decoded in one pass by ``JSONParser``.
///
/// One decoder serves both the full decode (``OpEntry/init(line:)``) and the index scan
/// (``OpIndexRecord``), which skips `domain_op` without building it, so both accept exactly the
/// same lines. With `keepingDomainOp` unset, `domain`, `created_at`, `intent_id` and
/// `reservation_id` are checked but read as `""`.
struct EntryFields {
    var opID: OpID
    var actorID: String
    var lamportTimestamp: Int
    var parentOpIDs: [OpID]
    var domain: String
    var domainOp: JSONValue?
    var createdAt: String
    var intentID: String
    var reservationID: String

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, keepingDomainOp: Bool) throws(OpLogError) -> EntryFields {
        var parser = JSONParser(bytes)
        var opID: OpID?
        var actorID: String?
        var lamportTimestamp: Int?
        var parentOpIDs: [OpID]?
        var domain: String?
        var domainOp: JSONValue?
        var hasDomainOp = false
        var createdAt = ""
        var intentID = ""
        var reservationID = ""
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
                // valid JSON, so remember it and keep parsing. Strings the index scan does not
                // need are checked but not built.
                func string(_ name: StaticString, keep: Bool = true) throws(JSONSyntaxError) -> String? {
                    guard parser.peek() == UInt8(ascii: "\"") else {
                        if fieldError == nil { fieldError = entryError("field \(name) must be a string") }
                        try parser.skipValue()
                        return nil
                    }
                    if keep { return try parser.parseString() }
                    try parser.skipString()
                    return ""
                }
                if parser.key(key, equals: "op_id") {
                    if let text = try string("op_id") {
                        do throws(OpLogError) { opID = try OpID(validating: text) } catch {
                            if fieldError == nil { fieldError = entryError("field op_id: \(error.message)") }
                        }
                    }
                } else if parser.key(key, equals: "actor_id") {
                    actorID = try string("actor_id")
                } else if parser.key(key, equals: "lamport_ts") {
                    lamportTimestamp = try Self.nonNegativeInteger(&parser, fieldError: &fieldError)
                } else if parser.key(key, equals: "parent_op_ids") {
                    parentOpIDs = try Self.opIDArray(&parser, fieldError: &fieldError)
                } else if parser.key(key, equals: "domain") {
                    domain = try string("domain", keep: keepingDomainOp)
                } else if parser.key(key, equals: "domain_op") {
                    hasDomainOp = true
                    if keepingDomainOp { domainOp = try parser.parseValue() } else { try parser.skipValue() }
                } else if parser.key(key, equals: "created_at") {
                    createdAt = try string("created_at", keep: keepingDomainOp) ?? ""
                } else if parser.key(key, equals: "intent_id") {
                    intentID = try string("intent_id", keep: keepingDomainOp) ?? ""
                } else if parser.key(key, equals: "reservation_id") {
                    reservationID = try string("reservation_id", keep: keepingDomainOp) ?? ""
                } else {
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
        guard hasDomainOp else { throw entryError("missing field domain_op") }
        return EntryFields(
            opID: opID,
            actorID: actorID,
            lamportTimestamp: lamportTimestamp,
            parentOpIDs: parentOpIDs,
            domain: domain,
            domainOp: domainOp,
            createdAt: createdAt,
            intentID: intentID,
            reservationID: reservationID
        )
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
            guard digit < 10, !overflow1, !overflow2 else {
                if fieldError == nil {
                    fieldError = OpLogError(
                        code: .invalidEntry,
                        message: "field lamport_ts must be a non-negative integer (byte \(start))"
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
