import Foundation
import OpLog
import SystemPackage
import Testing

@testable import OpLogAgent

/// Runs `body` with a fresh, empty folder under the temporary directory, removed afterwards.
func withScratchFolder<Result>(_ body: (FilePath) throws -> Result) throws -> Result {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("oplog-state-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(FilePath(path))
}

/// Runs `body` with a fresh, empty folder under the temporary directory, removed afterwards.
func withAsyncScratchFolder<Result>(_ body: (FilePath) async throws -> Result) async throws -> Result {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("oplog-state-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(FilePath(path))
}

/// The bytes of the file at `path`, or `nil` when there is none.
func fileBytes(_ path: FilePath) -> [UInt8]? {
    FileManager.default.contents(atPath: path.string).map { Array($0) }
}

/// Writes `bytes` as the whole file at `path`, creating its folder.
func writeFile(_ bytes: [UInt8], to path: FilePath) throws {
    try FileManager.default.createDirectory(
        atPath: path.removingLastComponent().string,
        withIntermediateDirectories: true
    )
    try Data(bytes).write(to: URL(fileURLWithPath: path.string))
}

/// Appends `text` to the file at `path`, as a writer that crashed mid-record leaves it.
func appendToFile(_ text: String, at path: FilePath) throws {
    let handle = try #require(FileHandle(forWritingAtPath: path.string))
    defer { handle.closeFile() }
    handle.seekToEndOfFile()
    handle.write(Data(text.utf8))
}

/// The permission bits of the file or folder at `path`.
func permissionBits(_ path: FilePath) throws -> UInt16 {
    let attributes = try FileManager.default.attributesOfItem(atPath: path.string)
    return try #require((attributes[.posixPermissions] as? NSNumber)?.uint16Value)
}

/// A content id made of one repeated hex digit.
func contentID(_ digit: Character) throws -> OpID {
    try OpID(validating: "sha256:" + String(repeating: digit, count: 64))
}
