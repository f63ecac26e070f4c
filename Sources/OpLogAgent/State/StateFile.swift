import OpLog
import SystemPackage

/// A file in the agent's state folder, named relative to it: the one place the folder's layout
/// is written down.
///
/// ```
/// STATE/                       the folder itself, created 0700
///     node_id                  this node's id                      replaced whole
///     progress.json            what each peer acknowledged         replaced whole
///     remote_checkpoints.json  the greatest checkpoint from peers  replaced whole
///     origins/<session>.jsonl  where each entry came from          append-only journal
///     arrivals/<session>.jsonl entries received, read-only nodes   append-only, compacted whole
///     index/<session>.idx      the entry index (a cache)           started whole, then appended
///     appending/<session>.intent where the last append started     overwritten in place, not synced
/// ```
/// Subfolders are created 0700 too; files keep mode 0644 (the folder already keeps other users
/// out). A session's file name is its id plus a suffix: ids are single path components of
/// `[A-Za-z0-9._-]`, so no name leaves its subfolder, and no temporary file (`.NAME.tmp`, see
/// ``StateFolder/replace(_:with:synchronize:permissions:action:)``) ends with a journal's suffix.
struct StateFile: Sendable, Hashable, CustomStringConvertible {
    /// The subfolder holding the file, or `nil` for the state folder itself.
    let subfolder: String?
    /// The file's name in it.
    let name: String

    /// Only the names below exist: a new state file is added here.
    private init(subfolder: String?, name: String) {
        self.subfolder = subfolder
        self.name = name
    }

    /// `node_id`: the random id of versions before identities; no longer read, left as it is.
    static let nodeID = StateFile(subfolder: nil, name: "node_id")
    /// `progress.json`: ``ProgressStore``.
    static let progress = StateFile(subfolder: nil, name: "progress.json")
    /// `remote_checkpoints.json`: ``RemoteCheckpointRecord``.
    static let remoteCheckpoints = StateFile(subfolder: nil, name: "remote_checkpoints.json")

    /// The subfolders that hold one file per session, with the suffix of their files.
    enum SessionFolder: String, Sendable, CaseIterable {
        /// `origins/`: ``OriginJournal``.
        case origins
        /// `arrivals/`: ``ArrivalJournal``.
        case arrivals
        /// `index/`: ``EntryIndex``.
        case index
        /// `appending/`: ``AppendIntents``.
        case appending

        /// What a session's file name ends with.
        var suffix: String {
            switch self {
            case .origins, .arrivals: ".jsonl"
            case .index: ".idx"
            case .appending: ".intent"
            }
        }
    }

    /// The file of `session` in `folder`.
    static func session(_ session: SessionID, in folder: SessionFolder) -> StateFile {
        StateFile(subfolder: folder.rawValue, name: session.rawValue + folder.suffix)
    }

    /// `origins/<session>.jsonl`: ``OriginJournal``.
    static func origins(_ session: SessionID) -> StateFile { Self.session(session, in: .origins) }
    /// `arrivals/<session>.jsonl`: ``ArrivalJournal``.
    static func arrivals(_ session: SessionID) -> StateFile { Self.session(session, in: .arrivals) }
    /// `index/<session>.idx`: ``EntryIndex``.
    static func index(_ session: SessionID) -> StateFile { Self.session(session, in: .index) }
    /// `appending/<session>.intent`: ``AppendIntents``.
    static func appending(_ session: SessionID) -> StateFile { Self.session(session, in: .appending) }

    /// The temporary file a whole-file replacement is written to first: beside the file, so
    /// the rename never crosses a file system.
    var temporary: StateFile { StateFile(subfolder: self.subfolder, name: ".\(self.name).tmp") }

    /// The path relative to the state folder.
    var description: String { self.subfolder.map { "\($0)/\(self.name)" } ?? self.name }
}
