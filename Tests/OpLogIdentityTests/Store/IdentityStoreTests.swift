import Crypto
import Foundation
import SystemPackage
import Testing
import X509

@testable import OpLogIdentity

/// DESIGN §7: the identity is made once, kept as `identity/key.pem` (0600) and
/// `identity/cert.pem`, and never silently remade.
@Suite("Identity store")
struct IdentityStoreTests {
    @Test func madeOnceAndReloadedIdentical() async throws {
        try await withScratchFolder { scratch in
            // The state folder and its parent do not exist yet, as before a first `id`.
            let store = IdentityStore(stateFolder: scratch.appending("root/.muse/sync"))
            #expect(try store.load() == nil)
            let made = try store.loadOrCreate()
            let key = try #require(fileBytes(store.keyPath))
            let certificate = try #require(fileBytes(store.certificatePath))

            let again = try store.loadOrCreate()
            #expect(again.nodeID == made.nodeID)
            #expect(again.certificateDER == made.certificateDER)
            #expect(again.privateKey.rawRepresentation == made.privateKey.rawRepresentation)
            #expect(try store.load()?.nodeID == made.nodeID)
            #expect(fileBytes(store.keyPath) == key, "not rewritten")
            #expect(fileBytes(store.certificatePath) == certificate, "not rewritten")
            #expect(made.nodeID == NodeFingerprint(certificateDER: made.certificateDER))

            #expect(try permissionBits(store.keyPath) == 0o600)
            #expect(try permissionBits(store.certificatePath) == 0o644)
            #expect(try permissionBits(store.folder) == 0o700)
            #expect(try permissionBits(store.stateFolder) == 0o700)
            #expect(try folderNames(store.folder) == ["cert.pem", "key.pem"])
            #expect(try folderNames(store.stateFolder) == ["identity"], "no temporary folder left")
            let keyText = String(decoding: key, as: UTF8.self)
            #expect(keyText.hasPrefix("-----BEGIN PRIVATE KEY-----\n") && keyText.hasSuffix("-----END PRIVATE KEY-----\n"))
            let certificateText = String(decoding: certificate, as: UTF8.self)
            #expect(certificateText.hasPrefix("-----BEGIN CERTIFICATE-----\n"))
        }
    }

    @Test func generatedCertificateIsSelfSignedAndLongLived() throws {
        let now = Date()
        let identity = try Identity.generate(now: now)
        let certificate = identity.certificate
        #expect(certificate.subject == certificate.issuer)
        #expect(certificate.subject.description == "CN=oplog-sync")
        #expect(certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(certificate.notValidBefore < now.addingTimeInterval(-3600))
        #expect(certificate.notValidAfter > Date(timeIntervalSince1970: 253_402_000_000), "year 9999")
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try certificate.extensions.keyUsage?.digitalSignature == true)
        #expect(try Identity.generate(now: now).nodeID != identity.nodeID, "a new key and serial each time")
    }

    @Test func certificateWithoutKeyIsAnErrorNotANewIdentity() async throws {
        try await withScratchFolder { scratch in
            let store = IdentityStore(stateFolder: scratch)
            _ = try store.loadOrCreate()
            let certificate = fileBytes(store.certificatePath)
            try FileManager.default.removeItem(atPath: store.keyPath.string)
            let error = try Self.expectOneLineError(.missingKey, naming: store.certificatePath) {
                try store.loadOrCreate()
            }
            #expect(error.message.contains(store.keyPath.string))
            #expect(fileBytes(store.keyPath) == nil, "no key made")
            #expect(fileBytes(store.certificatePath) == certificate, "certificate untouched")
        }
    }

    @Test func keyWithoutCertificateIsAnError() async throws {
        try await withScratchFolder { scratch in
            let store = IdentityStore(stateFolder: scratch)
            _ = try store.loadOrCreate()
            let key = fileBytes(store.keyPath)
            try FileManager.default.removeItem(atPath: store.certificatePath.string)
            try Self.expectOneLineError(.missingCertificate, naming: store.keyPath) { try store.loadOrCreate() }
            #expect(fileBytes(store.certificatePath) == nil)
            #expect(fileBytes(store.keyPath) == key)
        }
    }

    @Test(arguments: [
        Array("garbage\n".utf8), [],
        Array("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8),
    ])
    func garbageKey(bytes: [UInt8]) async throws {
        try await withScratchFolder { scratch in
            let store = IdentityStore(stateFolder: scratch)
            _ = try store.loadOrCreate()
            try writeFile(bytes, to: store.keyPath)
            try Self.expectOneLineError(.invalidKey, naming: store.keyPath) { try store.loadOrCreate() }
            #expect(fileBytes(store.keyPath) == bytes, "never remade")
        }
    }

    @Test(arguments: [
        Array("garbage\n".utf8),
        Array("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".utf8),
        Array("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".utf8),
    ])
    func garbageCertificate(bytes: [UInt8]) async throws {
        try await withScratchFolder { scratch in
            let store = IdentityStore(stateFolder: scratch)
            _ = try store.loadOrCreate()
            try writeFile(bytes, to: store.certificatePath)
            try Self.expectOneLineError(.invalidCertificate, naming: store.certificatePath) { try store.loadOrCreate() }
            #expect(fileBytes(store.certificatePath) == bytes, "never remade")
        }
    }

    @Test func twoCertificatesOrAKeyInCertPEMAreRefused() async throws {
        try await withScratchFolder { scratch in
            let store = IdentityStore(stateFolder: scratch)
            let identity = try store.loadOrCreate()
            try writeFile(Array((identity.certificatePEM + identity.certificatePEM).utf8), to: store.certificatePath)
            try Self.expectOneLineError(.invalidCertificate, naming: store.certificatePath) { try store.load() }
            try writeFile(Array(identity.privateKeyPEM.utf8), to: store.certificatePath)
            let error = try Self.expectOneLineError(.invalidCertificate, naming: store.certificatePath) {
                try store.load()
            }
            #expect(error.message.contains("holds a PRIVATE KEY, not a CERTIFICATE"))
        }
    }

    @Test func mismatchedPairIsRefused() async throws {
        try await withScratchFolder { scratch in
            let store = IdentityStore(stateFolder: scratch)
            _ = try store.loadOrCreate()
            let other = try Identity.generate()
            try writeFile(Array(other.privateKeyPEM.utf8), to: store.keyPath)
            let error = try Self.expectOneLineError(.mismatchedPair, naming: store.keyPath) { try store.loadOrCreate() }
            #expect(error.message.contains(store.certificatePath.string))
            #expect(fileBytes(store.keyPath) == Array(other.privateKeyPEM.utf8))
        }
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o700] as [mode_t])
    func keyOpenToOthersIsRefused(mode: mode_t) async throws {
        try await withScratchFolder { scratch in
            let store = IdentityStore(stateFolder: scratch)
            _ = try store.loadOrCreate()
            #expect(chmod(store.keyPath.string, mode) == 0)
            if mode & 0o077 == 0 {
                #expect(try store.load() != nil, "owner-only modes are fine")
            } else {
                let error = try Self.expectOneLineError(.insecureKeyFile, naming: store.keyPath) { try store.load() }
                #expect(error.message.contains("0\(String(mode, radix: 8))"))
            }
        }
    }

    @Test func unreadableFilesAreErrorsNamingThem() async throws {
        try await withScratchFolder { scratch in
            let store = IdentityStore(stateFolder: scratch)
            let identity = try store.loadOrCreate()
            // A symbolic link is not followed, as everywhere in the state folder.
            let elsewhere = scratch.appending("elsewhere.pem")
            try writeFile(Array(identity.privateKeyPEM.utf8), to: elsewhere)
            #expect(chmod(elsewhere.string, 0o600) == 0)
            try FileManager.default.removeItem(atPath: store.keyPath.string)
            try FileManager.default.createSymbolicLink(atPath: store.keyPath.string, withDestinationPath: elsewhere.string)
            let link = try Self.expectOneLineError(.io, naming: store.keyPath) { try store.loadOrCreate() }
            #expect(link.message.contains("symbolic link"))
            // A folder where the certificate should be.
            try FileManager.default.removeItem(atPath: store.keyPath.string)
            try writeFile(Array(identity.privateKeyPEM.utf8), to: store.keyPath)
            #expect(chmod(store.keyPath.string, 0o600) == 0)
            try FileManager.default.removeItem(atPath: store.certificatePath.string)
            try FileManager.default.createDirectory(atPath: store.certificatePath.string, withIntermediateDirectories: false)
            try Self.expectOneLineError(.io, naming: store.certificatePath) { try store.loadOrCreate() }
            // A file too large to be a certificate.
            try FileManager.default.removeItem(atPath: store.certificatePath.string)
            try writeFile([UInt8](repeating: 0x41, count: 100_000), to: store.certificatePath)
            try Self.expectOneLineError(.io, naming: store.certificatePath) { try store.loadOrCreate() }
        }
    }

    @Test func abandonedTemporaryFoldersAreRemovedLiveOnesKept() async throws {
        try await withScratchFolder { scratch in
            let store = IdentityStore(stateFolder: scratch)
            // No process has a pid this large (Linux's pid_max is at most 2^22).
            let abandoned = scratch.appending(".identity.99999999-abc.tmp")
            let live = scratch.appending(".identity.\(getppid())-abc.tmp")
            for folder in [abandoned, live] {
                try FileManager.default.createDirectory(atPath: folder.string, withIntermediateDirectories: false)
                try writeFile(Array("junk".utf8), to: folder.appending("key.pem"))
            }
            _ = try store.loadOrCreate()
            #expect(try folderNames(scratch) == [live.lastComponent?.string, "identity"].compactMap { $0 }.sorted())
        }
    }

    @Test func anEmptyIdentityFolderIsFilled() async throws {
        try await withScratchFolder { scratch in
            let store = IdentityStore(stateFolder: scratch)
            try FileManager.default.createDirectory(atPath: store.folder.string, withIntermediateDirectories: false)
            let identity = try store.loadOrCreate()
            #expect(try store.load()?.nodeID == identity.nodeID)
        }
    }

    @Test func anIdentityFolderHoldingOtherFilesIsAnError() async throws {
        try await withScratchFolder { scratch in
            let store = IdentityStore(stateFolder: scratch)
            try FileManager.default.createDirectory(atPath: store.folder.string, withIntermediateDirectories: false)
            try writeFile(Array("notes".utf8), to: store.folder.appending("README"))
            try Self.expectOneLineError(.io, naming: store.folder) { try store.loadOrCreate() }
            #expect(try folderNames(scratch) == ["identity"], "the temporary folder is removed")
        }
    }

    @Test func concurrentFirstCallsAgreeOnOneIdentity() async throws {
        try await withScratchFolder { scratch in
            let store = IdentityStore(stateFolder: scratch)
            let ids = try await withThrowingTaskGroup(of: NodeFingerprint.self) { group in
                for _ in 0..<8 { group.addTask { try store.loadOrCreate().nodeID } }
                return try await group.reduce(into: Set<NodeFingerprint>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            #expect(try ids.first == store.load()?.nodeID)
            #expect(try folderNames(scratch) == ["identity"])
        }
    }

    /// Expects `body` to throw an `IdentityError` with `code`, one line, naming `path`.
    @discardableResult
    static func expectOneLineError(
        _ code: IdentityError.Code,
        naming path: FilePath,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Identity?
    ) throws -> IdentityError {
        let error = try #require(throws: IdentityError.self, sourceLocation: sourceLocation) { try body() }
        #expect(error.code == code, "\(error.detailedDescription())", sourceLocation: sourceLocation)
        #expect(error.message.contains(path.string), "\(error.message)", sourceLocation: sourceLocation)
        #expect(!error.message.contains("\n"), "\(error.message)", sourceLocation: sourceLocation)
        return error
    }
}
