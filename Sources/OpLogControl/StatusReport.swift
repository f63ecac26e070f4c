public import Foundation

/// `oplog-sync status` as a person reads it: the node, then a table of peers (link state, lag
/// in entries and age, last seen, traffic) with a progress bar, rate and ETA under each peer
/// catching up, a table of sessions, and any refused IDs with the option that admits each.
///
/// ```
/// node studio · oplog-sync 0.8.0 · listening on 127.0.0.1:7420 · read-write
///
/// PEER    STATE      ADDRESS              LAG  LAG AGE  LAST SEEN      SENT  RECEIVED
/// backup  connected  127.0.0.1:44144  252,544  53s      2s ago     37.1 MiB   5.7 KiB
///         catching up [#######-------------]  37%  149,615 of 402,159 · 11,068/s · ETA 23s
///
/// SESSION       ENTRIES  LAMPORT  CHECKPOINT
/// drums-take-3  400,000  400,000  -
/// ```
///
/// The peer's state is `connected`, `offline` (a node id, no link) or `not answered` (a
/// configured address whose node has not answered; its id shows as `?`).
public enum StatusReport {
    /// The report of `document` as read at `now` (for "3s ago"), lines ending in `\n`.
    public static func render(_ document: StatusDocument, now: Date = Date()) -> String {
        var lines: [String] = []
        lines.append(
            "node \(document.nodeID) · oplog-sync \(document.version) · listening on \(document.listen) · "
                + (document.readOnly ? "read-only" : "read-write")
        )
        lines.append("")
        if document.peers.isEmpty {
            lines.append("no peers")
        } else {
            var table = TextTable(
                header: ["PEER", "STATE", "ADDRESS", "LAG", "LAG AGE", "LAST SEEN", "SENT", "RECEIVED"],
                rightAligned: [3, 6, 7]
            )
            for peer in document.peers {
                table.add([
                    peer.id ?? "?",
                    Self.state(of: peer),
                    peer.address ?? "-",
                    Self.grouped(peer.lagEntries),
                    peer.lagEntries == 0 ? "-" : Self.duration(peer.lagSeconds),
                    Self.ago(peer.lastSeen, now: now),
                    Self.bytes(peer.bytesSent),
                    Self.bytes(peer.bytesReceived),
                ])
                if let catchUp = peer.catchUp { table.addNote(Self.catchUpLine(catchUp), indent: 1) }
            }
            lines += table.lines()
        }
        lines.append("")
        if document.sessions.isEmpty {
            lines.append("no sessions")
        } else {
            var table = TextTable(header: ["SESSION", "ENTRIES", "LAMPORT", "CHECKPOINT"], rightAligned: [1, 2])
            for session in document.sessions {
                table.add([
                    session.id,
                    Self.grouped(UInt64(max(0, session.entries))),
                    session.lamportTimestamp.map(Self.grouped) ?? "-",
                    session.checkpoint ?? "-",
                ])
            }
            lines += table.lines()
        }
        if !document.pending.isEmpty {
            lines.append("")
            lines.append("refused, not admitted (restart with the option shown to let one in):")
            var table = TextTable(header: ["ID", "ADDRESS", "LAST ATTEMPT", "ADMIT WITH"], rightAligned: [])
            for pending in document.pending {
                table.add([
                    pending.id, pending.address, Self.ago(pending.lastAttempt, now: now), "--accept \(pending.id)",
                ])
            }
            lines += table.lines()
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// `catching up [########------------]  40%  80,000 of 200,000 · 9,120/s · ETA 13s`.
    static func catchUpLine(_ catchUp: StatusDocument.CatchUp) -> String {
        let fraction = catchUp.total == 0 ? 1 : min(1, Double(catchUp.done) / Double(catchUp.total))
        let width = 20
        let filled = Int((fraction * Double(width)).rounded(.down))
        var line =
            "catching up [" + String(repeating: "#", count: filled)
            + String(repeating: "-", count: width - filled) + "] "
        line += String(repeating: " ", count: 3 - min(3, "\(Int(fraction * 100))".count)) + "\(Int(fraction * 100))%"
        line += "  \(Self.grouped(catchUp.done)) of \(Self.grouped(catchUp.total))"
        line += catchUp.ratePerSecond > 0 ? " · \(Self.grouped(UInt64(catchUp.ratePerSecond.rounded())))/s" : ""
        line += " · ETA " + (catchUp.etaSeconds.map(Self.duration) ?? "unknown")
        return line
    }

    private static func state(of peer: StatusDocument.Peer) -> String {
        if peer.connected { return "connected" }
        // A configured address that nothing has answered at since this node started.
        if peer.lastSeen == nil, peer.address != nil { return "not answered" }
        return "offline"
    }

    /// `1,234,567`.
    static func grouped(_ value: UInt64) -> String {
        let digits = Array(String(value))
        var text = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return text
    }

    /// `0s`, `42s`, `3m05s`, `2h03m`, `4d02h`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(max(0, seconds).rounded())
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        switch total {
        case ..<60: return "\(total)s"
        case ..<3600: return "\(total / 60)m\(two(total % 60))s"
        case ..<86_400: return "\(total / 3600)h\(two(total % 3600 / 60))m"
        default: return "\(total / 86_400)d\(two(total % 86_400 / 3600))h"
        }
    }

    /// `512 B`, `1.2 KiB`, `3.4 MiB`, `5.6 GiB`.
    static func bytes(_ count: UInt64) -> String {
        guard count >= 1024 else { return "\(count) B" }
        var value = Double(count)
        for unit in ["KiB", "MiB", "GiB", "TiB"] {
            value /= 1024
            if value < 1024 || unit == "TiB" { return "\((value * 10).rounded() / 10) \(unit)" }
        }
        preconditionFailure("the loop returns at TiB")
    }

    /// `never`, `just now`, `12s ago` for an RFC 3339 time (the time itself if it does not
    /// parse).
    static func ago(_ time: String?, now: Date) -> String {
        guard let time else { return "never" }
        guard let date = Self.parse(time) else { return time }
        let seconds = now.timeIntervalSince(date)
        return seconds < 1 ? "just now" : "\(Self.duration(seconds)) ago"
    }

    private static func parse(_ time: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: time) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: time)
    }
}

/// Rows of text in columns as wide as their widest cell, two spaces apart, with notes (a
/// catch-up's bar) on lines of their own under a row.
struct TextTable {
    private enum Line {
        case row([String])
        case note(String, indent: Int)
    }

    private let header: [String]
    private let rightAligned: Set<Int>
    private var body: [Line] = []

    init(header: [String], rightAligned: Set<Int>) {
        self.header = header
        self.rightAligned = rightAligned
    }

    mutating func add(_ row: [String]) {
        precondition(row.count == self.header.count, "a row has one cell per column")
        self.body.append(.row(row))
    }

    /// A line under the last row, starting at column `indent`.
    mutating func addNote(_ text: String, indent: Int) {
        self.body.append(.note(text, indent: indent))
    }

    func lines() -> [String] {
        var widths = self.header.map(\.count)
        for case .row(let row) in self.body {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        func format(_ row: [String]) -> String {
            let cells = row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return self.rightAligned.contains(column) ? padding + cell : cell + padding
            }
            var line = cells.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }
        return [format(self.header)]
            + self.body.map { line in
                switch line {
                case .row(let row):
                    return format(row)
                case .note(let text, let indent):
                    return String(repeating: " ", count: widths.prefix(indent).reduce(0) { $0 + $1 + 2 }) + text
                }
            }
    }
}
