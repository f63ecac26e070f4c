import AsyncHTTPClient
import NIOCore
import NIOHTTP1
public import OpLogAgent

/// Asks a running node's control endpoint for its status: what `oplog-sync status` prints.
///
/// One client per call (AsyncHTTPClient, shut down before the call returns), which does not
/// retry a connection that fails: no node listening is an answer at once, not after a timeout.
public struct StatusClient: Sendable {
    /// The status as the node sent it, byte for byte, and decoded.
    public struct Answer: Sendable {
        public var bytes: [UInt8]
        public var document: StatusDocument
    }

    public let address: PeerAddress
    /// How long the whole request may take.
    public var timeout: Duration

    public init(address: PeerAddress, timeout: Duration = .seconds(10)) {
        self.address = address
        self.timeout = timeout
    }

    /// `GET /status` from the node at ``address``.
    /// - Throws: ``ControlError`` `.unreachable` when nothing answers there (refused, timed out),
    ///   `.badResponse` when what answers is not a node's status (another status code, a body
    ///   that is not the status document, or one over 64 MiB).
    public func fetch() async throws(ControlError) -> Answer {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = HTTPClient.Configuration.Timeout(
            connect: TimeAmount(self.timeout),
            read: TimeAmount(self.timeout)
        )
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let result: Result<Answer, ControlError>
        do {
            result = .success(try await self.fetch(with: client))
        } catch let error as ControlError {
            result = .failure(error)
        } catch {
            result = .failure(
                ControlError(
                    code: .unreachable,
                    message: "no node answers at \(self.address): \(Self.describe(error))",
                    cause: error
                )
            )
        }
        try? await client.shutdown()
        return try result.get()
    }

    private func fetch(with client: HTTPClient) async throws -> Answer {
        let request = HTTPClientRequest(url: "http://\(self.address)/status")
        let response = try await client.execute(request, timeout: TimeAmount(self.timeout))
        let body = try await response.body.collect(upTo: 64 << 20)
        let bytes = Array(body.readableBytesView)
        guard response.status == .ok else {
            throw ControlError(
                code: .badResponse,
                message: "the node at \(self.address) answered \(response.status.code) \(response.status.reasonPhrase)"
                    + (bytes.isEmpty ? "" : ": \(String(decoding: bytes.prefix(200), as: UTF8.self))")
                    .trimmingSuffix(while: { $0 == "\n" })
            )
        }
        do {
            return Answer(bytes: bytes, document: try StatusDocument(decoding: bytes))
        } catch {
            throw ControlError(
                code: .badResponse,
                message: "what answers at \(self.address) sent no node status: \(error)",
                cause: error
            )
        }
    }

    /// A connection error in a few words (`connection refused`), anything else as it describes
    /// itself.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return error.systemDescription }
        if let error = error as? HTTPClientError, error == .connectTimeout || error == .deadlineExceeded {
            return "timed out"
        }
        return "\(error)"
    }
}

extension String {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> String {
        var text = self
        while let last = text.last, predicate(last) { text.removeLast() }
        return text
    }
}
