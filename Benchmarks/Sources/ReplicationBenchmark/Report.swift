import Histogram

/// The table the run ends with: each measurement beside its floor, the ratio, and the issue's
/// target for it; then the figures given for information and the integrity checks.
struct Report {
    let liveFloor: LiveMeasurement
    let live: LiveMeasurement
    let liveWithoutSync: LiveMeasurement?
    let bulkFloor: BulkMeasurement
    let bulk: BulkMeasurement
    let bulkWithoutSync: BulkMeasurement

    func write() {
        let rowFormat = { (cells: [String]) in
            Output.line(
                Self.pad(cells[0], 46) + Self.pad(cells[1], 13, right: true) + Self.pad(cells[2], 13, right: true)
                    + Self.pad(cells[3], 12, right: true) + "   " + cells[4]
            )
        }
        Output.line("\n== results (live: append to A → line found in B; bulk: first write → all lines in B)\n")
        rowFormat(["measurement", "ours", "floor", "ours/floor", "target (issue #4)"])
        let p50 = Self.milliseconds(self.live.latencies.valueAtPercentile(50))
        let floorP50 = Self.milliseconds(self.liveFloor.latencies.valueAtPercentile(50))
        rowFormat([
            "live p50 latency, ms", Self.decimal(p50), Self.decimal(floorP50), Self.ratio(p50, floorP50),
            "p50 <= floor + 1 ms: " + Self.verdict(p50 <= floorP50 + 1)
                + " (ours - floor = \(Self.decimal(p50 - floorP50)) ms)",
        ])
        let p99 = Self.milliseconds(self.live.latencies.valueAtPercentile(99))
        let floorP99 = Self.milliseconds(self.liveFloor.latencies.valueAtPercentile(99))
        rowFormat([
            "live p99 latency, ms", Self.decimal(p99), Self.decimal(floorP99), Self.ratio(p99, floorP99),
            "p99 <= 10 ms: " + Self.verdict(p99 <= 10),
        ])
        let maximum = Self.milliseconds(self.live.latencies.max)
        let floorMaximum = Self.milliseconds(self.liveFloor.latencies.max)
        rowFormat([
            "live max latency, ms", Self.decimal(maximum), Self.decimal(floorMaximum),
            Self.ratio(maximum, floorMaximum), "",
        ])
        rowFormat([
            "bulk lines/s, fsync, until durable in B", Self.rate(self.bulk.durableRate),
            Self.rate(self.bulkFloor.durableRate),
            Self.ratio(self.bulk.durableRate, self.bulkFloor.durableRate),
            "ours >= 0.25 x floor: "
                + Self.verdict((self.bulk.durableRate ?? 0) >= 0.25 * (self.bulkFloor.durableRate ?? .infinity)),
        ])

        Output.line("\n-- for information\n")
        if let liveWithoutSync {
            for (name, percentile) in [("p50", 50.0), ("p99", 99.0)] {
                let ours = Self.milliseconds(liveWithoutSync.latencies.valueAtPercentile(percentile))
                let floor = Self.milliseconds(self.liveFloor.latencies.valueAtPercentile(percentile))
                rowFormat([
                    "live \(name) latency --no-fsync, ms", Self.decimal(ours), Self.decimal(floor),
                    Self.ratio(ours, floor), "",
                ])
            }
            let ours = Self.milliseconds(liveWithoutSync.latencies.max)
            rowFormat([
                "live max latency --no-fsync, ms", Self.decimal(ours), Self.decimal(floorMaximum),
                Self.ratio(ours, floorMaximum), "",
            ])
        }
        rowFormat([
            "bulk lines/s, --no-fsync, until durable in B", Self.rate(self.bulkWithoutSync.durableRate),
            Self.rate(self.bulkFloor.durableRate),
            Self.ratio(self.bulkWithoutSync.durableRate, self.bulkFloor.durableRate), "",
        ])
        for (name, bulk) in [("fsync", self.bulk), ("--no-fsync", self.bulkWithoutSync)] {
            rowFormat([
                "bulk lines/s, \(name), until visible in B", Self.rate(bulk.visibleRate),
                Self.rate(self.bulkFloor.visibleRate), Self.ratio(bulk.visibleRate, self.bulkFloor.visibleRate), "",
            ])
        }
        rowFormat([
            "bulk seconds, fsync, until durable in B", Self.seconds(self.bulk.durableAfter),
            Self.seconds(self.bulkFloor.durableAfter), "", "",
        ])
        rowFormat([
            "bulk seconds, --no-fsync, until durable in B", Self.seconds(self.bulkWithoutSync.durableAfter),
            Self.seconds(self.bulkFloor.durableAfter), "", "",
        ])
        Output.line(
            """

            "durable": the benchmark calls fdatasync(2) on B's file as soon as the last line is there and stops the
            clock when it returns, for ours and the floor alike (the floor's receiver never syncs by itself; the
            nodes sync every batch before acknowledging it unless --no-fsync). "visible": the clock stops at the
            read that found the last line.
            """
        )
        Output.line("\n-- checks (exact: every line written, byte for byte, once, in any order)\n")
        let lives = [self.liveFloor, self.live] + (self.liveWithoutSync.map { [$0] } ?? [])
        for live in lives {
            Output.line(
                "live, \(live.transport.name): \(live.appended - live.lost) of \(live.appended) arrived; writer at most \(Self.decimal(Self.milliseconds(live.maximumLateness))) ms late"
            )
            Self.printChecks(live.outcome)
        }
        for bulk in [self.bulkFloor, self.bulk, self.bulkWithoutSync] {
            Output.line(
                "bulk, \(bulk.transport.name): \(bulk.appended) lines, \(bulk.bytes) bytes in \(bulk.writes) write(s)"
            )
            Self.printChecks(bulk.outcome)
        }
    }

    private static func printChecks<Result>(_ outcome: MeasurementOutcome<Result>) {
        let record = outcome.record
        var reader = "    reader: \(record.arrivedCount) of \(record.arrivals.count) lines (warm-up included)"
        if record.duplicates > 0 { reader += ", \(record.duplicates) DUPLICATE arrivals" }
        if record.unknownLines > 0 { reader += ", \(record.unknownLines) UNKNOWN lines" }
        if let failure = record.failure { reader += "; stopped: \(failure)" }
        Output.line(reader)
        Output.line("    A (writer's file): \(outcome.source.summary); B: \(outcome.destination.summary)")
        for note in outcome.notes { Output.line("    \(note)") }
    }

    private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }

    private static func milliseconds(_ nanoseconds: UInt64) -> Double {
        Double(nanoseconds) / 1e6
    }

    private static func decimal(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        let sign = thousandths < 0 ? "-" : ""
        let magnitude = abs(thousandths)
        let fraction = String(magnitude % 1000)
        return "\(sign)\(magnitude / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    private static func ratio(_ ours: Double?, _ floor: Double?) -> String {
        guard let ours, let floor, floor > 0 else { return "-" }
        return Self.decimal(ours / floor)
    }

    private static func rate(_ value: Double?) -> String {
        guard let value else { return "incomplete" }
        return "\(Int(value.rounded()))"
    }

    private static func seconds(_ nanoseconds: UInt64?) -> String {
        guard let nanoseconds else { return "incomplete" }
        return Self.decimal(MonotonicClock.seconds(nanoseconds))
    }

    private static func verdict(_ isMet: Bool) -> String {
        isMet ? "met" : "MISSED"
    }
}
