import VigilCore

/// Which plugin protocol a device speaks.
public enum PluginKind: String, Sendable, Equatable {
    /// fence-agents: `name=value` lines on stdin, exit code answers.
    case fenceAgent = "fence-agents"
    /// cluster-glue `external/NAME`: parameters in the environment, command as argv[1].
    case external = "cluster-glue"
}

/// One `[[fence_device]]`.
public struct FenceDeviceSpec: Sendable, Equatable {
    public var name: String
    /// As written: `fence_ipmilan`, `/usr/sbin/fence_ipmilan`, `external/ipmi`, `agents/stonith/fence_lab`.
    public var agent: String
    public var kind: PluginKind
    /// Device parameters in order (`name=value`).
    public var params: [(String, String)]
    /// Node -> plug (fence-agents `plug=`) or host name (external plugins).
    public var hostMap: [NodeID: String]
    /// Nodes this device may fence.
    public var nodes: NodeSet
    public var timeout: TimeSpan
    /// Zero: never monitored.
    public var monitorInterval: TimeSpan
    public var line: Int
    public var paramsLine: Int

    public static func == (a: FenceDeviceSpec, b: FenceDeviceSpec) -> Bool {
        a.name == b.name && a.agent == b.agent && a.kind == b.kind && a.params.map { $0.0 + "=" + $0.1 } == b.params.map { $0.0 + "=" + $0.1 }
            && a.hostMap == b.hostMap && a.nodes == b.nodes && a.timeout == b.timeout
            && a.monitorInterval == b.monitorInterval && a.line == b.line
    }

    /// The plug (or host name) for a node: the host map's, else the node's name.
    public func plug(for n: NodeID, name: String) -> String { hostMap[n] ?? name }
}

/// `[fencing]`, `[[fence_device]]`, `[[fence_level]]` and the nodes' `fence_delay`.
public struct FencingConfig: Sendable, Equatable {
    public var policy = FencingPolicy()
    public var devices: [FenceDeviceSpec] = []
    /// Fence history (JSON lines), kept across restarts.
    public var historyFile = "/var/lib/vigil/fence-history.jsonl"
    /// Hardware watchdog device for self-fencing, when `watchdog_timeout` is set.
    public var watchdogDevice = "/dev/watchdog"

    public func device(_ name: String) -> FenceDeviceSpec? { devices.first { $0.name == name } }
}

extension ConfigValidator {
    static let fencingSections: [String: (array: Bool, keys: Set<String>)] = [
        "fencing": (false, ["enabled", "action", "random_delay", "priority_delay", "retry_backoff", "max_backoff", "history",
                            "watchdog", "watchdog_timeout", "quorum_loss_bound"]),
        "fence_device": (true, ["name", "agent", "protocol", "params", "host_map", "nodes", "timeout", "monitor_interval"]),
        "fence_level": (true, ["node", "level", "devices"]),
    ]

    func readFencing(nodes: [NodeSpec], timing: Timing, twoNode: Bool) throws(Diagnostic) -> FencingConfig {
        var f = FencingConfig()
        let s = try single("fencing", required: false)
        f.devices = try readDevices(nodes: nodes)
        var p = FencingPolicy()
        if let s {
            if let a = try s.string("action") {
                guard let act = FenceAction(rawValue: a), act != .on else {
                    throw diag(s.line("action"), .error, "fencing action '\(a)' is not off or reboot", "use \"off\" or \"reboot\"")
                }
                p.action = act
            }
            p.randomDelayMax = try s.duration("random_delay") ?? .zero
            p.priorityDelay = try s.duration("priority_delay") ?? .zero
            p.retryBackoff = try s.duration("retry_backoff") ?? p.retryBackoff
            p.maxBackoff = max(p.retryBackoff, try s.duration("max_backoff") ?? p.maxBackoff)
            f.historyFile = try s.string("history") ?? f.historyFile
            f.watchdogDevice = try s.string("watchdog") ?? f.watchdogDevice
            if let t = try s.duration("watchdog_timeout") {
                guard t >= .seconds(1) else {
                    throw diag(s.line("watchdog_timeout"), .error, "watchdog_timeout \(t) is under 1s",
                               "hardware watchdogs count in seconds: use 5s or more")
                }
                let bound = try s.duration("quorum_loss_bound") ?? t / 2
                guard bound < t else {
                    throw diag(s.line("quorum_loss_bound"), .error, "quorum_loss_bound must be shorter than watchdog_timeout",
                               "e.g. half of it")
                }
                if twoNode {
                    throw diag(s.line("watchdog_timeout"), .error, "self-fencing by watchdog cannot decide a two-node split (both halves stay quorate)",
                               "configure a fence device for two-node clusters, or add a third node")
                }
                p.watchdog = WatchdogPolicy(timeout: t, quorumLossBound: bound)
            }
        }
        for n in nodes where n.fenceDelay > .zero { p.delay[n.id] = n.fenceDelay }
        p.levels = try readLevels(nodes: nodes, devices: f.devices)
        p.enabled = try s?.bool("enabled") ?? (!f.devices.isEmpty || p.watchdog != nil)
        // Others wait this long after someone starts an attempt before taking over.
        var bound = TimeSpan.seconds(5)
        for levels in p.levels.values {
            for level in levels {
                let sum = level.compactMap { f.device($0)?.timeout }.reduce(TimeSpan.zero, +)
                bound = max(bound, sum + .seconds(5))
            }
        }
        p.attemptBound = bound
        f.policy = p
        return f
    }

    /// `priority_delay` must outweigh the other delays (Pacemaker asks for twice the largest) and
    /// needs resources with a priority to mean anything.
    func priorityDelayWarnings(_ p: FencingPolicy, _ resources: [ResourceSpec]) -> [Diagnostic] {
        guard p.priorityDelay > .zero, let s = doc.sections.first(where: { $0.name == "fencing" }) else { return [] }
        let line = s.entries.first { $0.key == "priority_delay" }?.line ?? s.line
        var out: [Diagnostic] = []
        let others = (p.delay.values.max() ?? .zero) + p.randomDelayMax
        if p.priorityDelay < others * 2 {
            out.append(diag(line, .warning, "priority_delay \(p.priorityDelay) is under twice the static and random delays (\(others))",
                            "the side running the services wins only if priority_delay outweighs them: make it at least \(others * 2)"))
        }
        if !resources.contains(where: { $0.priority != 0 }) {
            out.append(diag(line, .warning, "priority_delay is set but no [[resource]] has a priority: it never applies",
                            "give the resources that matter a priority, e.g. priority = 10"))
        }
        return out
    }

    private func readDevices(nodes: [NodeSpec]) throws(Diagnostic) -> [FenceDeviceSpec] {
        var out: [FenceDeviceSpec] = []
        for sec in doc.sections where sec.name == "fence_device" {
            let s = SectionReader(section: sec, file: doc.file)
            let name = try s.string("name", required: true)!
            guard !out.contains(where: { $0.name == name }) else {
                throw diag(s.line("name"), .error, "fence device '\(name)' is defined twice", "give each device its own name")
            }
            let agent = try s.string("agent", required: true)!
            guard !agent.isEmpty, !agent.contains(" ") else {
                throw diag(s.line("agent"), .error, "agent '\(agent)' is not a program name or path",
                           "e.g. \"fence_ipmilan\" or \"external/ipmi\"")
            }
            var kind: PluginKind = agent.hasPrefix("external/") || agent.contains("/stonith/plugins/external/")
                ? .external : .fenceAgent
            if let p = try s.string("protocol") {
                guard let k = PluginKind(rawValue: p) else {
                    throw diag(s.line("protocol"), .error, "unknown plugin protocol '\(p)'", "use \"fence-agents\" or \"cluster-glue\"")
                }
                kind = k
            }
            var params: [(String, String)] = []
            for p in try s.strings("params") ?? [] {
                guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
                    throw diag(s.line("params"), .error, "parameter '\(p)' is not name=value", "write e.g. \"ipaddr=198.18.9.3\"")
                }
                let k = String(p[..<eq]), v = String(p[p.index(after: eq)...])
                guard k.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }), !v.contains("\n") else {
                    throw diag(s.line("params"), .error, "parameter '\(p)' has an odd name or a newline", "names are letters, digits, _ and -")
                }
                if ["action", "plug", "port", "nodename", "option"].contains(k) {
                    throw diag(s.line("params"), .error, "'\(k)' is set by vigild for each operation",
                               "remove it; map nodes to plugs with host_map")
                }
                params.append((k, v))
            }
            var hostMap: [NodeID: String] = [:]
            for entry in try s.strings("host_map") ?? [] {
                let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2, let n = nodes.first(where: { $0.name == parts[0] }), !parts[1].isEmpty else {
                    throw diag(s.line("host_map"), .error, "host_map entry '\(entry)' is not NODE:PLUG for a known node",
                               "nodes are " + nodes.map(\.name).joined(separator: ", "))
                }
                hostMap[n.id] = parts[1]
            }
            var covered = NodeSet()
            if let list = try s.strings("nodes") {
                for nm in list {
                    guard let n = nodes.first(where: { $0.name == nm }) else {
                        throw diag(s.line("nodes"), .error, "unknown node '\(nm)'", "nodes are " + nodes.map(\.name).joined(separator: ", "))
                    }
                    covered.insert(n.id)
                }
            } else {
                covered = hostMap.isEmpty ? NodeSet(nodes.map(\.id)) : NodeSet(hostMap.keys)
            }
            let timeout = try s.duration("timeout") ?? .seconds(20)
            guard timeout >= .ms(100) else {
                throw diag(s.line("timeout"), .error, "timeout \(timeout) is too short for a fence device", "20s is usual")
            }
            out.append(FenceDeviceSpec(name: name, agent: agent, kind: kind, params: params, hostMap: hostMap, nodes: covered,
                                       timeout: timeout, monitorInterval: try s.duration("monitor_interval") ?? .seconds(60),
                                       line: sec.line, paramsLine: s.line("params")))
        }
        return out
    }

    /// Explicit levels per node; a node without any gets one level per device that covers it, in
    /// file order.
    private func readLevels(nodes: [NodeSpec], devices: [FenceDeviceSpec]) throws(Diagnostic) -> [NodeID: [[String]]] {
        var explicit: [NodeID: [Int: [String]]] = [:]
        for sec in doc.sections where sec.name == "fence_level" {
            let s = SectionReader(section: sec, file: doc.file)
            let nm = try s.string("node", required: true)!
            guard let n = nodes.first(where: { $0.name == nm }) else {
                throw diag(s.line("node"), .error, "unknown node '\(nm)'", "nodes are " + nodes.map(\.name).joined(separator: ", "))
            }
            let level = Int(try s.integer("level", in: 1...9, required: true)!)
            guard explicit[n.id]?[level] == nil else {
                throw diag(s.line("level"), .error, "level \(level) of \(nm) is defined twice", "merge the devices into one list")
            }
            let ds = try s.strings("devices", required: true)!
            guard !ds.isEmpty else { throw diag(s.line("devices"), .error, "a level needs at least one device", nil) }
            for d in ds {
                guard let spec = devices.first(where: { $0.name == d }) else {
                    throw diag(s.line("devices"), .error, "unknown fence device '\(d)'",
                               "devices are " + devices.map(\.name).joined(separator: ", "))
                }
                guard spec.nodes.contains(n.id) else {
                    throw diag(s.line("devices"), .error, "device '\(d)' may not fence \(nm)", "add \(nm) to its nodes or host_map")
                }
            }
            explicit[n.id, default: [:]][level] = ds
        }
        var out: [NodeID: [[String]]] = [:]
        for n in nodes {
            if let e = explicit[n.id] {
                out[n.id] = e.keys.sorted().map { e[$0]! }
            } else {
                let ds = devices.filter { $0.nodes.contains(n.id) }.map { [$0.name] }
                if !ds.isEmpty { out[n.id] = ds }
            }
        }
        return out
    }
}
