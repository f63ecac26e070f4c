public import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open folder, closed when the last reference goes away.
///
/// Files and subfolders are opened relative to it with `O_NOFOLLOW`, so a symbolic link planted
/// inside the op log tree can never redirect a read or a write outside it.
final class SafeDirectory: Sendable {
    let descriptor: FileDescriptor
    /// The folder's path, for messages.
    let path: FilePath

    private init(descriptor: FileDescriptor, path: FilePath) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        try? self.descriptor.close()
    }

    /// Opens the root folder a user named (following links there is the user's choice).
    ///
    /// - Throws: `OpLogError` `.io` when the root is missing or not a folder.
    static func openRoot(_ path: FilePath) throws(OpLogError) -> SafeDirectory {
        let fd = path.withPlatformString { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else {
            let error = Errno(rawValue: errno)
            let why =
                error == .noSuchFileOrDirectory
                ? "does not exist" : (error == .notDirectory ? "is not a folder" : "cannot be opened")
            throw OpLogError(code: .io, message: "root \(path) \(why)", cause: error)
        }
        return SafeDirectory(descriptor: FileDescriptor(rawValue: fd), path: path)
    }

    /// Opens the subfolder `name`, creating it when `create` is set; returns `nil` when it does
    /// not exist and `create` is not set.
    ///
    /// - Throws: `OpLogError` `.unsafePath` when `name` is a symbolic link or not a folder,
    ///   `.io` for other failures.
    func openSubdirectory(_ name: String, create: Bool) throws(OpLogError) -> SafeDirectory? {
        let childPath = self.path.appending(name)
        for attempt in 0..<2 {
            let fd = openat(self.descriptor.rawValue, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 {
                return SafeDirectory(descriptor: FileDescriptor(rawValue: fd), path: childPath)
            }
            let error = Errno(rawValue: errno)
            switch error {
            case .noSuchFileOrDirectory where create && attempt == 0:
                if mkdirat(self.descriptor.rawValue, name, 0o755) != 0 && errno != EEXIST {
                    throw OpLogError(code: .io, message: "cannot create \(childPath)", cause: Errno(rawValue: errno))
                }
            case .noSuchFileOrDirectory:
                return nil
            case .tooManySymbolicLinkLevels, .notDirectory:
                throw OpLogError(
                    code: .unsafePath,
                    message: "\(childPath) is a symbolic link or not a folder; not following it"
                )
            default:
                throw OpLogError(code: .io, message: "cannot open \(childPath)", cause: error)
            }
        }
        throw OpLogError(code: .io, message: "cannot open \(childPath)")
    }

    /// Opens the file `name` in this folder without following a symbolic link; returns `nil`
    /// when it does not exist and `flags` lack `O_CREAT`.
    func openFile(_ name: String, flags: Int32, permissions: mode_t = 0o644) throws(OpLogError) -> FileDescriptor? {
        let fd = openat(self.descriptor.rawValue, name, flags | O_NOFOLLOW | O_CLOEXEC, permissions)
        if fd >= 0 { return FileDescriptor(rawValue: fd) }
        let error = Errno(rawValue: errno)
        switch error {
        case .noSuchFileOrDirectory where flags & O_CREAT == 0:
            return nil
        case .tooManySymbolicLinkLevels:
            throw OpLogError(
                code: .unsafePath,
                message: "\(self.path.appending(name)) is a symbolic link; not following it"
            )
        default:
            throw OpLogError(code: .io, message: "cannot open \(self.path.appending(name))", cause: error)
        }
    }

    /// Names of the entries in this folder that are real folders (not links), unsorted.
    func subdirectoryNames() throws(OpLogError) -> [String] {
        try self.folderEntries().compactMap { $0.isSymbolicLink ? nil : $0.name }
    }

    /// The entries of this folder that are folders or symbolic links (to anything), unsorted;
    /// plain files and entries that vanish while listed are left out.
    func folderEntries() throws(OpLogError) -> [(name: String, isSymbolicLink: Bool)] {
        let fd = openat(self.descriptor.rawValue, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0, let stream = fdopendir(fd) else {
            throw OpLogError(code: .io, message: "cannot list \(self.path)", cause: Errno(rawValue: errno))
        }
        defer { closedir(stream) }
        var entries: [(name: String, isSymbolicLink: Bool)] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name != ".", name != ".." else { continue }
            var info = stat()
            guard fstatat(self.descriptor.rawValue, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: entries.append((name, false))
            case S_IFLNK: entries.append((name, true))
            default: break
            }
        }
        return entries
    }

    /// Flushes the folder's own metadata (a rename into it) to disk.
    func synchronize() throws(OpLogError) {
        guard fsync(self.descriptor.rawValue) == 0 else {
            throw OpLogError(code: .io, message: "cannot sync \(self.path)", cause: Errno(rawValue: errno))
        }
    }
}

/// The folders of one Muse repository's op log: `ROOT/.muse/op_log/<session>/`.
public struct OpLogLayout: Sendable, Hashable {
    /// The repository root, the folder that holds `.muse/`.
    public let root: FilePath

    public init(root: FilePath) {
        self.root = root
    }

    /// `ROOT/.muse/op_log`.
    public var opLogPath: FilePath { self.root.appending(".muse").appending("op_log") }

    /// `ROOT/.muse/op_log/<session>`.
    public func sessionPath(_ session: SessionID) -> FilePath { self.opLogPath.appending(session.rawValue) }

    /// Creates `ROOT/.muse/op_log/` if it is missing (the root itself must exist).
    ///
    /// - Throws: `OpLogError` `.io` for a missing root, `.unsafePath` for a linked `.muse` or
    ///   `op_log`.
    public func createOpLogDirectory() throws(OpLogError) {
        _ = try self.openOpLogDirectory(create: true)
    }

    /// Opens `ROOT/.muse/op_log`, or returns `nil` if it does not exist and `create` is unset.
    func openOpLogDirectory(create: Bool) throws(OpLogError) -> SafeDirectory? {
        let root = try SafeDirectory.openRoot(self.root)
        guard let muse = try root.openSubdirectory(".muse", create: create) else { return nil }
        return try muse.openSubdirectory("op_log", create: create)
    }

    /// Opens a session's folder, or returns `nil` if it does not exist and `create` is unset.
    func openSessionDirectory(_ session: SessionID, create: Bool) throws(OpLogError) -> SafeDirectory? {
        guard let opLog = try self.openOpLogDirectory(create: create) else { return nil }
        return try opLog.openSubdirectory(session.rawValue, create: create)
    }

    /// The sessions present, in code point order; folders whose names are not valid session ids
    /// (and symbolic links) are left out, as are plain files. ``sessionListing()`` also says
    /// which folders were left out.
    ///
    /// A root without `.muse/op_log/` has no sessions.
    /// - Throws: `OpLogError` when the root is missing or the folder cannot be read.
    public func sessions() throws(OpLogError) -> [SessionID] {
        try self.sessionListing().sessions
    }

    /// The sessions present, in code point order, and the folders under `ROOT/.muse/op_log/`
    /// that are not replicated: those whose names are not valid session ids, and symbolic links
    /// (never followed). Plain files are not sessions and are not listed.
    ///
    /// A root without `.muse/op_log/` has no sessions and nothing skipped.
    /// - Throws: `OpLogError` when the root is missing or the folder cannot be read.
    /// - Complexity: one pass over the folder, one `fstatat` per entry.
    public func sessionListing() throws(OpLogError) -> SessionListing {
        guard let opLog = try self.openOpLogDirectory(create: false) else { return SessionListing() }
        var listing = SessionListing()
        for entry in try opLog.folderEntries() {
            let path = self.opLogPath.appending(entry.name)
            if entry.isSymbolicLink {
                listing.skipped.append(SkippedSessionFolder(name: entry.name, path: path, reason: .symbolicLink))
                continue
            }
            do throws(OpLogError) {
                listing.sessions.append(try SessionID(validating: entry.name))
            } catch {
                listing.skipped.append(
                    SkippedSessionFolder(name: entry.name, path: path, reason: .invalidSessionID(error))
                )
            }
        }
        listing.sessions.sort()
        listing.skipped.sort { $0.name.unicodeScalars.lexicographicallyPrecedes($1.name.unicodeScalars) }
        return listing
    }
}
