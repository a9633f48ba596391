import FoundationEssentials
import Glibc
import VigilCore
import VigilStatus

/// The control socket: a Unix stream socket (mode 0660, owner root, group configurable). A client
/// sends one `ControlRequest` line (status, metrics, events, fence history; leave, reload, fence,
/// resource and node changes) and reads the answer until the server closes. Requests that change
/// anything need the peer to be root (SO_PEERCRED).
final class ControlServer: @unchecked Sendable {
    private let path: String
    let shared: Shared
    private let wake: WakePipe
    private let log: Log
    private let fd: Int32
    /// Node names -> ids, as the running document says.
    var nodes: [String: NodeID] { shared.nodeIDs }
    /// This node's name ("." in `attr` requests).
    let me: String
    private let history: FenceHistory?
    /// This node's config file (its local part is merged with a document to validate it).
    var configPath = "/etc/vigil/vigil.conf"
    private var resourceIDs: [String] { shared.resourceIDs }
    private var groups: [String: String] { shared.resourceGroups }

    init(path: String, group: String?, shared: Shared, wake: WakePipe, log: Log, me: String = "", nodes: [String: NodeID] = [:],
         history: FenceHistory? = nil, resources: [(id: String, group: String?)] = []) throws {
        shared.setNodeIDs(nodes)
        self.me = me
        shared.setResourceNames(resources)
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
            // Close-on-exec: an agent spawned by another thread must not inherit the connection
            // (the client then saw no end of the answer until the agent exited, and timed out:
            // AlertLabTests, 1 run in 5 once alert runs went in parallel).
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
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
        func answer(_ a: ControlAnswer) {
            guard let d = try? encoder.encode(a) else { return }
            _ = SocketIO.writeAll(c, String(decoding: d, as: UTF8.self) + "\n")
        }
        guard let request = ControlRequest(line: line) else {
            return answer(.refused(ControlRequest.usage(for: line, nodes: nodes.keys.sorted(), resources: resourceIDs)))
        }
        if request.needsRoot, peerUID(c) != 0 {
            return answer(.refused("'\(line)' changes the cluster: only root may do it"))
        }
        switch request {
        case .status:
            let (s, _, _) = shared.current()
            guard let s, let data = try? encoder.encode(s) else { return answer(.refused("starting")) }
            _ = SocketIO.writeAll(c, String(decoding: data, as: UTF8.self) + "\n")
        case .metrics:
            let (s, l, e) = shared.current()
            _ = SocketIO.writeAll(c, s?.prometheus(lateness: l, sendErrors: e) ?? "")
        case .events(let follow):
            streamEvents(c, follow: follow, encoder: encoder)
        case .fenceHistory:
            for e in history?.all() ?? [] {
                guard let d = try? encoder.encode(e), SocketIO.writeAll(c, String(decoding: d, as: UTF8.self) + "\n") else { return }
            }
        case .leave, .reload:
            hand(request == .leave ? .leave : .reload)
            answer(.done)
        case .fence, .fenceConfirm:
            answer(fenceRequest(request))
        case .resource, .node:
            answer(adminRequest(request))
        case let .attribute(verb, node, name):
            answer(attributeRequest(verb, node: node, name: name))
        case .attributeList(let node):
            let (s, _, _) = shared.current()
            let rows = s?.attributes?.entries.filter { r in node.map { r.node == (($0 == ".") ? me : $0) } ?? true } ?? []
            guard let d = try? encoder.encode(rows) else { return }
            _ = SocketIO.writeAll(c, String(decoding: d, as: UTF8.self) + "\n")
        case .configShow:
            guard let d = shared.document else { return answer(.refused("starting")) }
            answer(ControlAnswer(ok: true, value: "# vigil document \(d.version) (vigilctl config show)\n" + d.text))
        case let .configApply(path, dryRun):
            answer(configApply(path, dryRun: dryRun))
        case let .ticket(verb, name):
            hand(.ticket(verb.command(name)))
            answer(.done)
        }
    }

    /// Hands a request to the heartbeat loop (the core answers with events).
    func hand(_ r: Shared.Request) {
        shared.request(r)
        wake.poke(0)
    }

    /// `fence NODE off|reboot|on` and `fence confirm NODE`: the answer only says the request was
    /// handed over (the result comes as events).
    private func fenceRequest(_ r: ControlRequest) -> ControlAnswer {
        guard history != nil else { return .refused("fencing is not enabled in the config") }
        let usage = ControlRequest.usage(for: "fence ", nodes: nodes.keys.sorted(), resources: resourceIDs)
        switch r {
        case let .fence(name, action):
            guard let n = nodes[name] else { return .refused(usage) }
            hand(.fence(n, action))
        case .fenceConfirm(let name):
            guard let n = nodes[name] else { return .refused(usage) }
            hand(.confirm(n))
        default:
            return .refused(usage)
        }
        return .done
    }

    /// Resource and node changes, handed to the core, which answers with a resource_admin or
    /// resource_admin_refused event.
    private func adminRequest(_ r: ControlRequest) -> ControlAnswer {
        guard !resourceIDs.isEmpty else { return .refused("no resources are configured") }
        let usage = ControlAnswer.refused(ControlRequest.usage(for: "resource ", nodes: nodes.keys.sorted(), resources: resourceIDs))
        let request: AdminRequest
        switch r {
        case let .node(verb, name):
            guard let n = nodes[name] else { return usage }
            switch verb {
            case .standby, .online: request = .standby(n, verb == .standby)
            case .maintenance, .ready: request = .maintenance(n, verb == .maintenance)
            }
        case let .resource(verb, id, name):
            guard let rid = resolve(id) else { return usage }
            var node: NodeID?
            if let name {
                guard let n = nodes[name] else { return usage }
                node = n
            }
            switch verb {
            case .move: request = .move(rid, to: node)
            case .movePromoted:
                guard let node else { return usage }
                request = .movePromoted(rid, to: node)
            case .ban: request = .ban(rid, node)
            case .clear: request = .clear(rid)
            case .cleanup: request = .cleanup(rid)
            case .restart: request = .restart(rid)
            }
        default:
            return usage
        }
        hand(.admin(request))
        return .done
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
