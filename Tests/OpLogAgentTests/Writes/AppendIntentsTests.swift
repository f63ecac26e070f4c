import Foundation
import OpLog
import OpLogReplication
import SystemPackage
import Testing

@testable import OpLogAgent

/// The record of the node's last append: read back as written, the same length whatever the
/// numbers, written over the last one in place, and readable when an earlier version wrote it.
@Suite struct AppendIntentsTests {
    private let session = try! SessionID(validating: "live-1")

    @Test(arguments: [
        AppendIntents.Intent(offset: 0, length: 1),
        AppendIntents.Intent(offset: 4_096, length: 262_145),
        AppendIntents.Intent(offset: .max, length: .max),
    ])
    func aRecordReadsBackAsWritten(intent: AppendIntents.Intent) throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            let intents = AppendIntents(folder: folder)
            try intents.record(intent, session: self.session)
            #expect(intents.intent(of: self.session) == intent)
            #expect(fileBytes(folder.path(of: .appending(self.session)))?.count == AppendIntents.recordLength)
            #expect(intents.sessions() == [self.session])
        }
    }

    @Test func aShorterRecordReplacesALongerOneWhole() throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            let intents = AppendIntents(folder: folder)
            try intents.record(AppendIntents.Intent(offset: 123_456_789_012, length: 987_654_321), session: self.session)
            try intents.record(AppendIntents.Intent(offset: 7, length: 9), session: self.session)
            #expect(intents.intent(of: self.session) == AppendIntents.Intent(offset: 7, length: 9))
        }
    }

    /// Earlier versions replaced the file with `OFFSET LENGTH\n`, of any length; such a file
    /// still reads, and the next record is written over it whole.
    @Test func aRecordOfTheEarlierLayoutStillReads() throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            let intents = AppendIntents(folder: folder)
            try writeFile(Array("4096 300\n".utf8), to: folder.path(of: .appending(self.session)))
            #expect(intents.intent(of: self.session) == AppendIntents.Intent(offset: 4_096, length: 300))
            try writeFile(Array((String(repeating: "9", count: 60) + " 1\n").utf8), to: folder.path(of: .appending(self.session)))
            #expect(intents.intent(of: self.session) == nil, "unreadable: nothing is cut")
            try intents.record(AppendIntents.Intent(offset: 5, length: 6), session: self.session)
            #expect(intents.intent(of: self.session) == AppendIntents.Intent(offset: 5, length: 6))
            #expect(fileBytes(folder.path(of: .appending(self.session)))?.count == AppendIntents.recordLength)
        }
    }
}
