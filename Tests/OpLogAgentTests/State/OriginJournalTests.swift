import Foundation
import OpLog
import OpLogReplication
import SystemPackage
import Testing

@testable import OpLogAgent

/// The origin journal's records: the documented line, read back typed, old files still load.
@Suite struct OriginJournalTests {
    private let session = try! SessionID(validating: "live-1")

    @Test(arguments: [
        (OriginJournal.Run(count: 3, origin: NodeID("studio")), #"[3,"studio"]"#),
        (OriginJournal.Run(count: 1, origin: nil), "[1,null]"),
        (OriginJournal.Run(count: 12, origin: NodeID("ñode/東京")), #"[12,"\u00f1ode/\u6771\u4eac"]"#),
    ])
    func aRunIsTheDocumentedLine(run: OriginJournal.Run, line: String) {
        #expect(run.record == Array((line + "\n").utf8))
        #expect(OriginJournal.Run(record: Array(line.utf8)) == run)
    }

    @Test(arguments: [
        "[0,null]", "[-1,null]", "[1.5,null]", "[1,2]", "[1]", "[1,null,3]", #"["1",null]"#, "{}", "", "[1,nul",
        #"[1,"a"]x"#,
    ])
    func aLineThatIsNotARunIsRefused(line: String) {
        #expect(OriginJournal.Run(record: Array(line.utf8)) == nil)
    }

    /// A journal written before the typed records (JSONSerialization escapes `/`) loads the
    /// same, up to its first damaged line, which is cut off with everything after it.
    @Test func aFileInTheOldFormatStillLoads() throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            let journal = OriginJournal(folder: folder)
            let good = "[2,\"studio\"]\n[1,null]\n[1,\"ñode\\/東京\"]\n"
            try writeFile(Array((good + "[4,\"lap[1,\"laptop\"]\n[1,null]\n").utf8), to: folder.path(of: .origins(self.session)))
            #expect(try journal.load() == [self.session: [NodeID("studio"), NodeID("studio"), nil, NodeID("ñode/東京")]])
            #expect(fileBytes(folder.path(of: .origins(self.session))) == Array(good.utf8))
        }
    }

    @Test func runsOfTheSameOriginShareARecord() throws {
        try withScratchFolder { scratch in
            let folder = try StateFolder(opening: scratch.appending("state"), opLogFolder: scratch.appending("op_log"))
            let journal = OriginJournal(folder: folder)
            try journal.append([NodeID("a"), NodeID("a"), nil, nil, nil, NodeID("b")][...], session: self.session)
            try journal.synchronize(self.session)
            let text = String(decoding: fileBytes(folder.path(of: .origins(self.session))) ?? [], as: UTF8.self)
            #expect(text == "[2,\"a\"]\n[3,null]\n[1,\"b\"]\n")
        }
    }
}
