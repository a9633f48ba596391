import VigilCore

/// One `[[resource]]` (issue 6: parsed and checked; the supervisor that acts on it is not written yet).
public struct ResourceSpec: Sendable, Equatable {
    public var id: String
    /// `ocf:PROVIDER:TYPE`, `lsb:NAME` or `systemd:UNIT`, as written (the daemon resolves it).
    public var agent: String
    public var params: [(String, String)]
    public var monitorInterval: TimeSpan
    public var startTimeout: TimeSpan
    public var stopTimeout: TimeSpan
    public var monitorTimeout: TimeSpan
    /// A promotable clone's monitor in the promoted role (zero: `monitorInterval`), promote and demote time-outs.
    public var promotedMonitorInterval = TimeSpan.zero
    public var promoteTimeout = TimeSpan.seconds(20)
    public var demoteTimeout = TimeSpan.seconds(20)
    public var notifyTimeout = TimeSpan.seconds(20)
    /// `with_role = "promoted"`: `with` names a promotable clone, and this runs only with its promoted instance.
    public var withPromoted = false
    public var onFail: OnFail
    public var migrationThreshold: Int
    /// Zero: failures never expire.
    public var failureTimeout: TimeSpan
    public var stickiness: Int
    /// Node -> score; `PlacementUnit.never` = never here.
    public var location: [NodeID: Int]
    public var group: String?
    /// Resources with the same spread tag never share a node (N+M).
    public var spread: String?
    /// Mandatory colocation: runs only where this resource runs.
    public var with: String?
    /// Mandatory anti-colocation: never where these run.
    public var apartFrom: [String] = []
    /// Location rules over node attributes (RuleParser.swift).
    public var rules: [LocationRule] = []
    /// Advisory colocation: RESOURCE:SCORE.
    public var near: [PlacementUnit.Near] = []
    /// Pacemaker's `priority`: what a node running it weighs in a fence race (`priority_delay`).
    public var priority = 0
    public var line: Int
    public var paramsLine: Int

    public static func == (a: ResourceSpec, b: ResourceSpec) -> Bool {
        a.id == b.id && a.agent == b.agent && a.params.map { $0.0 + "=" + $0.1 } == b.params.map { $0.0 + "=" + $0.1 }
            && a.monitorInterval == b.monitorInterval && a.onFail == b.onFail && a.location == b.location
            && a.group == b.group && a.spread == b.spread && a.stickiness == b.stickiness && a.line == b.line
    }
}

extension ClusterConfig {
    /// What the core's supervisor needs. Its version is the resources part's digest: members
    /// whose files say the same run the same policy (and a member whose file differs holds the
    /// owner's decisions until it agrees: Supervisor+Adopt.swift).
    public var resourcePolicy: ResourcePolicy {
        var p = ResourcePolicy(units: placementUnits, onFail: Dictionary(resources.map { ($0.id, $0.onFail) }) { a, _ in a },
                       failureTimeout: Dictionary(resources.filter { $0.failureTimeout > .zero }.map { ($0.id, $0.failureTimeout) }) { a, _ in a },
                       monitorInterval: Dictionary(resources.filter { $0.monitorInterval > .zero }.map { ($0.id, $0.monitorInterval) }) { a, _ in a },
                       nodeNames: Dictionary(nodes.map { ($0.id, $0.name) }) { a, _ in a }, clusterName: name, health: health,
                       orders: orders,
                       promotedMonitorInterval: Dictionary(resources.filter { $0.promotedMonitorInterval > .zero }
                           .map { ($0.id, $0.promotedMonitorInterval) }) { a, _ in a })
        p.definitions = Dictionary(resources.map { ($0.id, definition(of: $0)) }) { a, _ in a }
        p.priority = Dictionary(resources.filter { $0.priority != 0 }.map { ($0.id, $0.priority) }) { a, _ in a }
        p.version = digest[.resources]
        return p
    }

    /// What a resource runs, hashed: its agent, its parameters in order and its clone's meta
    /// attributes (what the agent sees). A new value restarts it; time-outs, intervals and
    /// placement do not (as in Pacemaker, whose restart digest covers the parameters).
    public func definition(of r: ResourceSpec) -> UInt64 {
        var h = ConfigDigest.Hasher()
        h.add(r.agent)
        for (k, v) in r.params { h.add(k + "=" + v) }
        for (k, v) in cloneMeta(of: r.id) ?? [] { h.add("meta:" + k + "=" + v) }
        return h.value
    }

    /// Groups and plain resources as placement units, in file order (a group where its first
    /// member appears; its preferences are its first member's).
    public var placementUnits: [PlacementUnit] {
        var out: [PlacementUnit] = []
        var groupIndex: [String: Int] = [:]
        for r in resources {
            if let g = r.group, let i = groupIndex[g] {
                out[i].resources.append(r.id)
                out[i].apart += r.apartFrom
                continue
            }
            if let g = r.group { groupIndex[g] = out.count }
            out.append(PlacementUnit(resources: [r.id], location: r.location, stickiness: r.stickiness,
                                     migrationThreshold: r.migrationThreshold, spread: r.spread,
                                     with: r.with, apart: r.apartFrom, rules: r.rules, near: r.near, clone: clones[r.id]))
            out[out.count - 1].withPromoted = r.withPromoted
        }
        return out
    }

    /// The clone a resource (or its group) runs in.
    public func clone(of rid: String) -> CloneSpec? {
        guard let r = resources.first(where: { $0.id == rid }) else { return nil }
        let lead = r.group.flatMap { g in resources.first { $0.group == g } } ?? r
        return clones[lead.id]
    }

    /// The meta attributes of the clone `rid` runs in, by Pacemaker's names (nil: not cloned).
    /// Agents get each as `OCF_RESKEY_CRM_meta_<name with _>`; `crm_resource --meta` answers them.
    public func cloneMeta(of rid: String) -> [(String, String)]? {
        guard let c = clone(of: rid) else { return nil }
        var m = [("clone-max", String(c.max ?? nodes.count)), ("clone-node-max", "1"), ("globally-unique", "false"),
                 ("notify", String(c.notify)), ("interleave", String(c.interleave))]
        if c.promotable {
            // And the legacy names, which PAF and DRBD still read.
            let p = String(c.promotedMax)
            m += [("promotable", "true"), ("promoted-max", p), ("promoted-node-max", "1"), ("master-max", p), ("master-node-max", "1")]
        }
        return m
    }
}

extension ConfigValidator {
    /// `with` and `apart_from` name known resources of other units; `with` does not chain.
    func checkColocations(_ rs: [ResourceSpec], clones: [String: String]) throws(Diagnostic) {
        func unit(_ id: String) -> String? { rs.first { $0.id == (clones[id] ?? id) || $0.group != nil && $0.group == clones[id] }.map { $0.group ?? $0.id } }
        for r in rs {
            let sec = doc.sections.first { $0.name == "resource" && $0.line == r.line }
            let s = sec.map { SectionReader(section: $0, file: doc.file) }
            for (key, other) in [("with", r.with)].compactMap({ k, v in v.map { (k, $0) } }) + r.apartFrom.map({ ("apart_from", $0) })
                + r.near.map({ ("colocation", $0.resource) }) {
                let line = s?.line(key) ?? r.line
                guard let u = unit(other) else {
                    throw diag(line, .error, "\(key) names unknown resource '\(other)'", "resources are " + rs.map(\.id).joined(separator: ", "))
                }
                guard u != (r.group ?? r.id) else {
                    throw diag(line, .error, "\(key) names '\(other)' of the same group", "a group is always on one node")
                }
                if key == "with", clones[other] == nil, rs.first(where: { $0.id == other })?.with != nil {
                    throw diag(line, .error, "'\(other)' is itself placed 'with' another resource",
                               "point 'with' at the resource it follows (\(rs.first { $0.id == other }!.with!)) directly")
                }
            }
        }
    }

    static let resourceSections: [String: (array: Bool, keys: Set<String>)] = [
        "resource": (true, ["id", "agent", "params", "monitor_interval", "start_timeout", "stop_timeout",
                            "monitor_timeout", "promoted_monitor_interval", "promote_timeout", "demote_timeout", "notify_timeout", "on_fail", "migration_threshold", "failure_timeout", "stickiness",
                            "prefer", "avoid", "group", "spread", "with", "with_role", "apart_from", "rules", "colocation", "priority"]),
    ]

    func readResources(nodes: [NodeSpec], fencing: FencingConfig) throws(Diagnostic) -> [ResourceSpec] {
        var out: [ResourceSpec] = []
        var lastGroup: String?
        var closedGroups: Set<String> = []
        for sec in doc.sections where sec.name == "resource" {
            let s = SectionReader(section: sec, file: doc.file)
            let id = try s.string("id", required: true)!
            guard !id.isEmpty, id.utf8.count <= 64, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
                throw diag(s.line("id"), .error, "resource id '\(id)' must be 1-64 letters, digits, _ - .", "e.g. id = \"db\"")
            }
            guard !out.contains(where: { $0.id == id }) else {
                throw diag(s.line("id"), .error, "resource '\(id)' is defined twice", "give each resource its own id")
            }
            let agent = try s.string("agent", required: true)!
            let parts = agent.split(separator: ":", omittingEmptySubsequences: false)
            let valid = (parts.first == "ocf" && parts.count == 3) || ((parts.first == "lsb" || parts.first == "systemd") && parts.count == 2)
            guard valid, parts.allSatisfy({ !$0.isEmpty && !$0.contains("/") && $0 != ".." }) else {
                throw diag(s.line("agent"), .error, "agent '\(agent)' is not ocf:PROVIDER:TYPE, lsb:NAME or systemd:UNIT",
                           "e.g. \"ocf:heartbeat:IPaddr2\"")
            }
            var params: [(String, String)] = []
            for p in try s.strings("params") ?? [] {
                guard let eq = p.firstIndex(of: "="), eq != p.startIndex,
                      p[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw diag(s.line("params"), .error, "parameter '\(p)' is not name=value", "e.g. \"ip=198.18.0.100\"")
                }
                params.append((String(p[..<eq]), String(p[p.index(after: eq)...])))
            }
            let onFailText = try s.string("on_fail") ?? "restart"
            guard let onFail = OnFail(rawValue: onFailText) else {
                throw diag(s.line("on_fail"), .error, "on_fail '\(onFailText)' is unknown",
                           "use " + OnFail.allCases.map(\.rawValue).joined(separator: ", "))
            }
            if onFail == .fence && !fencing.policy.enabled {
                throw diag(s.line("on_fail"), .error, "on_fail = \"fence\" but fencing is not configured", "add a [[fence_device]]")
            }
            var location: [NodeID: Int] = [:]
            for entry in try s.strings("prefer") ?? [] {
                let kv = entry.split(separator: ":").map(String.init)
                guard kv.count == 2, let n = nodes.first(where: { $0.name == kv[0] }), let score = Int(kv[1]), abs(score) <= 1_000_000 else {
                    throw diag(s.line("prefer"), .error, "prefer entry '\(entry)' is not NODE:SCORE for a known node",
                               "e.g. \"n1:100\"; nodes are " + nodes.map(\.name).joined(separator: ", "))
                }
                location[n.id] = score
            }
            for name in try s.strings("avoid") ?? [] {
                guard let n = nodes.first(where: { $0.name == name }) else {
                    throw diag(s.line("avoid"), .error, "unknown node '\(name)'", "nodes are " + nodes.map(\.name).joined(separator: ", "))
                }
                location[n.id] = PlacementUnit.never
            }
            let group = try s.string("group")
            if let g = group, g != lastGroup, closedGroups.contains(g) {
                throw diag(s.line("group"), .error, "group '\(g)' is split: its resources must be consecutive",
                           "move this [[resource]] next to the others of the group (they start in file order)")
            }
            if let l = lastGroup, l != group { closedGroups.insert(l) }
            lastGroup = group
            let with = try s.string("with")
            if with != nil, let g = group, out.last?.group == g {
                throw diag(s.line("with"), .error, "'with' on a group member other than the first",
                           "put it on the group's first resource: the group is placed as one")
            }
            let rules = try readRules(s)
            if !rules.isEmpty, let g = group, out.last?.group == g {
                throw diag(s.line("rules"), .error, "'rules' on a group member other than the first",
                           "put them on the group's first resource: the group is placed as one")
            }
            let interval = try s.duration("monitor_interval") ?? .seconds(10)
            out.append(ResourceSpec(
                id: id, agent: agent, params: params, monitorInterval: interval,
                startTimeout: try s.duration("start_timeout") ?? .seconds(20),
                stopTimeout: try s.duration("stop_timeout") ?? .seconds(20),
                monitorTimeout: try s.duration("monitor_timeout") ?? .seconds(20), onFail: onFail,
                migrationThreshold: Int(try s.integer("migration_threshold", in: 1...1_000_000) ?? 3),
                failureTimeout: try s.duration("failure_timeout") ?? .zero,
                stickiness: Int(try s.integer("stickiness", in: 0...1_000_000) ?? 100),
                location: location, group: group, spread: try s.string("spread"),
                with: with, apartFrom: try s.strings("apart_from") ?? [], rules: rules, near: try readNear(s),
                line: sec.line, paramsLine: s.line("params")))
            out[out.count - 1].promotedMonitorInterval = try s.duration("promoted_monitor_interval") ?? .zero
            out[out.count - 1].promoteTimeout = try s.duration("promote_timeout") ?? .seconds(20)
            out[out.count - 1].demoteTimeout = try s.duration("demote_timeout") ?? .seconds(20)
            out[out.count - 1].notifyTimeout = try s.duration("notify_timeout") ?? .seconds(20)
            out[out.count - 1].priority = Int(try s.integer("priority", in: -1_000_000...1_000_000) ?? 0)
            if let role = try s.string("with_role") {
                guard ["promoted", "master"].contains(role.lowercased()) else {
                    throw diag(s.line("with_role"), .error, "with_role '\(role)' is unknown", "use with_role = \"promoted\" (or leave it out: any instance)")
                }
                guard with != nil else { throw diag(s.line("with_role"), .error, "with_role without 'with'", "add with = \"CLONE\"") }
                out[out.count - 1].withPromoted = true
            }
        }
        let clones = try cloneNames()
        try checkColocations(out, clones: clones)
        // A colocation with a clone is one with the clone's leading resource.
        func lead(_ name: String) -> String {
            guard let of = clones[name] else { return name }
            return out.first { $0.id == of || $0.group == of }?.id ?? name
        }
        for i in out.indices {
            out[i].with = out[i].with.map(lead)
            out[i].apartFrom = out[i].apartFrom.map(lead)
            for j in out[i].near.indices { out[i].near[j].resource = lead(out[i].near[j].resource) }
        }
        return out
    }

    /// `colocation = ["db:500"]`: advisory (finite-score) colocation with another resource.
    private func readNear(_ s: SectionReader) throws(Diagnostic) -> [PlacementUnit.Near] {
        try (s.strings("colocation") ?? []).map { entry throws(Diagnostic) in
            let kv = entry.split(separator: ":").map(String.init)
            guard kv.count == 2, !kv[0].isEmpty, let v = Rules.score(kv[1]) else {
                throw diag(s.line("colocation"), .error, "colocation entry '\(entry)' is not RESOURCE:SCORE",
                           "e.g. \"db:500\" (with db when it can), \"db:-500\" (rather apart); INFINITY is `with`, -INFINITY `apart_from`")
            }
            return PlacementUnit.Near(resource: kv[0], score: v)
        }
    }

    private func readRules(_ s: SectionReader) throws(Diagnostic) -> [LocationRule] {
        var out: [LocationRule] = []
        for text in try s.strings("rules") ?? [] {
            switch RuleParser.parse(text) {
            case .success(let r): out.append(r)
            case .failure(let e):
                throw diag(s.line("rules"), .error, "rule '\(text)': \(e)",
                           "e.g. \"-INFINITY: not_defined pingd or pingd lt 1\" or \"pingd: defined pingd\"")
            }
        }
        return out
    }
}
