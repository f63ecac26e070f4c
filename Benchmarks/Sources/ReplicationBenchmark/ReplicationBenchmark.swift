// Replication latency and bulk rate of two real `oplog-sync run` nodes on loopback, each beside a
// plain TCP pipe of the same bytes measured in the same run (DESIGN.md §6: timings live in
// benchmarks, as ratios to a floor). Nothing is asserted: the exit status says only that it ran.
//
//   ReplicationBenchmark --oplog-sync PATH      (Benchmarks/replication.sh builds both and runs it)

import Histogram

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
enum ReplicationBenchmark {
    static func main() {
        // First, before any thread: every thread started later inherits the blocked signals.
        CleanupRegistry.shared.installSignalHandling()
        do throws(BenchmarkError) {
            let settings = try BenchmarkSettings(arguments: CommandLine.arguments)
            try Self.run(settings)
        } catch {
            CleanupRegistry.shared.cleanUp()
            Output.error("ReplicationBenchmark: \(error)")
            exit(1)
        }
        CleanupRegistry.shared.cleanUp()
    }

    private static func run(_ settings: BenchmarkSettings) throws(BenchmarkError) {
        let liveLines = try LineSet(count: settings.warmUpLines + settings.liveLines, style: settings.opIDStyle)
        let bulkLines = try LineSet(count: settings.warmUpLines + settings.bulkLines, style: settings.opIDStyle)
        let averageLength = bulkLines.byteCount / bulkLines.lines.count
        Output.line("== oplog-sync: \(settings.executablePath)")
        Output.line("== entries: \(settings.opIDStyle.name); \(averageLength) bytes a line on average")
        Output.line(
            "== live: \(settings.liveRate) lines/s for \(settings.liveSeconds) s; bulk: \(settings.bulkLines) lines; "
                + "each after \(settings.warmUpLines) warm-up lines, on new nodes"
        )

        func live(_ transport: Transport) throws(BenchmarkError) -> LiveMeasurement {
            let measurement = try LiveMeasurement(transport, lines: liveLines, settings: settings)
            let latencies = measurement.latencies
            Output.line(
                "   live, \(transport.name): p50 \(latencies.valueAtPercentile(50) / 1000) us, "
                    + "p99 \(latencies.valueAtPercentile(99) / 1000) us, max \(latencies.max / 1000) us, "
                    + "\(measurement.lost) lost"
            )
            return measurement
        }
        func bulk(_ transport: Transport) throws(BenchmarkError) -> BulkMeasurement {
            let measurement = try BulkMeasurement(transport, lines: bulkLines, settings: settings)
            let rate = measurement.durableRate.map { "\(Int($0.rounded())) lines/s" } ?? "incomplete"
            Output.line("   bulk, \(transport.name): \(rate) until durable in B")
            return measurement
        }

        Output.line("== measuring (fresh roots and nodes for each)")
        let liveFloor = try live(.plainPipe)
        let liveOurs = try live(.nodes(synchronizesWrites: true))
        let liveWithoutSync = settings.measuresLiveWithoutSync ? try live(.nodes(synchronizesWrites: false)) : nil
        let bulkFloor = try bulk(.plainPipe)
        let bulkOurs = try bulk(.nodes(synchronizesWrites: true))
        let bulkWithoutSync = try bulk(.nodes(synchronizesWrites: false))
        Report(
            liveFloor: liveFloor,
            live: liveOurs,
            liveWithoutSync: liveWithoutSync,
            bulkFloor: bulkFloor,
            bulk: bulkOurs,
            bulkWithoutSync: bulkWithoutSync
        ).write()
    }
}
