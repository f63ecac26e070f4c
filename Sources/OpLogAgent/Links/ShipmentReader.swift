import Logging
import OpLog
import OpLogReplication
import OpLogWire

/// Turns a ``Shipment`` into the ``EntryBatch`` it names, reading the lines from the local file
/// when the link's writer takes it (see ``LinkOutbox``): shipped byte for byte.
struct ShipmentReader: Sendable {
    let layout: OpLogLayout
    let logger: Logger

    /// The batch of the shipment's lines.
    func batch(for shipment: Shipment) -> EntryBatch {
        EntryBatch(shipment, lines: self.lines(of: shipment))
    }

    /// Reads the shipment's lines from the local file: one read for a compact run of lines,
    /// one per line otherwise. A line no longer where it was (the file was replaced) is left out.
    func lines(of shipment: Shipment) -> [[UInt8]] {
        guard let first = shipment.locations.first else { return [] }
        let log = SessionLog(layout: self.layout, sessionID: shipment.session)
        let start = shipment.locations.map(\.offset).min() ?? first.offset
        let end = shipment.locations.map { $0.offset + Int64($0.length) + 1 }.max() ?? start
        let total = shipment.locations.reduce(0) { $0 + Int64($1.length) + 1 }
        do {
            if end - start <= 2 * total + 65_536 {
                let bytes = try log.readBytes(in: start..<end)
                return shipment.locations.compactMap { location in
                    let lower = Int(location.offset - start)
                    let upper = lower + Int(location.length)
                    guard upper < bytes.count, bytes[upper] == UInt8(ascii: "\n") else { return nil }
                    return Array(bytes[lower..<upper])
                }
            }
            return try shipment.locations.compactMap { location throws(OpLogError) in
                let bytes = try log.readBytes(in: location.offset..<(location.offset + Int64(location.length) + 1))
                guard bytes.count == Int(location.length) + 1, bytes.last == UInt8(ascii: "\n") else { return nil }
                return Array(bytes.dropLast())
            }
        } catch {
            self.logger.error(
                "cannot read lines to ship",
                metadata: ["session": "\(shipment.session)", "error": "\(error)"]
            )
            return []
        }
    }
}
