/// What carries the lines appended to a source file into a destination file during one
/// measurement: two `oplog-sync run` nodes (ours), or the plain TCP pipe (the floor).
protocol Replicator {
    /// Stops it and says how that went, one note per part, for the report.
    func stop() -> [String]
}

/// Which replicator a measurement runs, and how to start it.
enum Transport: Equatable {
    /// Two `oplog-sync run` nodes on loopback, A dialling B; `synchronizesWrites` false adds
    /// `--no-fsync` to both.
    case nodes(synchronizesWrites: Bool)
    /// ``PlainPipe``: the least any replicator has to do.
    case plainPipe

    /// The column or row name in the report.
    var name: String {
        switch self {
        case .nodes(synchronizesWrites: true): "oplog-sync"
        case .nodes(synchronizesWrites: false): "oplog-sync --no-fsync"
        case .plainPipe: "floor (plain TCP pipe)"
        }
    }

    /// Starts it, replicating `source` (which exists) into `destination` (which does not yet).
    /// - Throws: ``BenchmarkError`` when a part cannot start.
    func start(
        in folder: TemporaryFolder,
        layout: ReplicaLayout,
        settings: BenchmarkSettings
    ) throws(BenchmarkError) -> any Replicator {
        switch self {
        case .nodes(let synchronizesWrites):
            try NodePair(in: folder, layout: layout, settings: settings, synchronizesWrites: synchronizesWrites)
        case .plainPipe:
            try PlainPipe(source: layout.sourcePath, destination: layout.destinationPath)
        }
    }
}

/// Where the two copies of the log live inside a measurement's folder: the session `bench` of
/// the roots `a` (the writer's) and `b`.
struct ReplicaLayout {
    let folder: TemporaryFolder

    static let sessionFolder = ".muse/op_log/bench"

    var sourceRoot: String { self.folder.appending("a") }
    var destinationRoot: String { self.folder.appending("b") }
    var sourcePath: String { "\(self.sourceRoot)/\(Self.sessionFolder)/ops.jsonl" }
    var destinationPath: String { "\(self.destinationRoot)/\(Self.sessionFolder)/ops.jsonl" }

    /// Makes both session folders and an empty source log (the floor's tail watches it from
    /// the start; the nodes see it in their first scan).
    /// - Throws: ``BenchmarkError`` when a folder or the file cannot be made.
    func prepare() throws(BenchmarkError) {
        try self.folder.makeFolder("a/\(Self.sessionFolder)")
        try self.folder.makeFolder("b/\(Self.sessionFolder)")
        try FileBytes.Appender(self.sourcePath).close()
    }
}
