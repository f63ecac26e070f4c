import Crypto
public import Foundation
import SwiftASN1
public import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a node keeps its identity: `identity/key.pem` and `identity/cert.pem` in its state
/// folder (DESIGN §7).
///
/// ```
/// STATE/identity/       created 0700
///     key.pem           the P-256 private key, PKCS #8 PEM     mode 0600
///     cert.pem          the self-signed certificate, PEM       mode 0644
/// ```
///
/// ``loadOrCreate(now:)`` makes the identity once and then only ever reads it: it is never
/// silently remade. A certificate without its key, a key without its certificate, a file that
/// cannot be read or does not parse, a key that is not the certificate's, or a key file other
/// users may open is a one-line ``IdentityError`` naming the file, and nothing is written. The
/// two files appear together or not at all (see ``loadOrCreate(now:)``). Files are opened
/// without following symbolic links, as the rest of the state folder is.
///
/// A value type holding only paths: safe to use from any thread. Its calls do blocking file
/// I/O (and `fsync` when creating): keep them off event loops.
public struct IdentityStore: Sendable {
    /// The largest identity file read, in bytes: a PEM key or certificate is well under 4 KiB.
    static let maximumFileSize = 64 << 10

    /// The state folder holding `identity/`.
    public let stateFolder: FilePath

    /// The store in `stateFolder` (by default `ROOT/.muse/sync`); nothing is read or created yet.
    public init(stateFolder: FilePath) {
        self.stateFolder = stateFolder.lexicallyNormalized()
    }

    /// `STATE/identity`.
    public var folder: FilePath { self.stateFolder.appending("identity") }
    /// `STATE/identity/key.pem`.
    public var keyPath: FilePath { self.folder.appending("key.pem") }
    /// `STATE/identity/cert.pem`.
    public var certificatePath: FilePath { self.folder.appending("cert.pem") }

    /// The identity in the state folder, made first if there is none.
    ///
    /// When neither file exists (nor `identity/`, or it is empty), a new identity
    /// (``Identity/generate(now:)``) is written to a temporary folder beside `identity/`
    /// (`.identity.PID-RANDOM.tmp`, mode 0700): both files, each `fsync`ed, then the folder. That
    /// folder is renamed to `identity/` and the state folder `fsync`ed: a crash leaves no identity
    /// or a whole one, never one file of the two, and once the call returns the identity survives
    /// a crash. The state folder is created first if missing (mode 0700, missing parents 0755).
    /// Two callers making one at once (processes or threads) both end up with the one whose
    /// rename came first. Temporary folders left by crashed processes are removed.
    ///
    /// - Throws: ``IdentityError`` as ``load()`` does; `.io` when the identity cannot be written
    ///   (nothing is left behind then), or `identity/` holds other files but neither of the two.
    /// - Complexity: when making one, a key pair, a signature, four `fsync`s and a rename.
    public func loadOrCreate(now: Date = Date()) throws(IdentityError) -> Identity {
        if let identity = try self.load() { return identity }
        if let identity = try self.create(now: now) { return identity }
        // The rename found `identity/` in place: another process made the identity meanwhile,
        // or the folder holds something else.
        if let identity = try self.load() { return identity }
        throw IdentityError(
            code: .io,
            message: "cannot make an identity in \(self.folder): it holds other files but no key.pem or cert.pem"
        )
    }

    /// The identity in the state folder, or `nil` when it has none (neither file exists).
    ///
    /// - Throws: ``IdentityError``, naming the file: `.missingKey` (a certificate alone),
    ///   `.missingCertificate` (a key alone), `.io` (a file that cannot be read, a symbolic link,
    ///   or one over 64 KiB), `.insecureKeyFile` (the key's mode lets group or others in),
    ///   `.invalidKey` (not a PEM P-256 private key), `.invalidCertificate` (not one PEM
    ///   certificate), `.mismatchedPair` (the key is not the certificate's).
    public func load() throws(IdentityError) -> Identity? {
        let key = try self.read(self.keyPath, "identity key")
        let certificate = try self.read(self.certificatePath, "identity certificate")
        switch (key, certificate) {
        case (nil, nil):
            return nil
        case (nil, .some):
            throw IdentityError(
                code: .missingKey,
                message: "identity certificate \(self.certificatePath) has no key beside it (no \(self.keyPath)): "
                    + "restore key.pem from a backup, or remove cert.pem to become a new node"
            )
        case (.some, nil):
            throw IdentityError(
                code: .missingCertificate,
                message: "identity key \(self.keyPath) has no certificate beside it (no \(self.certificatePath)): "
                    + "restore cert.pem from a backup, or remove key.pem to become a new node"
            )
        case (.some(let key), .some(let certificate)):
            return try self.identity(key: key, certificate: certificate.bytes)
        }
    }

    /// The identity of the two files' contents, checked.
    private func identity(key: (bytes: [UInt8], mode: mode_t), certificate: [UInt8]) throws(IdentityError) -> Identity {
        guard key.mode & 0o077 == 0 else {
            throw IdentityError(
                code: .insecureKeyFile,
                message: "identity key \(self.keyPath) is open to other users (mode "
                    + "0\(String(key.mode & 0o777, radix: 8))); make it private: chmod 600 \(self.keyPath)"
            )
        }
        let privateKey: P256.Signing.PrivateKey
        do {
            privateKey = try P256.Signing.PrivateKey(pemRepresentation: String(decoding: key.bytes, as: UTF8.self))
        } catch {
            throw IdentityError(
                code: .invalidKey,
                message: "identity key \(self.keyPath) is not a PEM P-256 private key",
                cause: error
            )
        }
        let document: PEMDocument
        do {
            document = try PEMDocument(pemString: String(decoding: certificate, as: UTF8.self))
        } catch {
            throw IdentityError(
                code: .invalidCertificate,
                message: "identity certificate \(self.certificatePath) is not one PEM certificate",
                cause: error
            )
        }
        guard document.discriminator == "CERTIFICATE" else {
            throw IdentityError(
                code: .invalidCertificate,
                message: "identity certificate \(self.certificatePath) holds a \(document.discriminator), "
                    + "not a CERTIFICATE"
            )
        }
        do {
            return try Identity(privateKey: privateKey, certificateDER: document.derBytes)
        } catch let error where error.code == .mismatchedPair {
            throw IdentityError(
                code: .mismatchedPair,
                message: "identity key \(self.keyPath) is not the key of the certificate \(self.certificatePath)"
            )
        } catch {
            throw IdentityError(
                code: error.code,
                message: "identity certificate \(self.certificatePath) is not an X.509 certificate",
                cause: error.cause
            )
        }
    }

    /// The contents and mode of the file at `path`, or `nil` when there is none.
    private func read(_ path: FilePath, _ what: String) throws(IdentityError) -> (bytes: [UInt8], mode: mode_t)? {
        do {
            let descriptor: FileDescriptor
            do {
                descriptor = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .closeOnExec])
            } catch let error as Errno where error == .noSuchFileOrDirectory {
                return nil
            }
            return try descriptor.closeAfter { () throws -> (bytes: [UInt8], mode: mode_t) in
                let mode = try DurableFiles.mode(of: descriptor)
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 4096)
                while bytes.count <= Self.maximumFileSize {
                    let count = try chunk.withUnsafeMutableBytes { try descriptor.read(into: $0) }
                    if count == 0 { return (bytes, mode) }
                    bytes += chunk[0..<count]
                }
                throw Errno.fileTooLarge
            }
        } catch let error as Errno where error == .tooManySymbolicLinkLevels {
            throw IdentityError(
                code: .io,
                message: "\(what) \(path) is a symbolic link; not following it",
                cause: error
            )
        } catch let error as Errno where error == .fileTooLarge {
            throw IdentityError(code: .io, message: "\(what) \(path) is larger than 64 KiB", cause: error)
        } catch {
            throw IdentityError(code: .io, message: "cannot read \(what) \(path): \(error)", cause: error)
        }
    }
}
