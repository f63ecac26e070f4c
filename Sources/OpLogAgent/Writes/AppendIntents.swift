import OpLog
import OpLogReplication

/// Where this node's last append to each session's log started and how long it was, kept in
/// the state folder (`appending/<session>.intent`, overwritten before each append, never synced),
/// so that a start after the node was killed in the middle of a `write(2)` can cut off the torn
/// end of that append (``AgentCore/cutTornAppends()``) instead of keeping it as a garbage line.
///
/// A large write to a file can stop short when the process gets SIGKILL; what reached the file
/// ends in half a line. Without this, the next append would close that half line with `\n`
/// (DESIGN §2's rule for a crashed writer), leaving a line that is no entry and that no other
/// replica has. The record survives a SIGKILL (the page cache does); after a power loss it may
/// be old, and then nothing is cut, as before.
struct AppendIntents: Sendable {
    /// One append: it started at `offset` (the file's size just before it) and wrote at most
    /// `length` bytes.
    struct Intent: Sendable, Equatable {
        var offset: Int64
        var length: Int64
    }

    let folder: StateFolder

    /// Bytes of one record: `OFFSET LENGTH`, padded with spaces to the same length for any two
    /// `Int64`s, then `\n`.
    static let recordLength = 40

    /// Records the append about to be made, over the last record in place
    /// (``StateFolder/overwrite(_:with:action:)``): a record of the same length each time, so
    /// the file never changes size and no name in the folder changes. Renaming a new file over
    /// the old one before each large append made the `fdatasync` of the log after it longer.
    /// - Throws: ``AgentError`` `.io`; the append can go on without it.
    func record(_ intent: Intent, session: SessionID) throws(AgentError) {
        try self.folder.overwrite(
            .appending(session),
            with: Self.record(intent),
            action: "record the append in progress in"
        )
    }

    /// The bytes of `intent`'s record: ``recordLength`` of them.
    static func record(_ intent: Intent) -> [UInt8] {
        var bytes = Array("\(intent.offset) \(intent.length)".utf8)
        bytes += repeatElement(UInt8(ascii: " "), count: max(0, Self.recordLength - 1 - bytes.count))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// The session's last recorded append; `nil` when none, or the record is unreadable.
    func intent(of session: SessionID) -> Intent? {
        guard let bytes = try? self.folder.contents(of: .appending(session), action: "read"),
            let text = String(validating: bytes, as: UTF8.self)
        else { return nil }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count == 2, let offset = Int64(fields[0]), let length = Int64(fields[1]), offset >= 0,
            length > 0
        else { return nil }
        return Intent(offset: offset, length: length)
    }

    /// The sessions with a record.
    func sessions() -> [SessionID] {
        (try? self.folder.sessions(in: .appending)) ?? []
    }
}
