import VigilCore

/// The control socket's vocabulary, shared by vigild, vigilctl and the lab tests. A request is
/// one text line (so `socat - UNIX:/run/vigil/vigild.sock` still works); short answers are one
/// JSON object (`ControlAnswer`); `status` answers a `StatusSnapshot`, `events` and
/// `fence history` JSON lines of `ClusterEvent`, `metrics` Prometheus text.
public enum ControlRequest: Equatable, Sendable {
    case status
    case metrics
    case events(follow: Bool)
    case fenceHistory
    /// Root only: leave the cluster gracefully (stopping local resources first), or reload.
    case leave
    case reload
    /// Root only: fence the node now; the outcome comes as events.
    case fence(node: String, FenceAction)
    /// Root only: the operator swears the node is off.
    case fenceConfirm(node: String)
    /// Root only: `resource move|ban ID [NODE]`, `resource clear|cleanup|restart ID`.
    case resource(ResourceVerb, id: String, node: String?)
    /// Root only: `node standby|online|maintenance|ready NODE`.
    case node(NodeVerb, node: String)
    /// `attr set|delete|get NODE NAME ...` (ControlProtocol+Attributes.swift); set and delete
    /// need root.
    case attribute(AttributeVerb, node: String, name: String)
    /// `attr list [NODE]`: the public attributes.
    case attributeList(node: String?)
    /// Root only: the replicated document this node runs (`vigilctl config show|export`).
    case configShow
    /// Root only: make the replicated sections of the file at `path` (absolute, read by vigild)
    /// the cluster's document; with `dryRun`, only validate it and say what would change.
    case configApply(path: String, dryRun: Bool)
    /// Root only: `ticket grant|revoke|standby|activate NAME` (site tickets; docs/arbiter.md).
    case ticket(TicketVerb, name: String)

    public enum TicketVerb: String, Sendable, CaseIterable {
        case grant, revoke, standby, activate
        public func command(_ name: String) -> TicketCommand {
            switch self {
            case .grant: .grant(name)
            case .revoke: .revoke(name)
            case .standby: .standby(name)
            case .activate: .activate(name)
            }
        }
    }

    public enum ResourceVerb: String, Sendable, CaseIterable {
        case move, ban, clear, cleanup, restart
        case movePromoted = "move-promoted"
        /// Whether a node may follow the resource id.
        public var takesNode: Bool { self == .move || self == .ban || self == .movePromoted }
    }

    public enum NodeVerb: String, Sendable, CaseIterable {
        case standby, online, maintenance, ready
    }

    /// The request as it goes over the socket (without the newline).
    public var line: String {
        switch self {
        case .status: "status"
        case .metrics: "metrics"
        case .events(let follow): follow ? "events follow" : "events"
        case .fenceHistory: "fence history"
        case .leave: "leave"
        case .reload: "reload"
        case let .fence(n, a): "fence \(n) \(a.rawValue)"
        case .fenceConfirm(let n): "fence confirm \(n)"
        case let .resource(v, id, n): "resource \(v.rawValue) \(id)" + (n.map { " " + $0 } ?? "")
        case let .node(v, n): "node \(v.rawValue) \(n)"
        case let .attribute(v, n, name): ControlRequest.attributeLine(v, node: n, name: name)
        case .attributeList(let n): "attr list" + (n.map { " " + $0 } ?? "")
        case .configShow: "config show"
        case let .configApply(p, dry): (dry ? "config check " : "config apply ") + p
        case let .ticket(v, name): "ticket \(v.rawValue) \(name)"
        }
    }

    /// Nil for a line that is no request (the server answers with `usage(for:)`).
    public init?(line: String) {
        if line.hasPrefix("attr ") || line == "attr" {
            guard let r = ControlRequest.attributeRequest(line) else { return nil }
            self = r
            return
        }
        for (prefix, dry) in [("config apply /", false), ("config check /", true)] where line.hasPrefix(prefix) {
            self = .configApply(path: String(line.dropFirst(prefix.count - 1)), dryRun: dry)
            return
        }
        let w = line.split(separator: " ").map(String.init)
        switch (w.first, w.count) {
        case ("config", 2) where w[1] == "show": self = .configShow
        case ("status", 1): self = .status
        case ("metrics", 1): self = .metrics
        case ("events", 1): self = .events(follow: false)
        case ("events", 2) where w[1] == "follow": self = .events(follow: true)
        case ("leave", 1): self = .leave
        case ("reload", 1): self = .reload
        case ("fence", 2) where w[1] == "history": self = .fenceHistory
        case ("fence", 3) where w[1] == "confirm": self = .fenceConfirm(node: w[2])
        case ("fence", 3):
            guard let a = FenceAction(rawValue: w[2]) else { return nil }
            self = .fence(node: w[1], a)
        case ("resource", 3...4):
            guard let v = ResourceVerb(rawValue: w[1]), w.count == 3 || v.takesNode else { return nil }
            self = .resource(v, id: w[2], node: w.count == 4 ? w[3] : nil)
        case ("node", 3):
            guard let v = NodeVerb(rawValue: w[1]) else { return nil }
            self = .node(v, node: w[2])
        case ("ticket", 3):
            guard let v = TicketVerb(rawValue: w[1]) else { return nil }
            self = .ticket(v, name: w[2])
        default:
            return nil
        }
    }

    /// Changes the cluster: only root may ask.
    public var needsRoot: Bool {
        switch self {
        case .status, .metrics, .events, .fenceHistory, .attributeList: false
        case .attribute(let v, _, _): v != .get
        case .leave, .reload, .fence, .fenceConfirm, .resource, .node, .configShow, .configApply, .ticket: true
        }
    }

    /// What to say about a line that is no request.
    public static func usage(for line: String, nodes: [String], resources: [String]) -> String {
        if line.hasPrefix("attr") { return attributeUsage + " (nodes: \(nodes.joined(separator: ", ")))" }
        if line.hasPrefix("fence ") {
            return "usage: fence NODE off|reboot|on, fence confirm NODE, fence history (nodes: \(nodes.joined(separator: ", ")))"
        }
        if line.hasPrefix("resource ") || line.hasPrefix("node ") {
            return "usage: resource move|ban ID [NODE], resource move-promoted ID NODE, resource clear|cleanup|restart ID, node standby|online|maintenance|ready NODE "
                + "(resources: \(resources.joined(separator: ", ")); nodes: \(nodes.joined(separator: ", ")))"
        }
        if line.hasPrefix("ticket") { return "usage: ticket grant|revoke|standby|activate NAME" }
        return "unknown command"
    }
}

/// A short answer: `{"ok":true}`, or `{"error":"..."}` saying why not.
public struct ControlAnswer: Codable, Equatable, Sendable {
    public var ok: Bool?
    public var error: String?
    /// `attr get`: the value.
    public var value: String?

    public static let done = ControlAnswer(ok: true)
    public static func refused(_ why: String) -> ControlAnswer { ControlAnswer(error: why) }

    public init(ok: Bool? = nil, error: String? = nil, value: String? = nil) {
        self.ok = ok
        self.error = error
        self.value = value
    }

    public var succeeded: Bool { ok == true && error == nil }
}
