import Foundation
import SystemPackage
import Testing

/// Runs `body` with a fresh, empty folder under the temporary directory, removed afterwards.
func withScratchFolder<Result>(_ body: (FilePath) async throws -> Result) async throws -> Result {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("oplog-identity-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(FilePath(path))
}

/// The bytes of the file at `path`, or `nil` when there is none.
func fileBytes(_ path: FilePath) -> [UInt8]? {
    FileManager.default.contents(atPath: path.string).map { Array($0) }
}

/// Writes `bytes` as the whole file at `path`.
func writeFile(_ bytes: [UInt8], to path: FilePath) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path.string))
}

/// The permission bits of the file or folder at `path`.
func permissionBits(_ path: FilePath) throws -> UInt16 {
    let attributes = try FileManager.default.attributesOfItem(atPath: path.string)
    return try #require((attributes[.posixPermissions] as? NSNumber)?.uint16Value)
}

/// The names in the folder at `path`, sorted.
func folderNames(_ path: FilePath) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path.string).sorted()
}
