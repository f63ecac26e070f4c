import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import OpLogIdentity
import Synchronization

/// Clients that are not nodes, for the security tests: a plain TCP client and a TLS client with
/// a certificate of its own, each recording every application byte a node sends it.
enum LinkProbe {
    /// What a probe connection saw.
    struct Outcome: Sendable {
        /// The application bytes received (after TLS, for a TLS probe).
        var received: [UInt8]
        /// How the connection ended, when not by the node closing it cleanly.
        var error: String?
    }

    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// The frame an oplog-sync node of protocol version 4 sent first, in plaintext: its hello
    /// (`OPLS`, version, read-only flag, node id, nonce), length-prefixed.
    static func oldProtocolHello(nodeID: String) -> [UInt8] {
        let id = Array(nodeID.utf8)
        let payload: [UInt8] =
            [0x01] + Array("OPLS".utf8) + [0x00, 0x04, 0x00] + bigEndian(UInt32(id.count)) + id
            + bigEndian(UInt32(16)) + Array(repeating: 7, count: 16)
        return bigEndian(UInt32(payload.count)) + payload
    }

    /// The first bytes of a frame announcing `length` bytes of payload.
    static func frameStart(length: UInt32, filler: Int) -> [UInt8] {
        bigEndian(length) + [0x10] + Array(repeating: 0x41, count: max(0, filler - 1))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    /// Connects to `127.0.0.1:port` over plain TCP, sends `bytes`, and reads until the node
    /// closes the connection (at most `timeout`).
    static func plain(port: Int, sending bytes: [UInt8], timeout: Duration = .seconds(30)) async throws -> Outcome {
        let connection = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try Connection(wrappingChannelSynchronously: channel) }
            }
        return await Self.exchange(connection, sending: bytes, timeout: timeout)
    }

    /// Connects to `127.0.0.1:port` over TLS 1.3 presenting `identity`'s certificate and
    /// pinning `expecting` (the node's real ID, so that only the node's check can refuse), sends
    /// `bytes` as application data, and reads until the connection ends (at most `timeout`).
    static func tls(
        port: Int,
        identity: Identity,
        expecting: NodeFingerprint,
        sending bytes: [UInt8],
        timeout: Duration = .seconds(30)
    ) async throws -> Outcome {
        let tls = try LinkTLS(identity: identity)
        let connection = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try tls.makeClientHandler(expecting: expecting, onRefusal: { _ in })
                    )
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        return await Self.exchange(connection, sending: bytes, timeout: timeout)
    }

    private static func exchange(_ connection: Connection, sending bytes: [UInt8], timeout: Duration) async -> Outcome {
        let received = Mutex<[UInt8]>([])
        var failure: String?
        do {
            try await withDeadline(timeout, "the node to close the probe's connection") {
                try await connection.executeThenClose { inbound, outbound in
                    do {
                        // Sent in pieces: a node that closes early makes the rest fail, and what
                        // it sent back is still read below.
                        var offset = 0
                        while offset < bytes.count {
                            let end = min(bytes.count, offset + 65_536)
                            try await outbound.write(ByteBuffer(bytes: bytes[offset..<end]))
                            offset = end
                        }
                    } catch {}
                    for try await buffer in inbound {
                        received.withLock { $0 += buffer.readableBytesView }
                    }
                }
            }
        } catch {
            failure = "\(error)"
        }
        return Outcome(received: received.withLock { $0 }, error: failure)
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in these bytes.
    func containsBytes(_ needle: some Collection<UInt8>) -> Bool {
        self.firstRange(of: Array(needle)) != nil
    }
}

/// The resident set size of process `pid` in bytes (`VmRSS` of `/proc/PID/status`).
func residentSetSize(of pid: pid_t) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
    else { throw AgentFailure("no VmRSS for \(pid)") }
    return kilobytes * 1024
}

/// Samples a process's resident set size every 20 ms until stopped, keeping the peak.
final class PeakSampler: Sendable {
    let pid: pid_t
    private let state: Mutex<(peak: Int, isRunning: Bool)>

    init(pid: pid_t, initial: Int) {
        self.pid = pid
        self.state = Mutex((initial, true))
    }

    /// The largest size seen.
    var peak: Int { self.state.withLock { $0.peak } }

    /// Samples until ``stop()``.
    func run() async throws {
        while self.state.withLock({ $0.isRunning }) {
            if let now = try? residentSetSize(of: self.pid) {
                self.state.withLock { $0.peak = max($0.peak, now) }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func stop() {
        self.state.withLock { $0.isRunning = false }
    }
}
