import VigilCore

/// `[arbiter]`: the external vote on an etcd lease (docs/arbiter.md). What the core needs is
/// `policy`; the rest is how the daemon reaches etcd.
public struct ArbiterConfig: Sendable, Equatable {
    public var policy: ArbiterPolicy
    /// etcd client URLs (`http://` or `https://`), tried in order.
    public var endpoints: [String]
    /// The vote key is `prefix + "/vote"`.
    public var prefix: String
    /// Each request's time limit (every endpoint gets one try within it).
    public var timeout: TimeSpan
    /// TLS: the CA that signs etcd's certificate, and this node's client certificate and key.
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    /// Heuristics (qdevice's `exec_`): a command that must exit 0 for this node to take the vote.
    public var heuristics: [String]?
    public var heuristicsInterval: TimeSpan
    public var heuristicsTimeout: TimeSpan
    public var line: Int
    public var voteKey: String { prefix + "/vote" }
    /// The cluster counts etcd's vote (false: etcd only holds this site's tickets).
    public var vote = true
    /// Tickets are `ticketPrefix/NAME`: the same prefix at every site sharing them.
    public var ticketPrefix = "/vigil/tickets"
    public func ticketKey(_ name: String) -> String { ticketPrefix + "/" + name }
}

/// `[[ticket]]`: a site ticket (Tickets/Tickets.swift in the core).
public struct TicketSpec: Sendable, Equatable {
    public var policy: TicketPolicy
    public var line: Int
}

extension ConfigValidator {
    static let arbiterSections: [String: (array: Bool, keys: Set<String>)] = [
        "arbiter": (false, ["endpoints", "prefix", "ttl", "renew", "timeout", "clock_rate_bound_ppm", "ca_file", "cert_file",
                            "key_file", "heuristics", "heuristics_interval", "heuristics_timeout", "vote", "ticket_prefix"]),
        "ticket": (true, ["name", "resources", "loss_policy", "auto_grant", "acquire_after", "stop_margin"]),
    ]

    func readArbiter(clusterName: String) throws(Diagnostic) -> ArbiterConfig? {
        guard let s = try single("arbiter", required: false) else { return nil }
        let endpoints = try s.strings("endpoints", required: true)!
        guard !endpoints.isEmpty else {
            throw diag(s.line("endpoints"), .error, "endpoints is empty", "e.g. endpoints = [\"http://198.18.5.1:2379\"]")
        }
        for e in endpoints where !(e.hasPrefix("http://") || e.hasPrefix("https://")) || e.dropFirst(8).isEmpty {
            throw diag(s.line("endpoints"), .error, "endpoint '\(e)' is not an http:// or https:// URL", "e.g. \"http://198.18.5.1:2379\"")
        }
        let ttl = try s.duration("ttl") ?? .seconds(10)
        guard ttl >= .seconds(2), ttl.nanoseconds % 1_000_000_000 == 0, ttl <= .seconds(3600) else {
            throw diag(s.line("ttl"), .error, "ttl \(ttl) is not whole seconds from 2s to 1h", "etcd's leases count in seconds: e.g. ttl = \"10s\"")
        }
        let renew = try s.duration("renew") ?? ttl / 5
        let timeout = try s.duration("timeout") ?? min(renew, .seconds(2))
        let ppm = try s.integer("clock_rate_bound_ppm", in: 1...100_000) ?? 10_000
        var policy = ArbiterPolicy(ttl: ttl, renewEvery: renew, rateBoundPPM: ppm)
        let heuristics = try s.strings("heuristics")
        if let h = heuristics, h.isEmpty || !h[0].hasPrefix("/") {
            throw diag(s.line("heuristics"), .error, "heuristics must be a command with an absolute path and its arguments",
                       "e.g. heuristics = [\"/usr/bin/ping\", \"-c1\", \"-W1\", \"198.18.0.254\"]")
        }
        policy.heuristics = heuristics != nil
        let tls = (try s.string("ca_file"), try s.string("cert_file"), try s.string("key_file"))
        if (tls.1 == nil) != (tls.2 == nil) {
            throw diag(s.line(tls.1 == nil ? "key_file" : "cert_file"), .error, "cert_file and key_file go together",
                       "give both (client certificate authentication) or neither")
        }
        let prefix = try s.string("prefix") ?? "/vigil/\(clusterName)"
        guard prefix.hasPrefix("/"), !prefix.hasSuffix("/") else {
            throw diag(s.line("prefix"), .error, "prefix '\(prefix)' must start with / and not end with /", "e.g. \"/vigil/\(clusterName)\"")
        }
        var a = ArbiterConfig(policy: policy, endpoints: endpoints, prefix: prefix, timeout: timeout, caFile: tls.0,
                              certFile: tls.1, keyFile: tls.2, heuristics: heuristics,
                              heuristicsInterval: try s.duration("heuristics_interval") ?? renew,
                              heuristicsTimeout: try s.duration("heuristics_timeout") ?? timeout, line: s.section.line)
        a.vote = try s.bool("vote") ?? true
        a.ticketPrefix = try s.string("ticket_prefix") ?? a.ticketPrefix
        guard a.ticketPrefix.hasPrefix("/"), !a.ticketPrefix.hasSuffix("/") else {
            throw diag(s.line("ticket_prefix"), .error, "ticket_prefix '\(a.ticketPrefix)' must start with / and not end with /",
                       "e.g. \"/vigil/tickets\" (the same at every site)")
        }
        return a
    }

    /// `[[ticket]]`: needs `[arbiter]` (etcd); its resources (a group member binds its group, a
    /// clone's resource its clone); the stop margin (default: the longest stop timeout among them)
    /// must leave three renewals in the lease.
    func readTickets(_ resources: [ResourceSpec], arbiter: ArbiterConfig?) throws(Diagnostic) -> [TicketSpec] {
        var out: [TicketSpec] = []
        for sec in doc.sections where sec.name == "ticket" {
            let s = SectionReader(section: sec, file: doc.file)
            guard let arbiter else {
                throw diag(sec.line, .error, "[[ticket]] without [arbiter]", "tickets live in etcd: add [arbiter] with its endpoints (vote = false for tickets only)")
            }
            let name = try s.string("name", required: true)!
            guard !name.isEmpty, name.utf8.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }),
                  !out.contains(where: { $0.policy.name == name }) else {
                throw diag(s.line("name"), .error, "ticket name '\(name)' is not 1-64 letters, digits, _ - . or is used twice", "e.g. name = \"site-db\"")
            }
            var bound: [String] = []
            for id in try s.strings("resources", required: true)! {
                guard let r = resources.first(where: { $0.id == id }) else {
                    throw diag(s.line("resources"), .error, "unknown resource '\(id)'", "resources are " + resources.map(\.id).joined(separator: ", "))
                }
                let unit = r.group.map { g in resources.filter { $0.group == g }.map(\.id) } ?? [r.id]
                for m in unit where !bound.contains(m) { bound.append(m) }
            }
            guard let loss = TicketLoss(rawValue: try s.string("loss_policy") ?? "stop") else {
                throw diag(s.line("loss_policy"), .error, "loss_policy '\(try s.string("loss_policy") ?? "")' is unknown",
                           "use " + TicketLoss.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let longestStop = resources.filter { bound.contains($0.id) }.map(\.stopTimeout).max() ?? .seconds(20)
            let margin = try s.duration("stop_margin") ?? longestStop
            let window = arbiter.policy.window(watchdog: nil) - margin
            if window < arbiter.policy.renewEvery * 3 + arbiter.timeout {
                throw diag(s.line("stop_margin"), .error, "stop margin \(margin) leaves \(window) of the \(arbiter.policy.ttl) lease after a renewal, under three renewals and a timeout",
                           "raise [arbiter] ttl, or set stop_margin (default: the longest stop_timeout of the ticket's resources)")
            }
            out.append(TicketSpec(policy: TicketPolicy(name: name, resources: bound, loss: loss, autoGrant: try s.bool("auto_grant") ?? false,
                                                       acquireAfter: try s.duration("acquire_after") ?? .zero, stopMargin: margin),
                                  line: sec.line))
        }
        return out
    }

    /// The lease must outlast the watchdog's margin and a few failed renewals; two_node is the
    /// arbiter's job.
    func checkArbiter(_ a: ArbiterConfig, watchdog: WatchdogPolicy?, twoNodeSet: Bool) throws(Diagnostic) {
        let window = a.policy.window(watchdog: watchdog?.timeout)
        let needed = a.policy.renewEvery * 3 + a.timeout
        if window < needed {
            throw diag(a.line, .error, "ttl \(a.policy.ttl) leaves \(window) of vote after a renewal"
                       + (watchdog.map { " (less the watchdog's \($0.timeout) and the clock-rate bound)" } ?? " (less the clock-rate bound)")
                       + ", under three renewals and a timeout (\(needed))",
                       "raise ttl, or shorten renew (now \(a.policy.renewEvery))")
        }
        if a.timeout > a.policy.renewEvery {
            throw diag(a.line, .error, "timeout \(a.timeout) is longer than renew \(a.policy.renewEvery)", "a request must end before the next is due")
        }
        if twoNodeSet {
            throw diag(a.line, .error, "[arbiter] with two_node = true", "the arbiter decides two-node splits: remove two_node")
        }
    }
}
