/// The version of `oplog-sync`, printed by `oplog-sync --version` as `oplog-sync 0.6.0`.
///
/// The one place the version is written: bump it here (semantic versioning) when a release
/// changes the CLI contract (DESIGN §5), the files or the wire protocol.
enum OpLogSyncVersion {
    /// The release number, `MAJOR.MINOR.PATCH`.
    static let number = "0.8.0"

    /// The line `--version` prints: the command's name and the number.
    static let line = "oplog-sync \(number)"
}
