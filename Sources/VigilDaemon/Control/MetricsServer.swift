import Glibc
import VigilConfig
import VigilStatus

/// Prometheus endpoint: `GET /metrics` over plain HTTP on a local address.
final class MetricsServer: @unchecked Sendable {
    private let shared: Shared
    private let fd: Int32

    init(address: IPAddress, port: UInt16, shared: Shared) throws {
        self.shared = shared
        let fd = try check(socket(address.isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0), "metrics socket")
        do {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, Int32(1), "SO_REUSEADDR")
            try SocketAddress(address, port: port).withSockaddr { try check(bind(fd, $0, $1), "bind metrics \(address):\(port)") }
            try check(listen(fd, 16), "listen metrics")
        } catch {
            close(fd)
            throw error
        }
        self.fd = fd
    }

    func start() {
        spawnThread("vigild-metrics") { [self] in
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { if errno == EINTR { continue } else { return } }
                _ = fcntl(c, F_SETFD, FD_CLOEXEC)  // not inherited by an agent spawned meanwhile (ControlServer)
                serve(c)
            }
        }
    }

    private func serve(_ c: Int32) {
        defer { close(c) }
        SocketIO.setTimeout(c, seconds: 2)
        guard let request = SocketIO.readLine(c) else { return }
        while let h = SocketIO.readLine(c), !h.isEmpty {}  // headers
        let (s, l, e) = shared.current()
        let ok = request.hasPrefix("GET /metrics")
        let body = ok ? (s?.prometheus(lateness: l, sendErrors: e) ?? "") : "not found: try /metrics\n"
        let head = "HTTP/1.0 \(ok ? "200 OK" : "404 Not Found")\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        _ = SocketIO.writeAll(c, head + body)
    }
}
