import FoundationEssentials
import Glibc
import VigilCore
import VigilStatus

/// The control socket: a Unix stream socket (mode 0660, owner root, group configurable). A client
/// sends one line (`status`, `events`, `events follow`, `leave`, `reload`) and reads the answer
/// until the server closes. Commands that change anything need the peer to be root (SO_PEERCRED).
final class ControlServer: @unchecked Sendable {
    private let path: String
    private let shared: Shared
    private let wake: WakePipe
    private let log: Log
    private let fd: Int32
    private let nodes: [String: NodeID]
    private let history: FenceHistory?
    private let resourceIDs: [String]
    private let groups: [String: String]

    init(path: String, group: String?, shared: Shared, wake: WakePipe, log: Log, nodes: [String: NodeID] = [:],
         history: FenceHistory? = nil, resources: [(id: String, group: String?)] = []) throws {
        self.nodes = nodes
        resourceIDs = resources.map(\.id)
        var g: [String: String] = [:]
        for r in resources { if let n = r.group, g[n] == nil { g[n] = r.id } }
        groups = g
        self.history = history
        self.path = path
        self.shared = shared
        self.wake = wake
        self.log = log
        guard var addr = SocketIO.unixAddress(path) else { throw SystemError("control socket path too long: \(path)", errno: ENAMETOOLONG) }
        unlink(path)
        let fd = try check(socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0), "control socket")
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard r == 0, listen(fd, 16) == 0 else {
            let e = errno
            close(fd)
            throw SystemError("cannot listen on \(path)", errno: e)
        }
        var gid: gid_t = 0
        if let group {
            guard let g = getgrnam(group) else {
                close(fd)
                throw SystemError("control group '\(group)' does not exist", errno: ENOENT)
            }
            gid = g.pointee.gr_gid
        }
        chown(path, 0, gid)
        chmod(path, 0o660)
        self.fd = fd
    }

    func start() {
        spawnThread("vigild-control") { [self] in acceptLoop() }
    }

    func remove() { unlink(path) }

    private func acceptLoop() {
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 {
                if errno == EINTR { continue }
                log.log(.error, "control socket accept failed: \(String(cString: strerror(errno)))")
                return
            }
            spawnThread("vigild-client") { [self] in serve(c) }
        }
    }

    private func peerUID(_ c: Int32) -> uid_t? {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (Glibc hides it behind _GNU_SOURCE)
        var cred: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var len = socklen_t(12)
        return getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.uid : nil
    }

    private func serve(_ c: Int32) {
        defer { close(c) }
        SocketIO.setTimeout(c, seconds: 5)
        guard let line = SocketIO.readLine(c) else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        switch line {
        case "status":
            let (s, _, _) = shared.current()
            guard let s, let data = try? encoder.encode(s) else { _ = SocketIO.writeAll(c, "{\"error\":\"starting\"}\n"); return }
            _ = SocketIO.writeAll(c, String(decoding: data, as: UTF8.self) + "\n")
        case "metrics":
            let (s, l, e) = shared.current()
            _ = SocketIO.writeAll(c, s?.prometheus(lateness: l, sendErrors: e) ?? "")
        case "events", "events follow":
            streamEvents(c, follow: line == "events follow", encoder: encoder)
        case "leave", "reload":
            guard peerUID(c) == 0 else {
                _ = SocketIO.writeAll(c, "{\"error\":\"'\(line)' changes the cluster: only root may do it\"}\n")
                return
            }
            shared.request(line == "leave" ? .leave : .reload)
            wake.poke(0)
            _ = SocketIO.writeAll(c, "{\"ok\":true}\n")
        case "fence history":
            for e in history?.all() ?? [] {
                guard let d = try? encoder.encode(e), SocketIO.writeAll(c, String(decoding: d, as: UTF8.self) + "\n") else { return }
            }
        default:
            if line.hasPrefix("fence ") { return fenceRequest(c, line) }
            if line.hasPrefix("resource ") || line.hasPrefix("node ") { return adminRequest(c, line) }
            _ = SocketIO.writeAll(c, "{\"error\":\"unknown command\"}\n")
        }
    }

    /// `fence NODE off|reboot|on` and `fence confirm NODE`: root only; the answer only says the
    /// request was handed over (the result comes as events).
    private func fenceRequest(_ c: Int32, _ line: String) {
        let words = line.split(separator: " ").map(String.init)
        func answer(_ s: String) { _ = SocketIO.writeAll(c, s + "\n") }
        guard peerUID(c) == 0 else { return answer("{\"error\":\"fencing: only root may do it\"}") }
        guard history != nil else { return answer("{\"error\":\"fencing is not enabled in the config\"}") }
        let request: Shared.Request
        if words.count == 3, words[1] == "confirm", let n = nodes[words[2]] {
            request = .confirm(n)
        } else if words.count == 3, let n = nodes[words[1]], let a = FenceAction(rawValue: words[2]) {
            request = .fence(n, a)
        } else {
            return answer("{\"error\":\"usage: fence NODE off|reboot|on, fence confirm NODE (nodes: \(nodes.keys.sorted().joined(separator: ", ")))\"}")
        }
        shared.request(request)
        wake.poke(0)
        answer("{\"ok\":true}")
    }

    /// `resource move ID [NODE]`, `resource ban ID [NODE]`, `resource clear|cleanup|restart ID`,
    /// `node standby|online|maintenance|ready NODE`: root only; handed to the core, which answers with a
    /// resource_admin or resource_admin_refused event.
    private func adminRequest(_ c: Int32, _ line: String) {
        let w = line.split(separator: " ").map(String.init)
        func answer(_ s: String) { _ = SocketIO.writeAll(c, s + "\n") }
        guard peerUID(c) == 0 else { return answer("{\"error\":\"changing resources: only root may do it\"}") }
        guard !resourceIDs.isEmpty else { return answer("{\"error\":\"no resources are configured\"}") }
        func node(_ i: Int) -> NodeID?? { w.count > i ? nodes[w[i]].map { .some($0) } : .some(nil) }
        let usage = "{\"error\":\"usage: resource move|ban ID [NODE], resource clear|cleanup|restart ID, node standby|online|maintenance|ready NODE "
            + "(resources: \(resourceIDs.joined(separator: ", ")); nodes: \(nodes.keys.sorted().joined(separator: ", ")))\"}"
        var request: AdminRequest?
        if w.count == 3, w[0] == "node", let n = nodes[w[2]] {
            switch w[1] {
            case "standby", "online": request = .standby(n, w[1] == "standby")
            case "maintenance", "ready": request = .maintenance(n, w[1] == "maintenance")
            default: break
            }
        } else if w.count >= 3, w[0] == "resource", let rid = resolve(w[2]) {
            switch (w[1], w.count, node(3)) {
            case ("move", 3...4, .some(let n)): request = .move(rid, to: n)
            case ("ban", 3...4, .some(let n)): request = .ban(rid, n)
            case ("clear", 3, _): request = .clear(rid)
            case ("cleanup", 3, _): request = .cleanup(rid)
            case ("restart", 3, _): request = .restart(rid)
            default: break
            }
        }
        guard let request else { return answer(usage) }
        shared.request(.admin(request))
        wake.poke(0)
        answer("{\"ok\":true}")
    }

    /// A resource id, or a group's name (its first resource: the group is placed as one).
    private func resolve(_ name: String) -> String? {
        resourceIDs.contains(name) ? name : groups[name]
    }

    private func streamEvents(_ c: Int32, follow: Bool, encoder: JSONEncoder) {
        var last: UInt64 = 0
        SocketIO.setTimeout(c, seconds: 0)
        repeat {
            for e in shared.events(after: last, wait: follow ? 1 : 0) {
                last = e.seq
                guard let d = try? encoder.encode(e), SocketIO.writeAll(c, String(decoding: d, as: UTF8.self) + "\n") else { return }
            }
            // A follower that went away: detect it even when no events come.
            if follow {
                var b: UInt8 = 0
                if recv(c, &b, 1, Int32(MSG_DONTWAIT) | Int32(MSG_PEEK)) == 0 { return }
            }
        } while follow
    }
}
