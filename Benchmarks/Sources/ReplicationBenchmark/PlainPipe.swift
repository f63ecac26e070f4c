#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The floor: the least a replicator must do to carry appended lines from one file into another
/// over TCP, in two threads of this process and nothing else.
///
/// The **tail** waits for `IN_MODIFY` on the source, reads the new bytes and sends the complete
/// lines (TCP_NODELAY, loopback); the **receiver** appends the complete lines it reads from the
/// socket to the destination with `write(2)`. No framing, no acknowledgement, no `fsync` (a
/// measurement that wants durability calls `fdatasync` on the destination itself, for ours and
/// the floor alike).
struct PlainPipe: Replicator {
    private let stopping = StopFlag()
    private let tail: JoinableThread<String>
    private let receiver: JoinableThread<String>

    /// Connects a loopback socket pair and starts both threads.
    /// - Throws: ``BenchmarkError`` when a socket, the watch or a file cannot be set up.
    init(source: String, destination: String) throws(BenchmarkError) {
        let (sending, receiving) = try Self.connectedLoopbackPair()
        let watch: FileWatch
        let sourceTail: Int32
        let output: FileBytes.Appender
        do throws(BenchmarkError) {
            watch = try FileWatch(source)
            sourceTail = open(source, O_RDONLY | O_CLOEXEC)
            guard sourceTail >= 0 else { throw BenchmarkError.systemCall("cannot open \(source)") }
            output = try FileBytes.Appender(destination)
        } catch {
            closeDescriptor(sending)
            closeDescriptor(receiving)
            throw error
        }
        let stopping = self.stopping
        self.receiver = JoinableThread {
            let failure = Self.receive(from: receiving, into: output)
            return "\(failure ?? "ok"), \(CPUUsage.ofThisThread())"
        }
        self.tail = JoinableThread {
            let failure = Self.ship(from: sourceTail, watch: watch, to: sending, stopping: stopping)
            return "\(failure ?? "ok"), \(CPUUsage.ofThisThread())"
        }
    }

    /// Lets the tail send what the source holds, closes the connection and waits for the receiver
    /// to write the rest.
    func stop() -> [String] {
        self.stopping.set()
        let tail = self.tail.join()
        let receiver = self.receiver.join()
        return ["floor tail: \(tail); floor receiver: \(receiver)"]
    }

    /// The tail's loop; returns why it failed, or `nil`.
    private static func ship(from source: Int32, watch: FileWatch, to socket: Int32, stopping: StopFlag) -> String? {
        let tail = LineTail(descriptor: source)
        defer {
            watch.close()
            closeDescriptor(socket)
        }
        do throws(BenchmarkError) {
            while true {
                // Read before the last drain, so whatever was appended before `stop()` is sent.
                let isLastRound = stopping.isSet
                try tail.readCompleteLines { lines throws(BenchmarkError) in try Self.sendAll(lines, to: socket) }
                if isLastRound { return nil }
                _ = watch.wait(timeoutMilliseconds: 50)
            }
        } catch {
            return error.description
        }
    }

    /// The receiver's loop, until the tail closes the connection; returns why it failed, or `nil`.
    private static func receive(from socket: Int32, into output: FileBytes.Appender) -> String? {
        defer { output.close() }
        do throws(BenchmarkError) {
            // A socket's "end of file" is the tail closing it, so this reads until then.
            try LineTail(descriptor: socket).readCompleteLines { lines throws(BenchmarkError) in
                try output.append(lines)
            }
            return nil
        } catch {
            return error.description
        }
    }

    private static func sendAll(_ bytes: UnsafeRawBufferPointer, to socket: Int32) throws(BenchmarkError) {
        guard var cursor = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let sent = send(socket, cursor, remaining, Int32(MSG_NOSIGNAL))
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { throw BenchmarkError.systemCall("send") }
            cursor += sent
            remaining -= sent
        }
    }

    /// A connected TCP pair on 127.0.0.1, both ends with TCP_NODELAY: (sending, receiving).
    private static func connectedLoopbackPair() throws(BenchmarkError) -> (Int32, Int32) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw BenchmarkError.systemCall("socket") }
        defer { closeDescriptor(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let isListening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(listener, address, length) == 0 && listen(listener, 1) == 0
                    && getsockname(listener, address, &length) == 0
            }
        }
        guard isListening else { throw BenchmarkError.systemCall("cannot listen on 127.0.0.1") }
        let sending = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard sending >= 0 else { throw BenchmarkError.systemCall("socket") }
        let isConnected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(sending, $0, length) == 0 }
        }
        guard isConnected else {
            let code = errno
            closeDescriptor(sending)
            throw BenchmarkError.systemCall("cannot connect to the floor's listener", errno: code)
        }
        let receiving = accept(listener, nil, nil)
        guard receiving >= 0 else {
            let code = errno
            closeDescriptor(sending)
            throw BenchmarkError.systemCall("accept", errno: code)
        }
        var enabled: Int32 = 1
        for end in [sending, receiving] {
            setsockopt(end, Int32(IPPROTO_TCP), TCP_NODELAY, &enabled, socklen_t(MemoryLayout<Int32>.size))
        }
        return (sending, receiving)
    }
}
