import VigilCore

/// Every section the config file may have (`array`: written [[name]]) and its keys; the
/// reference page (docs/vigil.conf.md, vigil.conf(5)) is checked against it.
public enum ConfigKeys {
    public static let sections: [String: (array: Bool, keys: Set<String>)] = ConfigValidator.sections
}

/// Gives meaning to a parsed `ConfigDocument`. Every error names file:line and the fix.
struct ConfigValidator {
    let doc: ConfigDocument
    init(_ doc: ConfigDocument) { self.doc = doc }

    static let sections: [String: (array: Bool, keys: Set<String>)] = [
        "cluster": (false, ["name", "id", "key", "state_dir", "node_health_strategy", "node_health_red", "node_health_yellow",
                            "node_health_green"]),
        "timing": (false, ["interval", "deadline"]),
        "quorum": (false, ["expected_votes", "two_node", "wait_for_all", "no_quorum_policy"]),
        "link": (true, ["name", "mode", "group", "port", "ttl"]),
        "node": (true, ["id", "name", "votes", "addresses", "fence_delay"]),
        "document": (false, ["epoch"]),
    ].merging(fencingSections) { a, _ in a }.merging(resourceSections) { a, _ in a }.merging(alertSections) { a, _ in a }
        .merging(orderSections) { a, _ in a }.merging(cloneSections) { a, _ in a }.merging(arbiterSections) { a, _ in a }

    func validate() -> Result<ClusterConfig, Diagnostic> {
        do { return .success(try build()) } catch { return .failure(error) }
    }

    private func build() throws(Diagnostic) -> ClusterConfig {
        try checkShape()
        let cluster = try single("cluster", required: true)!
        let name = try cluster.string("name") ?? "vigil"
        let id = try cluster.integer("id", in: 1...Int64(UInt32.max), required: true)!
        let key = try cluster.string("key") ?? "/etc/vigil/cluster.key"
        let timing = try readTiming(try single("timing", required: false))
        let links = try readLinks()
        let nodes = try readNodes(links: links)
        var warnings: [Diagnostic] = []
        let arbiter = try readArbiter(clusterName: name)
        let quorumSection = try single("quorum", required: false)
        let quorum = try readQuorum(quorumSection, nodes: nodes, arbiter: arbiter?.vote == true, warnings: &warnings)
        let fencing = try readFencing(nodes: nodes, timing: timing, twoNode: quorum.twoNode)
        if let arbiter, arbiter.vote {
            try checkArbiter(arbiter, watchdog: fencing.policy.watchdog, twoNodeSet: try quorumSection?.bool("two_node") == true)
        }
        if fencing.policy.enabled && fencing.policy.watchdog == nil {
            for n in nodes where fencing.policy.levels[n.id] == nil {
                warnings.append(diag(doc.sections.first { $0.name == "fencing" || $0.name == "fence_device" }?.line ?? 1, .warning,
                                     "no fence device covers \(n.name): after an unclean loss only `vigilctl fence confirm \(n.name)` clears it",
                                     "add it to a device's host_map or nodes"))
            }
        }
        if links.count == 1, let l = doc.sections.first(where: { $0.name == "link" }) {
            warnings.append(diag(l.line, .warning, "only one link: losing that network is a membership change",
                                 "add a second [[link]] on an independent network"))
        }
        if timing.deadline < timing.interval * 3, let s = doc.sections.first(where: { $0.name == "timing" }) {
            warnings.append(diag(s.line, .warning, "deadline under 3 intervals: a few lost heartbeats on every link kill a peer",
                                 "deadline = 3 to 5 intervals is the usual choice"))
        }
        let resources = try readResources(nodes: nodes, fencing: fencing)
        warnings += priorityDelayWarnings(fencing.policy, resources)
        var c = ClusterConfig(file: doc.file, name: name, clusterID: UInt32(id), keyFile: key, timing: timing,
                              quorum: quorum, links: links, nodes: nodes, fencing: fencing, resources: resources, warnings: warnings)
        c.stateDir = try cluster.string("state_dir") ?? c.stateDir
        c.health = try readHealth(cluster)
        c.alerts = try readAlerts()
        c.clones = try readClones(resources, nodes: nodes)
        c.orders = try readOrders(resources)
        c.arbiter = arbiter
        c.tickets = try readTickets(resources, arbiter: arbiter)
        c.documentEpoch = UInt32(try single("document", required: false)?.integer("epoch", in: 1...Int64(UInt32.max)) ?? 1)
        return c
    }

    /// Pacemaker's node-health-strategy and its scores (red defaults to -INFINITY for progressive).
    private func readHealth(_ s: SectionReader) throws(Diagnostic) -> HealthStrategy {
        let name = try s.string("node_health_strategy") ?? "none"
        let red = try s.score("node_health_red") ?? PlacementUnit.never, yellow = try s.score("node_health_yellow") ?? 0
        let green = try s.score("node_health_green") ?? 0
        guard let h = HealthStrategy.named(name, red: red, yellow: yellow, green: green) else {
            throw diag(s.line("node_health_strategy"), .error, "node_health_strategy '\(name)' is unknown",
                       "use none, migrate-on-red, only-green, progressive or custom")
        }
        return h
    }

    private func checkShape() throws(Diagnostic) {
        for s in doc.sections {
            guard let spec = ConfigValidator.sections[s.name] else {
                throw diag(s.line, .error, "unknown section [\(s.name)]",
                           "sections are " + ConfigValidator.sections.keys.sorted().joined(separator: ", "))
            }
            if spec.array != s.isArrayItem {
                throw diag(s.line, .error, spec.array ? "[\(s.name)] describes one of several" : "[\(s.name)] appears once",
                           spec.array ? "write [[\(s.name)]]" : "write [\(s.name)]")
            }
            for e in s.entries where !spec.keys.contains(e.key) {
                throw diag(e.line, .error, "unknown key '\(e.key)' in [\(s.name)]",
                           "known keys: " + spec.keys.sorted().joined(separator: ", "))
            }
        }
    }

    func single(_ name: String, required: Bool) throws(Diagnostic) -> SectionReader? {
        let found = doc.sections.filter { $0.name == name }
        if found.count > 1 { throw diag(found[1].line, .error, "[\(name)] appears twice", "merge them") }
        if let s = found.first { return SectionReader(section: s, file: doc.file) }
        if required { throw diag(1, .error, "missing [\(name)] section", "add [\(name)] with its keys") }
        return nil
    }

    private func readTiming(_ s: SectionReader?) throws(Diagnostic) -> Timing {
        var t = Timing.default
        guard let s else { return t }
        if let v = try s.duration("interval") {
            guard v >= Timing.minimumInterval else {
                throw diag(s.line("interval"), .error, "interval \(v) is below the \(Timing.minimumInterval) floor",
                           "use \(Timing.minimumInterval) or more")
            }
            t.interval = v
            t.deadline = max(t.deadline, v * 3)
        }
        if let v = try s.duration("deadline") {
            guard v >= t.interval * 2 else {
                throw diag(s.line("deadline"), .error, "deadline \(v) is under two intervals (\(t.interval * 2))",
                           "a deadline of 3 to 5 intervals tolerates lost heartbeats")
            }
            t.deadline = v
        }
        return t
    }

    private func readLinks() throws(Diagnostic) -> [LinkSpec] {
        let sections = doc.sections.filter { $0.name == "link" }
        guard !sections.isEmpty else { throw diag(1, .error, "no [[link]] section", "add one per network, two for redundancy") }
        guard sections.count <= LinkID.maxLinks else {
            throw diag(sections[LinkID.maxLinks].line, .error, "more than \(LinkID.maxLinks) links", "remove some")
        }
        var out: [LinkSpec] = []
        for (i, sec) in sections.enumerated() {
            let s = SectionReader(section: sec, file: doc.file)
            let modeText = try s.string("mode") ?? "multicast"
            guard let mode = LinkMode(rawValue: modeText) else {
                throw diag(s.line("mode"), .error, "unknown link mode '\(modeText)'", "use \"multicast\" or \"unicast\"")
            }
            var group: IPAddress?
            if mode == .multicast {
                let g = try s.string("group", required: true)!
                guard let a = IPAddress(g), a.isMulticast else {
                    throw diag(s.line("group"), .error, "'\(g)' is not a multicast address",
                               "use one in 239.192.0.0/16 (organisation-local) or ff15::/16")
                }
                group = a
            }
            let port = try s.integer("port", in: 1...65535) ?? Int64(5405 + 2 * i)
            let ttl = try s.integer("ttl", in: 1...255) ?? 1
            out.append(LinkSpec(id: LinkID(UInt8(i)), name: try s.string("name") ?? "link\(i)", mode: mode,
                                group: group, port: UInt16(port), ttl: Int(ttl)))
        }
        return out
    }

    private func readNodes(links: [LinkSpec]) throws(Diagnostic) -> [NodeSpec] {
        let sections = doc.sections.filter { $0.name == "node" }
        guard !sections.isEmpty else { throw diag(1, .error, "no [[node]] section", "add one per cluster node") }
        var out: [NodeSpec] = []
        var seenAddresses: Set<IPAddress> = []
        for sec in sections {
            let s = SectionReader(section: sec, file: doc.file)
            let id = NodeID(UInt16(try s.integer("id", in: 1...64, required: true)!))
            guard !out.contains(where: { $0.id == id }) else {
                throw diag(s.line("id"), .error, "node id \(id.rawValue) is used twice", "give every node its own id")
            }
            let name = try s.string("name") ?? "node\(id.rawValue)"
            guard !out.contains(where: { $0.name == name }) else {
                throw diag(s.line("name"), .error, "node name '\(name)' is used twice", "names must be unique")
            }
            let texts = try s.strings("addresses", required: true)!
            guard texts.count == links.count else {
                throw diag(s.line("addresses"), .error, "\(texts.count) address(es) for \(links.count) link(s)",
                           "list one address per [[link]], in the same order")
            }
            var addrs: [IPAddress] = []
            for (t, link) in zip(texts, links) {
                guard let a = IPAddress(t), !a.isMulticast else {
                    throw diag(s.line("addresses"), .error, "'\(t)' is not a unicast IP address", "write e.g. \"198.18.0.1\"")
                }
                if let g = link.group, g.isV6 != a.isV6 {
                    throw diag(s.line("addresses"), .error, "'\(t)' and group \(g) of \(link.name) differ in IP version",
                               "use IPv4 or IPv6 on both")
                }
                guard seenAddresses.insert(a).inserted else {
                    throw diag(s.line("addresses"), .error, "address \(t) is used twice", "each node needs its own address per link")
                }
                addrs.append(a)
            }
            out.append(NodeSpec(id: id, name: name, votes: Int(try s.integer("votes", in: 0...64) ?? 1), addresses: addrs,
                                fenceDelay: try s.duration("fence_delay") ?? .zero))
        }
        return out.sorted { $0.id < $1.id }
    }

    private func readQuorum(_ s: SectionReader?, nodes: [NodeSpec], arbiter: Bool, warnings: inout [Diagnostic]) throws(Diagnostic) -> QuorumPolicy {
        let votes = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.votes) })
        let total = votes.values.reduce(0, +)
        // Unset: on exactly when there are two nodes of one vote each (as pcs sets it), so the rules
        // switch on and off as the cluster's document adds or removes nodes.
        // With an arbiter, its vote decides a two-node split: off (checkArbiter refuses it set).
        let twoNode = arbiter ? false : try s?.bool("two_node") ?? (nodes.count == 2 && total == 2)
        if twoNode && (nodes.count != 2 || total != 2) {
            throw diag(s!.line("two_node"), .error, "two_node needs exactly two nodes with one vote each",
                       "remove two_node for \(nodes.count) nodes")
        }
        let expected = try s?.integer("expected_votes", in: 1...1024).map(Int.init) ?? total
        if expected < total, let s {
            throw diag(s.line("expected_votes"), .error, "expected_votes \(expected) is below the \(total) votes configured",
                       "set it to \(total) or more, or remove it")
        }
        if nodes.count == 2 && !twoNode && total == 2 && !arbiter {
            warnings.append(diag(s?.section.line ?? 1, .warning, "two nodes without two_node: losing either stops the cluster",
                                 "set two_node = true under [quorum]"))
        }
        var q = QuorumPolicy(votes: votes, expectedVotes: expected, twoNode: twoNode,
                             waitForAll: try s?.bool("wait_for_all") ?? twoNode)
        q.arbiterVotes = arbiter ? 1 : 0
        switch try s?.string("no_quorum_policy") ?? "stop" {
        case "stop": q.stopResourcesWithoutQuorum = true
        case "freeze": q.stopResourcesWithoutQuorum = false
        case let other:
            throw diag(s!.line("no_quorum_policy"), .error, "no_quorum_policy '\(other)' is unknown",
                       "use \"stop\" (stop local resources when quorum is lost) or \"freeze\" (leave them)")
        }
        return q
    }

    func diag(_ line: Int, _ sev: Diagnostic.Severity, _ m: String, _ fix: String?) -> Diagnostic {
        Diagnostic(file: doc.file, line: line, severity: sev, message: m, fix: fix)
    }
}
