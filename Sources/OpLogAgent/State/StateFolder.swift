import Foundation
import OpLog
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The agent's state folder: every state file is read and written through it, the same way.
///
/// - Whole files (``replace(_:with:synchronize:permissions:action:)``) are written to a temporary file
///   beside them, synced, renamed over the old one, and the folder is synced: a crash leaves
///   the old contents or the new, never a mix, and once the call returns the new contents
///   survive a crash.
/// - Journals (``append(_:to:synchronize:action:)``) take one `write` per record, with
///   `O_APPEND`, and an `fdatasync` when asked; the first append creates the file (and its
///   subfolder) and syncs the folder holding it, so a synced record is never lost with its
///   file's name. A crash can tear the last record; readers (``readJournal(_:ifDamaged:_:)``)
///   cut it off.
/// - Small records rewritten before every large append (``overwrite(_:with:action:)``) are
///   written over the file in place, unsynced.
///
/// The folder is created with mode 0700 (its subfolders too): other users on a shared host must
/// not read what peers acknowledged or which node this is. A folder that already exists keeps
/// its mode. Files are opened without following symbolic links. It is never inside `op_log/`
/// (``init(opening:opLogFolder:)`` refuses it), so nothing of the agent's is ever replicated.
///
/// A value type holding only the path: safe to use from any thread; two writers of one file
/// must not overlap (the agent's core writes each file from one place).
struct StateFolder: Sendable, CustomStringConvertible {
    /// Mode of the folder and its subfolders when this creates them.
    static let folderPermissions: FilePermissions = .ownerReadWriteExecute
    /// Mode of every file it creates (as before the folder was made private).
    static let filePermissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]

    /// The folder.
    let path: FilePath

    /// Opens the state folder at `path`, creating it (mode 0700, missing parents 0755) if
    /// needed, durably.
    ///
    /// - Throws: ``AgentError`` with code ``AgentError/Code/stateFolder`` when `path` is inside
    ///   `opLogFolder` (compared after lexical normalisation), cannot be created, or is not a
    ///   folder.
    init(opening path: FilePath, opLogFolder: FilePath) throws(AgentError) {
        let state = path.lexicallyNormalized()
        let opLog = opLogFolder.lexicallyNormalized()
        guard !state.starts(with: opLog) else {
            throw AgentError(code: .stateFolder, message: "state folder \(state) must not be inside \(opLog)")
        }
        do {
            try Self.makeFolder(state, permissions: Self.folderPermissions)
        } catch {
            throw AgentError(code: .stateFolder, message: "cannot create state folder \(state): \(error)", cause: error)
        }
        self.path = state
    }

    /// The state folder at `path`, already opened with ``init(opening:opLogFolder:)`` (which
    /// checked and created it): nothing is checked or created here.
    init(openedAt path: FilePath) {
        self.path = path.lexicallyNormalized()
    }

    /// The folder's path.
    var description: String { self.path.string }

    /// Where `file` is.
    func path(of file: StateFile) -> FilePath {
        guard let subfolder = file.subfolder else { return self.path.appending(file.name) }
        return self.path.appending(subfolder).appending(file.name)
    }

    /// The folder holding `file`.
    private func folder(of file: StateFile) -> FilePath {
        file.subfolder.map { self.path.appending($0) } ?? self.path
    }

    // MARK: Reading

    /// The whole of a small file, or `nil` when there is none.
    ///
    /// - Throws: ``AgentError`` `.io` (`cannot <action> <path>: <errno>`) when the file exists
    ///   but cannot be read.
    func contents(of file: StateFile, action: String) throws(AgentError) -> [UInt8]? {
        let path = self.path(of: file)
        do {
            let descriptor: FileDescriptor
            do {
                descriptor = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .closeOnExec])
            } catch let error as Errno where error == .noSuchFileOrDirectory {
                return nil
            }
            return try descriptor.closeAfter { () throws -> [UInt8] in
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 64 << 10)
                while true {
                    let count = try chunk.withUnsafeMutableBytes { buffer in
                        try descriptor.read(into: buffer)
                    }
                    if count == 0 { return bytes }
                    bytes += chunk[0..<count]
                }
            }
        } catch {
            throw AgentError(code: .io, message: "cannot \(action) \(path): \(error)", cause: error)
        }
    }

    /// The sessions that have a file in `folder`, in order; none when the subfolder is missing.
    /// Names that are not a session's file (temporary files, strays) are left out.
    ///
    /// - Throws: ``AgentError`` `.io` when the subfolder exists but cannot be listed.
    func sessions(in folder: StateFile.SessionFolder) throws(AgentError) -> [SessionID] {
        let path = self.path.appending(folder.rawValue)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path.string)
        } catch CocoaError.fileReadNoSuchFile {
            return []
        } catch {
            throw AgentError(code: .io, message: "cannot list \(path): \(error.localizedDescription)", cause: error)
        }
        return names.compactMap { name in
            guard name.hasSuffix(folder.suffix) else { return nil }
            return try? SessionID(validating: String(name.dropLast(folder.suffix.count)))
        }.sorted()
    }

    // MARK: Writing

    /// Replaces `file` with `bytes` as a whole: written to `.NAME.tmp` beside it, `fsync`ed,
    /// renamed over it, and its folder `fsync`ed. A crash at any point leaves the old contents
    /// or the new. Without `synchronize` nothing is synced (for a cache that is checked when
    /// read): the rename is still atomic, but after a crash the file may be empty or old. The
    /// new file has mode `permissions` (0644 unless asked; 0600 for a secret such as a key).
    ///
    /// - Throws: ``AgentError`` `.io` (`cannot <action> <path>: <errno>`); the old file is then
    ///   untouched and the temporary file removed.
    /// - Complexity: two `fsync`s, or none.
    func replace(
        _ file: StateFile,
        with bytes: [UInt8],
        synchronize: Bool = true,
        permissions: FilePermissions = Self.filePermissions,
        action: String
    ) throws(AgentError) {
        let path = self.path(of: file)
        let temporary = self.path(of: file.temporary)
        do {
            try self.makeSubfolder(of: file)
            // A stale temporary file (a crash before its rename) is removed rather than reused,
            // so the new file has exactly `permissions`.
            guard unlink(temporary.string) == 0 || errno == ENOENT else { throw Errno(rawValue: errno) }
            let descriptor = try FileDescriptor.open(
                temporary,
                .writeOnly,
                options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                permissions: permissions
            )
            do {
                try descriptor.closeAfter {
                    _ = try descriptor.writeAll(bytes)
                    if synchronize { try Self.sync(descriptor) }
                }
                try Self.call { rename(temporary.string, path.string) }
            } catch {
                _ = unlink(temporary.string)
                throw error
            }
            if synchronize { try Self.syncFolder(self.folder(of: file)) }
        } catch {
            throw AgentError(code: .io, message: "cannot \(action) \(path): \(error)", cause: error)
        }
    }

    /// Writes `bytes` over the start of `file` in place, in one `pwrite` at offset 0, creating the
    /// file (and its subfolder) when it is missing, and cuts off whatever the file held past
    /// them; nothing is synced. For a small record rewritten often (``AppendIntents``): unlike
    /// ``replace(_:with:synchronize:permissions:action:)`` it creates, renames and removes no
    /// name, so the next sync of another file on the same file system does not carry that
    /// work too. A record of the same length each time never changes the file's size. A write
    /// of a few bytes within one page is not torn by a SIGKILL; after a power loss the file may
    /// hold the old bytes.
    ///
    /// - Throws: ``AgentError`` `.io` (`cannot <action> <path>: <errno>`).
    /// - Complexity: one `open`, `pwrite` and `fstat`; no `fsync`.
    func overwrite(_ file: StateFile, with bytes: [UInt8], action: String) throws(AgentError) {
        let path = self.path(of: file)
        do {
            let options: FileDescriptor.OpenOptions = [.noFollow, .closeOnExec]
            let descriptor: FileDescriptor
            do {
                descriptor = try FileDescriptor.open(path, .writeOnly, options: options)
            } catch let error as Errno where error == .noSuchFileOrDirectory {
                try self.makeSubfolder(of: file)
                descriptor = try FileDescriptor.open(
                    path,
                    .writeOnly,
                    options: options.union(.create),
                    permissions: Self.filePermissions
                )
            }
            try descriptor.closeAfter {
                _ = try descriptor.writeAll(toAbsoluteOffset: 0, bytes)
                // The file's size, by seeking to its end (no `stat` struct: in this module its
                // members resolve to whichever C module an optimised build saw first).
                if try descriptor.seek(offset: 0, from: .end) > bytes.count {
                    try Self.call { ftruncate(descriptor.rawValue, off_t(bytes.count)) }
                }
            }
        } catch {
            throw AgentError(code: .io, message: "cannot \(action) \(path): \(error)", cause: error)
        }
    }

    /// Appends `bytes` (whole records) to the journal `file` in one `write`; with
    /// `synchronize`, `fdatasync`s it before returning. With `creating`, creates the file and
    /// its subfolder first if needed, and then syncs the folder holding the new file.
    ///
    /// - Throws: ``AgentError`` `.io` (`cannot <action> <path>: <errno>`; `.noSuchFileOrDirectory`
    ///   when the file is missing and not `creating`); part of the bytes may have reached the
    ///   file then (a torn record, cut off when the journal is read).
    func append(
        _ bytes: [UInt8],
        to file: StateFile,
        synchronize: Bool,
        creating: Bool = true,
        action: String
    ) throws(AgentError) {
        guard !bytes.isEmpty else { return }
        let path = self.path(of: file)
        do {
            let options: FileDescriptor.OpenOptions = [.append, .noFollow, .closeOnExec]
            var isCreated = false
            let descriptor: FileDescriptor
            do {
                descriptor = try FileDescriptor.open(path, .writeOnly, options: options)
            } catch let error as Errno where error == .noSuchFileOrDirectory && creating {
                try self.makeSubfolder(of: file)
                do {
                    descriptor = try FileDescriptor.open(
                        path,
                        .writeOnly,
                        options: options.union([.create, .exclusiveCreate]),
                        permissions: Self.filePermissions
                    )
                    isCreated = true
                } catch let error as Errno where error == .fileExists {
                    descriptor = try FileDescriptor.open(path, .writeOnly, options: options)
                }
            }
            try descriptor.closeAfter {
                _ = try descriptor.writeAll(bytes)
                if synchronize { try Self.call { fdatasync(descriptor.rawValue) } }
            }
            if isCreated { try Self.syncFolder(self.folder(of: file)) }
        } catch {
            throw AgentError(code: .io, message: "cannot \(action) \(path): \(error)", cause: error)
        }
    }

    /// `fdatasync`s `file` if it exists: what was appended to it survives a crash.
    ///
    /// - Throws: ``AgentError`` `.io` (`cannot <action> <path>: <errno>`).
    func synchronize(_ file: StateFile, action: String) throws(AgentError) {
        let path = self.path(of: file)
        do {
            let descriptor: FileDescriptor
            do {
                descriptor = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .closeOnExec])
            } catch let error as Errno where error == .noSuchFileOrDirectory {
                return
            }
            try descriptor.closeAfter { try Self.call { fdatasync(descriptor.rawValue) } }
        } catch {
            throw AgentError(code: .io, message: "cannot \(action) \(path): \(error)", cause: error)
        }
    }

    /// Cuts `file` to its first `length` bytes (a torn journal record, a record no longer
    /// wanted). Not synced: a crash may bring the cut bytes back, and readers cut them again.
    ///
    /// - Throws: ``AgentError`` `.io` (`cannot <action> <path>: <errno>`).
    func truncate(_ file: StateFile, to length: Int64, action: String) throws(AgentError) {
        let path = self.path(of: file)
        do {
            try Self.call { truncateFile(path.string, off_t(length)) }
        } catch {
            throw AgentError(code: .io, message: "cannot \(action) \(path): \(error)", cause: error)
        }
    }

    /// Removes `file`; nothing happens when there is none. Not synced: after a crash the file
    /// may be back, so only remove what is harmless to find again.
    ///
    /// - Throws: ``AgentError`` `.io` (`cannot remove <path>: <errno>`).
    func remove(_ file: StateFile) throws(AgentError) {
        let path = self.path(of: file)
        guard unlink(path.string) == 0 || errno == ENOENT else {
            let error = Errno(rawValue: errno)
            throw AgentError(code: .io, message: "cannot remove \(path): \(error)", cause: error)
        }
    }

    // MARK: Folders and system calls

    /// Creates the subfolder holding `file` (mode 0700) if it is missing, durably.
    private func makeSubfolder(of file: StateFile) throws {
        guard let subfolder = file.subfolder else { return }
        try Self.makeFolder(self.path.appending(subfolder), permissions: Self.folderPermissions)
    }

    /// Creates `path` with `permissions` (and its missing parents with 0755, as `mkdir -p`),
    /// syncing the folder above each one created; does nothing when it is already a folder.
    ///
    /// - Throws: `Errno` (`.notDirectory` when it, or a parent, is something else).
    static func makeFolder(_ path: FilePath, permissions: FilePermissions) throws {
        let parent = path.removingLastComponent()
        for _ in 0..<2 {
            if mkdir(path.string, permissions.rawValue) == 0 {
                try Self.syncFolder(parent.isEmpty ? "." : parent)
                return
            }
            switch Errno(rawValue: errno) {
            case .fileExists:
                // A folder opens with O_DIRECTORY; anything else fails with ENOTDIR.
                let folder = try FileDescriptor.open(path, .readOnly, options: [.directory, .closeOnExec])
                try folder.close()
                return
            case .noSuchFileOrDirectory where !parent.isEmpty && parent != path:
                try Self.makeFolder(
                    parent,
                    permissions: [.ownerReadWriteExecute, .groupReadExecute, .otherReadExecute]
                )
            case let error:
                throw error
            }
        }
        throw Errno.noSuchFileOrDirectory
    }

    /// `fsync`s the folder at `path`, so the names created, renamed or removed in it last.
    static func syncFolder(_ path: FilePath) throws {
        let folder = try FileDescriptor.open(path, .readOnly, options: [.directory, .closeOnExec])
        try folder.closeAfter { try Self.sync(folder) }
    }

    /// `fsync`s `descriptor`.
    static func sync(_ descriptor: FileDescriptor) throws(Errno) {
        try Self.call { fsync(descriptor.rawValue) }
    }

    /// Runs a system call that returns -1 and sets `errno` on failure, again when interrupted.
    static func call(_ body: () -> Int32) throws(Errno) {
        while body() != 0 {
            guard errno == EINTR else { throw Errno(rawValue: errno) }
        }
    }
}

/// `truncate(2)`, under a name the methods called `truncate` do not hide.
private func truncateFile(_ path: String, _ length: off_t) -> Int32 {
    truncate(path, length)
}
