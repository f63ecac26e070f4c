import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension IdentityStore {
    /// The names of the files in `identity/`.
    private static let fileNames = ["key.pem", "cert.pem"]

    /// Makes a new identity and moves it into place as `identity/` in one rename; `nil` when
    /// `identity/` turned out to be there already (not empty), in which case nothing was written.
    ///
    /// - Throws: ``IdentityError`` `.io` naming the folder; the temporary folder is removed.
    func create(now: Date) throws(IdentityError) -> Identity? {
        let identity = try Identity.generate(now: now)
        // Unique to this call, so that neither another process nor another thread of this one
        // writes into it.
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let temporary = self.stateFolder.appending(".identity.\(getpid())-\(suffix).tmp")
        do {
            try DurableFiles.makeFolder(self.stateFolder, permissions: 0o700)
            self.removeAbandonedTemporaryFolders()
            try SystemCall.retrying { mkdir(temporary.string, 0o700) }
        } catch {
            throw IdentityError(code: .io, message: "cannot make an identity in \(self.folder): \(error)", cause: error)
        }
        do {
            try DurableFiles.writeNewFile(
                temporary.appending("key.pem"),
                Array(identity.privateKeyPEM.utf8),
                permissions: 0o600
            )
            try DurableFiles.writeNewFile(
                temporary.appending("cert.pem"),
                Array(identity.certificatePEM.utf8),
                permissions: 0o644
            )
            try DurableFiles.syncFolder(temporary)
            // rename(2) replaces an empty folder and refuses a non-empty one, atomically.
            if rename(temporary.string, self.folder.string) != 0 {
                let error = Errno(rawValue: errno)
                guard error == .directoryNotEmpty || error == .fileExists else { throw error }
                DurableFiles.removeFolder(temporary, holding: Self.fileNames)
                return nil
            }
            try DurableFiles.syncFolder(self.stateFolder)
        } catch {
            DurableFiles.removeFolder(temporary, holding: Self.fileNames)
            throw IdentityError(
                code: .io,
                message: "cannot write an identity to \(self.folder): \(error)",
                cause: error
            )
        }
        return identity
    }

    /// Removes `.identity.PID-RANDOM.tmp` folders whose process is gone: a crash before their
    /// rename left them, so no node ever used the key inside. Those of live processes (this one
    /// included) are left alone.
    private func removeAbandonedTemporaryFolders() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: self.stateFolder.string)) ?? []
        for name in names where name.hasPrefix(".identity.") && name.hasSuffix(".tmp") {
            let digits = name.dropFirst(".identity.".count).prefix { $0 != "-" }
            guard let pid = pid_t(digits), pid > 0, pid != getpid() else { continue }
            guard kill(pid, 0) == -1, errno == ESRCH else { continue }
            DurableFiles.removeFolder(self.stateFolder.appending(name), holding: Self.fileNames)
        }
    }
}
