import ArgumentParser
import OpLog

/// `oplog-sync checkpoint`: record that a snapshot captured every op so far.
struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Write a checkpoint for a snapshot and print it.",
        discussion: """
            Records that every entry now in the log is captured by the snapshot: lamport_ts is \
            the highest timestamp, op_count the number of entries, and frontier each actor's \
            highest timestamp (so late entries from offline actors are still replayed). The file \
            is written as Muse writes it (indented JSON) but replaced atomically, and the \
            previous checkpoint is kept in checkpoint_history.jsonl.
            """
    )

    @OptionGroup var sessionOptions: SessionOptions

    @Option(name: .long, help: ArgumentHelp("The Muse snapshot id that captured the ops.", valueName: "id"))
    var snapshot: String

    func validate() throws {
        guard !self.snapshot.isEmpty else { throw ValidationError("--snapshot must not be empty") }
    }

    func run() throws {
        let checkpoint = try self.sessionOptions.opLog.checkpoint(snapshotID: self.snapshot)
        var output = StandardOutput()
        output.write(checkpoint.bytes)
        output.flush()
    }
}
