#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One entry of a Muse op log, with the exact bytes of the line it came from.
///
/// ``line`` is what gets written back or shipped: a replica reproduces its origin's line byte for
/// byte, unknown fields and escape spellings included. The typed fields are read from it.
/// Required fields: `op_id`, `actor_id`, `lamport_ts` (a non-negative integer),
/// `parent_op_ids` (an array of op ids), `domain` (a string) and `domain_op` (any JSON value);
/// `created_at`, `intent_id` and `reservation_id` must be strings when present and read as `""`
/// when absent.
public struct OpEntry: Sendable, Hashable {
    /// The entry's fields, immutable and shared by copies: copying an entry costs one retain.
    private let storage: Storage

    /// The line's bytes, without its terminating `\n`.
    public var line: [UInt8] { self.storage.line }
    public var opID: OpID { self.storage.opID }
    public var actorID: String { self.storage.actorID }
    public var lamportTimestamp: Int { self.storage.lamportTimestamp }
    public var parentOpIDs: [OpID] { self.storage.parentOpIDs }

    public var domain: String {
        switch self.storage.details {
        case .decoded(let details): details.domain
        case .located(let tokens): EntryFieldTokens.string(at: tokens.domain, in: self.storage.line)
        }
    }

    /// The domain operation, verbatim (object member order and number text kept).
    ///
    /// - Complexity: a decoded entry validated it but did not build it: each access parses it
    ///   from ``line``, O(its length).
    public var domainOp: JSONValue {
        switch self.storage.details {
        case .decoded(let details): details.domainOp
        case .located(let tokens): EntryFieldTokens.value(at: tokens.domainOp, in: self.storage.line)
        }
    }

    /// ISO 8601 wall-clock time, informational only.
    public var createdAt: String {
        switch self.storage.details {
        case .decoded(let details): details.createdAt
        case .located(let tokens): EntryFieldTokens.string(at: tokens.createdAt, in: self.storage.line)
        }
    }

    public var intentID: String {
        switch self.storage.details {
        case .decoded(let details): details.intentID
        case .located(let tokens): EntryFieldTokens.string(at: tokens.intentID, in: self.storage.line)
        }
    }

    public var reservationID: String {
        switch self.storage.details {
        case .decoded(let details): details.reservationID
        case .located(let tokens): EntryFieldTokens.string(at: tokens.reservationID, in: self.storage.line)
        }
    }

    /// Decodes an entry from one line (without its `\n`).
    ///
    /// Every byte is validated, as JSON and as an entry; `domain`, `domain_op`, `created_at`,
    /// `intent_id` and `reservation_id` are then decoded from ``line`` when first asked for,
    /// so replication, which needs only the id, clock and parents, never builds them.
    /// - Throws: `OpLogError` with code `.invalidJSON` if the line is not JSON, `.invalidEntry`
    ///   if it is JSON but not an entry or spans more than one line (contains `\n`). The `op_id`
    ///   is not verified here; see ``verifyContentID()``.
    public init(line: some Collection<UInt8>) throws(OpLogError) {
        let bytes = Array(line)
        let fields = try bytes.withUnsafeBufferPointer { buffer throws(OpLogError) in
            if containsNewline(buffer) {
                throw OpLogError(code: .invalidEntry, message: "an entry must be a single line")
            }
            return try EntryFields.decode(buffer)
        }
        self.storage = Storage(line: bytes, fields: fields, details: .located(fields.tokens))
    }

    /// Makes a new content-addressed entry, laid out as Muse lays out its lines.
    ///
    /// The line is Python's `json.dumps(entry, separators=(",", ":"))` of the fields in Muse's
    /// order, and `op_id` is the ``ContentID`` of the rest.
    /// - Throws: `OpLogError` `.invalidEntry` when `domainOp` holds `NaN` or `Infinity`, which
    ///   a content id cannot cover, or when `lamportTimestamp` is outside
    ///   `0...LamportClock.maximumTimestamp`.
    public static func make(
        actorID: String,
        lamportTimestamp: Int,
        parentOpIDs: [OpID] = [],
        domain: String,
        domainOp: JSONValue,
        createdAt: String,
        intentID: String = "",
        reservationID: String = ""
    ) throws(OpLogError) -> OpEntry {
        guard 0...LamportClock.maximumTimestamp ~= lamportTimestamp else {
            throw OpLogError(
                code: .invalidEntry,
                message: "lamport_ts \(lamportTimestamp) is outside 0 to 2^53 − 1 (\(LamportClock.maximumTimestamp))"
            )
        }
        // Both forms are written directly, without building a JSON tree: this is the hot path
        // of every local append. The canonical form lists the fields in RFC 8785 key order
        // (all ASCII, so byte order); the line lists them in Muse's order.
        let lamport = JSONValue.number(JSONNumber(lamportTimestamp))
        var canonical: [UInt8] = []
        canonical.reserveCapacity(256)
        var isEncodable = true
        func field(_ name: StaticString, _ text: String) {
            canonical.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            CanonicalJSON.appendString(text, to: &canonical)
        }
        field(#"{"actor_id":"#, actorID)
        field(#","created_at":"#, createdAt)
        field(#","domain":"#, domain)
        canonical.append(contentsOf: #","domain_op":"#.utf8)
        CanonicalJSON.append(domainOp, to: &canonical, isEncodable: &isEncodable)
        field(#","intent_id":"#, intentID)
        canonical.append(contentsOf: #","lamport_ts":"#.utf8)
        CanonicalJSON.append(lamport, to: &canonical, isEncodable: &isEncodable)
        canonical.append(contentsOf: #","parent_op_ids":["#.utf8)
        for (index, parent) in parentOpIDs.enumerated() {
            if index > 0 { canonical.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(parent.rawValue, to: &canonical)
        }
        field(#"],"reservation_id":"#, reservationID)
        canonical.append(UInt8(ascii: "}"))
        guard isEncodable else {
            throw OpLogError(code: .invalidEntry, message: "NaN and Infinity have no canonical JSON form (RFC 8785)")
        }
        let opID = ContentID.compute(canonicalBytes: canonical)

        var line: [UInt8] = []
        line.reserveCapacity(canonical.count + 90)
        func pythonField(_ name: StaticString, _ text: String) {
            line.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            PythonJSON.appendString(text, to: &line)
        }
        pythonField(#"{"op_id":"#, opID.rawValue)
        pythonField(#","actor_id":"#, actorID)
        line.append(contentsOf: #","lamport_ts":"#.utf8)
        line.append(contentsOf: PythonJSON.compact(lamport))
        line.append(contentsOf: #","parent_op_ids":"#.utf8)
        line.append(contentsOf: PythonJSON.compact(.array(parentOpIDs.map { .string($0.rawValue) })))
        pythonField(#","domain":"#, domain)
        line.append(contentsOf: #","domain_op":"#.utf8)
        line.append(contentsOf: PythonJSON.compact(domainOp))
        pythonField(#","created_at":"#, createdAt)
        pythonField(#","intent_id":"#, intentID)
        pythonField(#","reservation_id":"#, reservationID)
        line.append(UInt8(ascii: "}"))
        return OpEntry(
            storage: Storage(
                line: line,
                opID: opID,
                actorID: actorID,
                lamportTimestamp: lamportTimestamp,
                parentOpIDs: parentOpIDs,
                details: .decoded(
                    Storage.DecodedDetails(
                        domain: domain,
                        domainOp: domainOp,
                        createdAt: createdAt,
                        intentID: intentID,
                        reservationID: reservationID
                    )
                )
            )
        )
    }

    /// The content id the line's content hashes to, whatever its `op_id` says.
    ///
    /// - Throws: `OpLogError` `.invalidEntry` when the entry holds `NaN` or `Infinity`.
    /// - Complexity: O(n log n) in the line's length; the canonical form is written straight
    ///   from the line, without building its JSON tree.
    public func computedContentID() throws(OpLogError) -> OpID {
        let canonical = try self.storage.line.withUnsafeBufferPointer { line throws(OpLogError) in
            try CanonicalJSON.encodeEntryContent(line)
        }
        return ContentID.compute(canonicalBytes: canonical)
    }

    /// Checks that an id claiming `sha256:` matches the content; other ids pass unchecked.
    ///
    /// - Throws: `OpLogError` with code `.contentIDMismatch`, naming both ids.
    public func verifyContentID() throws(OpLogError) {
        guard self.opID.isContentAddressed else { return }
        let computed: OpID
        do {
            computed = try self.computedContentID()
        } catch {
            throw OpLogError(
                code: .contentIDMismatch,
                message: "op_id \(self.opID) cannot be verified: \(error.message)"
            )
        }
        guard computed == self.opID else {
            throw OpLogError(
                code: .contentIDMismatch,
                message: "op_id \(self.opID) does not match its content (\(computed))"
            )
        }
    }

    /// The key of the canonical order: (`lamport_ts`, `actor_id`, `op_id`).
    public var canonicalKey: CanonicalKey {
        CanonicalKey(lamportTimestamp: self.lamportTimestamp, actorID: self.actorID, opID: self.opID)
    }

    /// Equal when the lines are equal: every field is read from the line.
    public static func == (lhs: OpEntry, rhs: OpEntry) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.line == rhs.storage.line
    }

    public func hash(into hasher: inout Hasher) {
        self.storage.line.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension OpEntry {
    private init(storage: Storage) {
        self.storage = storage
    }

    /// What an entry holds. Immutable, so sharing it between copies and threads is safe.
    private final class Storage: Sendable {
        /// The fields ``OpEntry/make(actorID:lamportTimestamp:parentOpIDs:domain:domainOp:createdAt:intentID:reservationID:)``
        /// was given.
        struct DecodedDetails: Sendable {
            var domain: String
            var domainOp: JSONValue
            var createdAt: String
            var intentID: String
            var reservationID: String
        }

        /// The fields replication does not need: given (a made entry) or located in the line,
        /// validated but not yet decoded (a decoded entry).
        enum Details: Sendable {
            case decoded(DecodedDetails)
            case located(EntryFieldTokens)
        }

        let line: [UInt8]
        let opID: OpID
        let actorID: String
        let lamportTimestamp: Int
        let parentOpIDs: [OpID]
        let details: Details

        init(line: [UInt8], opID: OpID, actorID: String, lamportTimestamp: Int, parentOpIDs: [OpID], details: Details) {
            self.line = line
            self.opID = opID
            self.actorID = actorID
            self.lamportTimestamp = lamportTimestamp
            self.parentOpIDs = parentOpIDs
            self.details = details
        }

        convenience init(line: [UInt8], fields: EntryFields, details: Details) {
            self.init(
                line: line,
                opID: fields.opID,
                actorID: fields.actorID,
                lamportTimestamp: fields.lamportTimestamp,
                parentOpIDs: fields.parentOpIDs,
                details: details
            )
        }
    }
}
