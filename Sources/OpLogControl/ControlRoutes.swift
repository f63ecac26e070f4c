public import Hummingbird
public import OpLogAgent

/// Every route of the control endpoint (DESIGN §8), in one place. Each reads the node's latest
/// ``NodeStatus`` from its `StatusBoard` (or the metrics registry) and nothing else.
///
/// - `GET /`: the status page (``StatusPage``); `GET /status-page.css` and
///   `GET /status-page.js`: its style and script. No other assets, nothing from elsewhere.
/// - `GET /status`: ``StatusDocument`` as JSON.
/// - `GET /metrics`: Prometheus text format.
/// - `GET /healthz`: 200 `ok` when the session watcher and the listener run, else 503 naming
///   what does not.
///
/// `/status` and `/healthz` answer 503 before the node's first snapshot (while it indexes).
public enum ControlRoutes {
    /// The router of an endpoint that serves `board` and `metrics` as a node of `version`.
    public static func router(
        board: StatusBoard,
        metrics: MetricsRegistry,
        version: String
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { _, _ in
            Self.response(StatusPage.html, contentType: "text/html; charset=utf-8")
        }
        router.get("/status-page.css") { _, _ in
            Self.response(StatusPage.css, contentType: "text/css; charset=utf-8")
        }
        router.get("/status-page.js") { _, _ in
            Self.response(StatusPage.script, contentType: "text/javascript; charset=utf-8")
        }
        router.get("/status") { _, _ in
            guard let status = board.snapshot else { return Self.starting() }
            return Self.response(
                StatusDocument(status, version: version).encoded(),
                contentType: "application/json"
            )
        }
        router.get("/metrics") { _, _ in
            Self.response(metrics.exposition(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/healthz") { _, _ in
            guard let health = board.snapshot?.health else { return Self.starting() }
            guard health.isHealthy else {
                var stopped: [String] = []
                if !health.isWatching { stopped.append("watcher") }
                if !health.isListening { stopped.append("listener") }
                return Self.response(
                    Array("not running: \(stopped.joined(separator: ", "))\n".utf8),
                    status: .serviceUnavailable,
                    contentType: "text/plain; charset=utf-8"
                )
            }
            return Self.response(Array("ok\n".utf8), contentType: "text/plain; charset=utf-8")
        }
        return router
    }

    private static func starting() -> Response {
        Self.response(
            Array("starting: the node is indexing its sessions\n".utf8),
            status: .serviceUnavailable,
            contentType: "text/plain; charset=utf-8"
        )
    }

    private static func response(
        _ bytes: [UInt8],
        status: HTTPResponse.Status = .ok,
        contentType: String
    ) -> Response {
        Response(
            status: status,
            headers: [.contentType: contentType, .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
