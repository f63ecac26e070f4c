import FuzzSupport
import OpLog

// The input is one line (or one checkpoint file), given to all three parsers. Properties:
// - the parsers agree: an entry or a checkpoint is JSON (`JSONValue(parsing:)` accepts it, as an
//   object), and each field the entry or checkpoint decoder read (located in one pass by its
//   own scanner) is the value the JSON tree holds;
// - the two canonicalisers agree: an entry's content id computed straight from its line
//   (`computedContentID()`) is the one computed from its JSON tree (`ContentID.compute(for:)`);
// - `OpEntry.make` from a parsed entry's fields writes a line that parses back to the same
//   fields and whose content id verifies;
// - writing a JSON value out (Python's compact and indented forms) and parsing it again gives
//   the same value, and canonical JSON (RFC 8785) is idempotent;
// - a checkpoint re-made from its fields (`Checkpoint.make`) decodes to the same fields.

// SwiftPM links an executable's entry point as `<Module>_main`.
@_cdecl("FuzzJSONLines_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv, testOneInput: fuzzTestOneInput)
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>?,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    SeedWriter.writeIfAsked(Seeds.all)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzInput(data: data, size: size).remaining
    let value = try? JSONValue(parsing: bytes)
    if let text = String(validating: bytes, as: UTF8.self) {
        require((try? JSONValue(parsing: text)) == value, "parsing the bytes and parsing them as a String differ")
    }
    if let value { ValueProperties.check(value) }
    EntryProperties.check(bytes, value: value)
    CheckpointProperties.check(bytes, value: value)
    return 0
}

enum ValueProperties {
    static func check(_ value: JSONValue) {
        for (form, written) in [("compact", PythonJSON.compact(value)), ("indented", PythonJSON.indented(value))] {
            guard let again = try? JSONValue(parsing: written) else {
                failProperty(
                    "the \(form) form of a parsed value does not parse: \(String(decoding: written, as: UTF8.self))"
                )
            }
            require(
                again == value,
                "the \(form) form parses to another value: \(String(decoding: written, as: UTF8.self))"
            )
        }
        guard let canonical = try? CanonicalJSON.encode(value) else {
            require(Self.hasNonFinite(value), "canonical JSON refused a value without NaN or Infinity")
            return
        }
        guard let reparsed = try? JSONValue(parsing: canonical) else {
            failProperty("canonical JSON does not parse: \(String(decoding: canonical, as: UTF8.self))")
        }
        guard let twice = try? CanonicalJSON.encode(reparsed) else {
            failProperty("canonical JSON of canonical JSON fails: \(String(decoding: canonical, as: UTF8.self))")
        }
        require(
            twice == canonical,
            "canonical JSON is not idempotent: \(String(decoding: canonical, as: UTF8.self)) -> \(String(decoding: twice, as: UTF8.self))"
        )
    }

    static func hasNonFinite(_ value: JSONValue) -> Bool {
        switch value {
        case .null, .bool, .string: false
        case .number(let number): !number.isFinite
        case .array(let elements): elements.contains(where: Self.hasNonFinite)
        case .object(let object): object.members.contains { Self.hasNonFinite($0.value) }
        }
    }
}

enum EntryProperties {
    static func check(_ bytes: ArraySlice<UInt8>, value: JSONValue?) {
        guard let entry = try? OpEntry(line: bytes) else { return }
        guard case .object(let object)? = value else {
            failProperty("an entry line that is not a JSON object: \(String(decoding: bytes, as: UTF8.self))")
        }
        require(entry.line == Array(bytes), "the entry's line is not the input")
        Self.checkFields(of: entry, against: object)

        // The streaming canonicaliser and the tree one.
        let streamed = Result { () throws(OpLogError) in try entry.computedContentID() }
        let fromTree = Result { () throws(OpLogError) in try ContentID.compute(for: object) }
        switch (streamed, fromTree) {
        case (.success(let a), .success(let b)):
            require(a == b, "content id from the line \(a), from the JSON tree \(b)")
            if entry.opID.isContentAddressed {
                require(((try? entry.verifyContentID()) != nil) == (a == entry.opID), "verifyContentID disagrees")
            }
        case (.failure, .failure):
            break
        case (.success(let id), .failure(let error)), (.failure(let error), .success(let id)):
            failProperty("one canonicaliser gives \(id), the other throws \(error)")
        }

        // Made again from its fields: a line that parses back to them, with a content id that verifies.
        guard
            let made = try? OpEntry.make(
                actorID: entry.actorID,
                lamportTimestamp: entry.lamportTimestamp,
                parentOpIDs: entry.parentOpIDs,
                domain: entry.domain,
                domainOp: entry.domainOp,
                createdAt: entry.createdAt,
                intentID: entry.intentID,
                reservationID: entry.reservationID
            )
        else {
            require(
                entry.lamportTimestamp > LamportClock.maximumTimestamp || ValueProperties.hasNonFinite(entry.domainOp),
                "OpEntry.make refused the fields of a parsed entry"
            )
            return
        }
        guard let reparsed = try? OpEntry(line: made.line) else {
            failProperty("a made line does not parse: \(String(decoding: made.line, as: UTF8.self))")
        }
        require(
            reparsed.opID == made.opID && reparsed.actorID == entry.actorID
                && reparsed.lamportTimestamp == entry.lamportTimestamp && reparsed.parentOpIDs == entry.parentOpIDs
                && reparsed.domain == entry.domain && reparsed.domainOp == entry.domainOp
                && reparsed.createdAt == entry.createdAt && reparsed.intentID == entry.intentID
                && reparsed.reservationID == entry.reservationID,
            "a made line parses to other fields: \(String(decoding: made.line, as: UTF8.self))"
        )
        require((try? reparsed.verifyContentID()) != nil, "a made line's content id does not verify")
    }

    static func checkFields(of entry: OpEntry, against object: JSONObject) {
        func string(_ key: String) -> String? {
            guard case .string(let text)? = object[key] else { return nil }
            return text
        }
        let line = String(decoding: entry.line, as: UTF8.self)
        require(string("op_id") == entry.opID.rawValue, "op_id differs: \(line)")
        require(string("actor_id") == entry.actorID, "actor_id differs: \(line)")
        guard case .number(let lamport)? = object["lamport_ts"] else {
            failProperty("lamport_ts is no number: \(line)")
        }
        require(lamport.integerValue == entry.lamportTimestamp, "lamport_ts differs: \(line)")
        guard case .array(let parents)? = object["parent_op_ids"] else { failProperty("no parent array: \(line)") }
        require(parents == entry.parentOpIDs.map { .string($0.rawValue) }, "parent_op_ids differ: \(line)")
        require(string("domain") == entry.domain, "domain differs: \(line)")
        require(object["domain_op"] == entry.domainOp, "domain_op differs: \(line)")
        for (key, field) in [
            ("created_at", entry.createdAt), ("intent_id", entry.intentID), ("reservation_id", entry.reservationID),
        ] {
            require((object[key] == nil ? "" : string(key)) == field, "\(key) differs: \(line)")
        }
    }
}

enum CheckpointProperties {
    static func check(_ bytes: ArraySlice<UInt8>, value: JSONValue?) {
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint(bytes: bytes)
        } catch {
            require(error.code == .invalidCheckpoint, "Checkpoint(bytes:) threw \(error)")
            return
        }
        guard case .object(let object)? = value else {
            failProperty("a checkpoint that is not a JSON object: \(String(decoding: bytes, as: UTF8.self))")
        }
        require(checkpoint.bytes == Array(bytes), "the checkpoint's bytes are not the input")
        require(object["session_id"] == .string(checkpoint.sessionID), "session_id differs")
        require(object["snapshot_id"] == .string(checkpoint.snapshotID), "snapshot_id differs")
        guard let session = try? SessionID(validating: checkpoint.sessionID) else { return }
        let made = Checkpoint.make(
            sessionID: session,
            snapshotID: checkpoint.snapshotID,
            lamportTimestamp: checkpoint.lamportTimestamp,
            opCount: checkpoint.opCount,
            createdAt: checkpoint.createdAt,
            frontier: checkpoint.frontier ?? Frontier()
        )
        guard let again = try? Checkpoint(bytes: made.bytes) else { failProperty("a made checkpoint does not decode") }
        require(
            again.sessionID == checkpoint.sessionID && again.snapshotID == checkpoint.snapshotID
                && again.lamportTimestamp == checkpoint.lamportTimestamp && again.opCount == checkpoint.opCount
                && again.createdAt == checkpoint.createdAt && again.frontier == (checkpoint.frontier ?? Frontier()),
            "a checkpoint made from its fields decodes to other fields: \(String(decoding: made.bytes, as: UTF8.self))"
        )
    }
}
