import FoundationEssentials
import Glibc
import VigilConfig
import VigilStatus

/// The metrics listener, plain HTTP on a local address: `GET /metrics` (Prometheus), and the
/// read-only status page (VigilStatus/StatusPage.swift): `GET /` the page, `GET /picture` its
/// picture alone, `GET /status.json` the snapshot (docs/status-json.md), `GET /events` the events
/// as server-sent events (each on a thread of its own, at most 16 at once). Nothing here acts.
final class MetricsServer: @unchecked Sendable {
    private let shared: Shared
    private let history: FenceHistory?
    private let fd: Int32
    private let followers = Condition()
    private var following = 0
    static let maxFollowers = 16

    init(address: IPAddress, port: UInt16, shared: Shared, history: FenceHistory? = nil) throws {
        self.shared = shared
        self.history = history
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
        var keep = false
        defer { if !keep { close(c) } }
        SocketIO.setTimeout(c, seconds: 2)
        guard let request = SocketIO.readLine(c) else { return }
        while let h = SocketIO.readLine(c), !h.isEmpty {}  // headers
        let parts = request.split(separator: " ")
        let path = parts.count > 1 && parts[0] == "GET" ? String(parts[1].prefix { $0 != "?" }) : ""
        let (s, l, e) = shared.current()
        let html = "text/html; charset=utf-8"
        switch (path, s) {
        case ("/metrics", _):
            reply(c, 200, "text/plain; version=0.0.4", s?.prometheus(lateness: l, sendErrors: e) ?? "")
        case ("/", let s?):
            reply(c, 200, html, StatusPage.page(s, events: shared.events(after: 0, wait: 0), fences: history?.all() ?? []))
        case ("/picture", let s?):
            reply(c, 200, html, StatusPage.picture(s, events: shared.events(after: 0, wait: 0), fences: history?.all() ?? []))
        case ("/status.json", let s?):
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            reply(c, 200, "application/json", (try? encoder.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "{}")
        case ("/events", _):
            keep = follow(c)
        case ("/", nil), ("/picture", nil), ("/status.json", nil):
            reply(c, 503, "text/plain", "vigild is starting: no status yet\n")
        default:
            reply(c, 404, "text/plain", "not found: try /, /metrics, /status.json or /events\n")
        }
    }

    private func reply(_ c: Int32, _ code: Int, _ type: String, _ body: String) {
        let reason = [200: "OK", 404: "Not Found", 503: "Service Unavailable"][code] ?? "Error"
        let head = "HTTP/1.0 \(code) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        _ = SocketIO.writeAll(c, head + body)
    }

    /// Server-sent events on a thread of its own (returns whether it took the socket): new events
    /// as they happen, a comment every 15 s to notice a reader that went away.
    private func follow(_ c: Int32) -> Bool {
        let admitted: Bool = followers.locked {
            guard following < MetricsServer.maxFollowers else { return false }
            following += 1
            return true
        }
        guard admitted else {
            reply(c, 503, "text/plain", "too many event followers (\(MetricsServer.maxFollowers))\n")
            return false
        }
        spawnThread("vigild-page-events") { [self] in
            defer {
                close(c)
                followers.locked { following -= 1 }
            }
            SocketIO.setTimeout(c, seconds: 5)
            guard SocketIO.writeAll(c, "HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\r\nretry: 1000\n\n")
            else { return }
            var last = shared.events(after: 0, wait: 0).last?.seq ?? 0
            let encoder = JSONEncoder()
            while true {
                let new = shared.events(after: last, wait: 15)
                var out = new.isEmpty ? ": idle\n\n" : ""
                for e in new {
                    out += "id: \(e.seq)\ndata: " + ((try? encoder.encode(e)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n\n"
                    last = e.seq
                }
                guard SocketIO.writeAll(c, out) else { return }
            }
        }
        return true
    }
}
