import Foundation
import OpLog
import OpLogReplication
import SystemPackage
import Testing

@testable import OpLogAgent

/// The state folder: where it may be, its mode, whole-file replacement that leaves the old
/// contents or the new, and journals whose torn last record is cut off.
@Suite struct StateFolderTests {
    @Test func aNewFolderAndItsSubfoldersAreCreatedPrivate() throws {
        try withScratchFolder { scratch in
            let root = scratch.appending("root")
            let path = root.appending(".muse").appending("sync")
            let folder = try StateFolder(opening: path, opLogFolder: root.appending(".muse").appending("op_log"))
            #expect(try permissionBits(path) == 0o700)
            try folder.append(Array("x\n".utf8), to: .origins(try SessionID(validating: "s")), synchronize: true, action: "test")
            #expect(try permissionBits(path.appending("origins")) == 0o700)
            #expect(try permissionBits(path.appending("origins").appending("s.jsonl")) == 0o644)
            try folder.replace(.progress, with: Array("{}".utf8), action: "test")
            #expect(try permissionBits(path.appending("progress.json")) == 0o644)
        }
    }

    @Test func anExistingFolderKeepsItsMode() throws {
        try withScratchFolder { scratch in
            let path = scratch.appending("state")
            try FileManager.default.createDirectory(atPath: path.string, withIntermediateDirectories: false)
            try FileManager.default.setAttributes([.posixPermissions: 0o750], ofItemAtPath: path.string)
            _ = try StateFolder(opening: path, opLogFolder: scratch.appending("op_log"))
            #expect(try permissionBits(path) == 0o750)
        }
    }

    @Test(arguments: ["root/.muse/op_log", "root/.muse/op_log/session", "root/.muse/./op_log/x/..", "root/.muse/sync/../op_log"])
    func aFolderInsideTheOpLogIsRefused(relative: String) throws {
        try withScratchFolder { scratch in
            let opLog = scratch.appending("root/.muse/op_log")
            let error = #expect(throws: AgentError.self) {
                try StateFolder(opening: scratch.appending(relative), opLogFolder: opLog)
            }
            #expect(error?.code == .stateFolder)
            #expect(error?.message.contains("must not be inside") == true)
            #expect(!FileManager.default.fileExists(atPath: opLog.string), "nothing is created")
        }
    }

    @Test func aFileWhereTheFolderShouldBeIsRefused() throws {
        try withScratchFolder { scratch in
            let path = scratch.appending("state")
            try writeFile(Array("not a folder".utf8), to: path)
            let error = #expect(throws: AgentError.self) {
                try StateFolder(opening: path, opLogFolder: scratch.appending("op_log"))
            }
            #expect(error?.code == .stateFolder)
            #expect(error?.message.hasPrefix("cannot create state folder \(path)") == true)
        }
    }

    /// A secret is written 0600 even over a stale temporary file of another mode.
    @Test func aReplacementHasTheModeAskedFor() throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            let temporary = folder.path(of: StateFile.nodeID.temporary)
            try writeFile(Array("stale".utf8), to: temporary)
            try FileManager.default.setAttributes([.posixPermissions: 0o666], ofItemAtPath: temporary.string)
            try folder.replace(.nodeID, with: Array("secret\n".utf8), permissions: .ownerReadWrite, action: "test")
            #expect(try permissionBits(folder.path(of: .nodeID)) == 0o600)
            #expect(fileBytes(folder.path(of: .nodeID)) == Array("secret\n".utf8))
            #expect(fileBytes(temporary) == nil)
        }
    }

    /// A reader racing whole-file replacements only ever sees one complete version.
    @Test func aReplacementIsSeenWholeOrNotAtAll() async throws {
        try await withAsyncScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            let versions = (0..<4).map { version in Array(repeating: UInt8(ascii: "a") + UInt8(version), count: 256 << 10) }
            try folder.replace(.progress, with: versions[0], action: "test")
            let path = folder.path(of: .progress)
            let reader = Task.detached { () -> (reads: Int, torn: Int) in
                var reads = 0
                var torn = 0
                while !Task.isCancelled {
                    guard let bytes = fileBytes(path) else {
                        torn += 1
                        continue
                    }
                    reads += 1
                    if !versions.contains(bytes) { torn += 1 }
                }
                return (reads, torn)
            }
            for round in 1...200 {
                try folder.replace(.progress, with: versions[round % versions.count], synchronize: round % 10 == 0, action: "test")
            }
            reader.cancel()
            let seen = await reader.value
            #expect(seen.torn == 0, "\(seen.torn) of \(seen.reads) reads saw a partial or missing file")
            #expect(fileBytes(path) == versions[200 % versions.count])
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path.string) == ["progress.json"])
        }
    }

    /// A crash between writing the temporary file and renaming it leaves the old contents, and
    /// the next replacement overwrites the stale temporary file.
    @Test func aCrashBeforeTheRenameLeavesTheOldContents() throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            let store = ProgressStore(folder: folder)
            let mark = ProgressStore.Mark(acknowledged: 3, lastOpID: "sha256:abc")
            let session = try SessionID(validating: "live-1")
            try store.save([NodeID("studio"): [session: mark]])
            try writeFile(Array(#"{"version":1,"pe"#.utf8), to: folder.path(of: StateFile.progress.temporary))
            #expect(try store.load() == [NodeID("studio"): [session: mark]])
            try store.save([:])
            #expect(try store.load().isEmpty)
            #expect(fileBytes(folder.path(of: StateFile.progress.temporary)) == nil)
        }
    }

    /// A version 2 mark names its last entry by placement, hashes in hex (no JSON reader rounds
    /// them), and reads back equal; a version 1 record (by op id) is still read.
    @Test func progressMarksNameTheirEntryByPlacement() throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            let store = ProgressStore(folder: folder)
            let session = try SessionID(validating: "live-1")
            let placement = EntryPlacement(
                bound: ReconciliationBound(lamport: 1 << 60, hash: 0xFEDC_BA98_7654_3210),
                contentHash: 0x0123_4567_89AB_CDEF
            )
            let mark = ProgressStore.Mark(acknowledged: 7, last: placement)
            try store.save([NodeID("studio"): [session: mark], NodeID("laptop"): [session: .init(acknowledged: 0, last: nil)]])
            let text = String(decoding: try #require(fileBytes(folder.path(of: .progress))), as: UTF8.self)
            #expect(text.contains(#""version":2"#))
            #expect(text.contains(#""hash":"fedcba9876543210""#) && text.contains(#""content":"123456789abcdef""#), "\(text)")
            let loaded = try store.load()
            #expect(loaded == [NodeID("studio"): [session: mark], NodeID("laptop"): [session: .init(acknowledged: 0, last: nil)]])
            #expect(loaded[NodeID("studio")]?[session]?.names(placement) == true)
            var other = placement
            other.contentHash ^= 1
            #expect(loaded[NodeID("studio")]?[session]?.names(other) == false, "another entry at that place")
            #expect(loaded[NodeID("studio")]?[session]?.names(nil) == false, "no entry at that place")

            let older = #"{"version":1,"peers":{"studio":{"live-1":{"acknowledged":3,"lastOpID":"sha256:abc"}}}}"#
            try folder.replace(.progress, with: Array(older.utf8), action: "test")
            #expect(try store.load() == [NodeID("studio"): [session: ProgressStore.Mark(acknowledged: 3, lastOpID: "sha256:abc")]])
        }
    }

    /// A replacement that cannot be written leaves the old file untouched.
    @Test func aFailedReplacementLeavesTheOldFile() throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            try folder.replace(.remoteCheckpoints, with: Array("old".utf8), action: "test")
            // A folder where the temporary file must go: the open fails (even as root).
            let blocked = folder.path(of: StateFile.remoteCheckpoints.temporary)
            try writeFile([], to: blocked.appending("inside"))
            let error = #expect(throws: AgentError.self) {
                try folder.replace(.remoteCheckpoints, with: Array("new".utf8), action: "record the thing in")
            }
            #expect(error?.code == .io)
            #expect(error?.cause is Errno)
            #expect(error?.message.hasPrefix("cannot record the thing in \(folder.path(of: .remoteCheckpoints)): ") == true)
            #expect(fileBytes(folder.path(of: .remoteCheckpoints)) == Array("old".utf8))
        }
    }

    /// An overwrite creates the file (and its subfolder) the first time, then writes over it in
    /// place: the same file, no temporary file beside it, whatever it held past the new bytes
    /// cut off.
    @Test func anOverwriteWritesOverTheSameFile() throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            let file = StateFile.appending(try SessionID(validating: "live-1"))
            let path = folder.path(of: file)
            try folder.overwrite(file, with: Array("first record\n".utf8), action: "test")
            #expect(fileBytes(path) == Array("first record\n".utf8))
            #expect(try permissionBits(path) == 0o644)
            #expect(try permissionBits(path.removingLastComponent()) == 0o700)
            let inode = {
                (try? FileManager.default.attributesOfItem(atPath: path.string)[.systemFileNumber] as? NSNumber)?
                    .uint64Value
            }
            let first = try #require(inode())
            try folder.overwrite(file, with: Array("second\n".utf8), action: "test")
            #expect(fileBytes(path) == Array("second\n".utf8))
            #expect(inode() == first, "written in place, not replaced")
            #expect(try FileManager.default.contentsOfDirectory(atPath: path.removingLastComponent().string) == ["live-1.intent"])
        }
    }

    @Test func aMissingFileReadsAsNothing() throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            #expect(try folder.contents(of: .progress, action: "test") == nil)
            #expect(try folder.sessions(in: .origins).isEmpty)
            var lines = 0
            try folder.readJournal(.origins(try SessionID(validating: "s")), ifDamaged: .endJournal, action: "test") { _ in
                lines += 1
                return true
            }
            #expect(lines == 0)
        }
    }

    /// Lines read from a journal, and the file's length afterwards.
    private func read(
        _ text: String,
        ifDamaged policy: StateFolder.DamagedRecord,
        in scratch: FilePath
    ) throws -> (records: [String], length: Int) {
        let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
        let file = StateFile.arrivals(try SessionID(validating: "s"))
        try folder.append(Array(text.utf8), to: file, synchronize: false, action: "test")
        var records: [String] = []
        try folder.readJournal(file, ifDamaged: policy, action: "test") { line in
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("ok") else { return false }
            records.append(text)
            return true
        }
        return (records, fileBytes(folder.path(of: file))?.count ?? -1)
    }

    @Test(arguments: [StateFolder.DamagedRecord.skip, .endJournal])
    func aTornLastRecordIsCutOff(policy: StateFolder.DamagedRecord) throws {
        try withScratchFolder { scratch in
            let read = try self.read("ok1\nok2\nok3-tor", ifDamaged: policy, in: scratch)
            #expect(read.records == ["ok1", "ok2"])
            #expect(read.length == "ok1\nok2\n".utf8.count)
        }
    }

    @Test func aDamagedRecordEndsAJournalOfRunsThere() throws {
        try withScratchFolder { scratch in
            let read = try self.read("ok1\nbad\nok3\n", ifDamaged: .endJournal, in: scratch)
            #expect(read.records == ["ok1"])
            #expect(read.length == "ok1\n".utf8.count, "cut at the damaged record")
        }
    }

    @Test func aDamagedRecordIsSkippedInAJournalOfStandaloneRecords() throws {
        try withScratchFolder { scratch in
            let read = try self.read("ok1\nbad\nok3\n", ifDamaged: .skip, in: scratch)
            #expect(read.records == ["ok1", "ok3"])
            #expect(read.length == "ok1\nbad\nok3\n".utf8.count, "nothing cut")
        }
    }

    @Test func aLineTooLongForARecordIsDamage() throws {
        try withScratchFolder { scratch in
            let long = "ok" + String(repeating: "x", count: StateFolder.maximumRecordLength + 1)
            let read = try self.read("ok1\n\(long)\nok3\n", ifDamaged: .endJournal, in: scratch)
            #expect(read.records.map(\.count) == [3], "only ok1")
            #expect(read.length == "ok1\n".utf8.count)
        }
    }
}
