import Logging
import NIOCore
import OpLogAgent
import ServiceLifecycle
import Testing

@testable import OpLogControl

/// The endpoint as a service on a real socket (port 0), and the client `oplog-sync status` uses
/// against it.
@Suite struct ControlEndpointTests {
    private let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Runs an endpoint on 127.0.0.1:`port` in a service group and calls `body` with its bound
    /// address; shuts it down gracefully after.
    private func withEndpoint<T: Sendable>(
        board: StatusBoard,
        port: Int = 0,
        _ body: @Sendable (PeerAddress) async throws -> T
    ) async throws -> T {
        let (addresses, continuation) = AsyncStream.makeStream(of: String.self)
        let endpoint = ControlEndpoint(
            address: PeerAddress(host: "127.0.0.1", port: port),
            board: board,
            metrics: MetricsRegistry(),
            version: "9.8.7",
            logger: self.logger
        ) { address in continuation.yield(address) }
        let group = ServiceGroup(services: [endpoint], logger: self.logger)
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            var iterator = addresses.makeAsyncIterator()
            guard let bound = await iterator.next() else { throw ControlError(code: .serve, message: "never served") }
            let value = try await body(try PeerAddress(parsing: bound))
            await group.triggerGracefulShutdown()
            while let result = try await tasks.next() {
                if let result { return result }
            }
            return value
        }
    }

    @Test func theClientGetsTheStatusByteForByte() async throws {
        let board = StatusBoard()
        board.publish(sampleStatus())
        try await self.withEndpoint(board: board) { address in
            #expect(address.host == "127.0.0.1" && address.port != 0, "the bound port, not 0")
            let answer = try await StatusClient(address: address).fetch()
            #expect(answer.bytes == StatusDocument(sampleStatus(), version: "9.8.7").encoded())
            #expect(answer.document == StatusDocument(sampleStatus(), version: "9.8.7"))
        }
    }

    @Test func aStartingNodeIsABadResponse() async throws {
        try await self.withEndpoint(board: StatusBoard()) { address in
            let error = await #expect(throws: ControlError.self) { try await StatusClient(address: address).fetch() }
            #expect(error?.code == .badResponse)
            #expect(error?.message.contains("503") == true, "\(String(describing: error))")
        }
    }

    @Test func noNodeListeningIsUnreachableAtOnce() async throws {
        // The port of an endpoint that served a moment ago and is shut down now.
        let address = try await self.withEndpoint(board: StatusBoard()) { $0 }
        let port = address.port
        let error = await #expect(throws: ControlError.self) { try await StatusClient(address: address).fetch() }
        #expect(error?.code == .unreachable)
        #expect(error?.message.hasPrefix("no node answers at 127.0.0.1:\(port): ") == true, "\(String(describing: error))")
        #expect(error?.message.contains("\n") == false)
    }

    @Test func aBusyPortIsABindError() async throws {
        let board = StatusBoard()
        board.publish(sampleStatus())
        try await self.withEndpoint(board: board) { address in
            let second = ControlEndpoint(
                address: address,
                board: board,
                metrics: MetricsRegistry(),
                version: "1",
                logger: self.logger
            )
            let error = await #expect(throws: ControlError.self) { try await second.run() }
            #expect(error?.code == .bind)
            #expect(error?.message == "cannot serve http on \(address): address already in use")
        }
    }
}
