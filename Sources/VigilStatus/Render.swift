import VigilCore

extension StatusSnapshot {
    /// A fail count as Pacemaker prints it: 255 is INFINITY (a hard error on that node).
    static func failCount(_ n: Int) -> String { n == Int(ResourceEntry.infinity) ? "INFINITY" : String(n) }

    /// The one-line summary used for systemd's STATUS= and `vigilctl check`.
    public var summaryLine: String {
        guard let v = view else { return "starting: listening for peers" + (leaving ? ", leaving" : "") }
        var s = "view \(v.epoch): \(v.members.count)/\(nodes.count) members, \(quorum.quorate ? "quorate" : "NOT quorate"), links \(linksFullyUp)/\(links.count) up"
        if let a = arbiter {
            s += ", arbiter " + (a.counted ? "vote held" : a.holder.map { "vote with \($0.name)" } ?? "vote free") + (a.reachable ? "" : " (etcd UNREACHABLE)")
        }
        if !needsFencing.isEmpty { s += ", \(needsFencing.count) need fencing" }
        if let f = fencing, !f.running.isEmpty { s += ", fencing " + f.running.map(\.target.name).joined(separator: ",") }
        if let r = resources { s += ", resources \(r.filter { !$0.activeOn.isEmpty }.count)/\(r.count) active" }
        if let t = tickets { s += ", tickets \(t.filter(\.usable).count)/\(t.count) usable here" }
        if fencing?.watchdog.hasPrefix("NOT FED") == true { s += ", SELF-FENCING" }
        if let d = configDiffers { s += ", CONFIG DIFFERS on " + d.keys.sorted().joined(separator: ",") }
        if leaving { s += ", leaving" }
        return s
    }

    /// `vigilctl status`: a table a person reads at a glance.
    public var humanTable: String {
        var out = ["cluster \(cluster) (id \(clusterId)), this node \(node.name) (id \(node.id), incarnation \(node.incarnation ?? 0))"]
        if let v = view {
            out.append("view \(v.epoch) (coordinator \(nodes.first { $0.id == v.coordinator }?.name ?? "?")), installed \(formatMs(v.ageMs)) ago")
        } else {
            out.append("no view yet: listening for peers")
        }
        out.append("quorum: \(quorum.quorate ? "quorate" : "NOT quorate"), \(quorum.votes)/\(quorum.expectedVotes) votes, needs \(quorum.threshold)"
                   + (quorum.twoNode ? " (two-node)" : "") + (quorum.waitForAll ? ", wait-for-all" : ""))
        if let a = arbiter {
            out.append("arbiter: key \(a.key) " + (a.holder.map { "held by \($0.name)" } ?? "free")
                       + (a.counted ? ", its vote counts here" : ", not counted here")
                       + (a.provenForMs.map { ", lease proven for \(formatMs($0))" } ?? "")
                       + (a.reachable ? ", etcd answers" : ", etcd UNREACHABLE" + (a.lastError.map { " (\($0))" } ?? ""))
                       + (a.heuristicsPass ? "" : ", heuristics FAIL"))
        }
        if tickets != nil { out.append(ticketTable) }
        for (n, parts) in (configDiffers ?? [:]).sorted(by: { $0.key < $1.key }) {
            out.append("CONFIG DIFFERS: \(n)'s config file differs from this node's in \(parts.joined(separator: ", ")) "
                       + "(each node runs its own copy: make the files the same and restart vigild where it was wrong)")
        }
        out.append("")
        var rows = [["NODE", "ID", "STATE", "INCARNATION"] + links.map { $0.name.uppercased() }]
        for n in nodes {
            let cells = n.state == "self" ? links.map { _ in "-" } : n.links.map { $0.up ? "up" : "down" }
            rows.append([n.name, String(n.id), n.state, n.incarnation.map(String.init) ?? "-"] + cells)
        }
        out += table(rows)
        if let rs = resources {
            out.append("")
            var rows = [["RESOURCE", "ACTIVE ON", "STATES", "FAIL COUNTS", "LAST FAILURE"]]
            for r in rs {
                let roles = r.promotable == true ? "; promoted: " + ((r.promotedOn ?? []).isEmpty ? "none" : r.promotedOn!.joined(separator: ",")) : ""
                let id = r.clone.map { "\(r.id) (clone \($0), \(r.activeOn.count)/\(r.cloneMax ?? 0)\(roles))" } ?? r.id
                rows.append([id, r.activeOn.isEmpty ? "-" : r.activeOn.joined(separator: ","),
                             r.nodes.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " "),
                             r.failCounts.isEmpty ? "-" : r.failCounts.sorted { $0.key < $1.key }.map { "\($0.key):" + Self.failCount($0.value) }.joined(separator: " "),
                             r.lastFailure ?? "-"])
            }
            out += table(rows)
            for r in rs where r.promotable == true {
                let scores = (r.scores ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                out.append("\(r.id) promotion scores (master-\(r.id)): " + (scores.isEmpty ? "none (no instance can be promoted)" : scores.joined(separator: " ")))
            }
            if let a = admin {
                if !a.standby.isEmpty { out.append("standby: " + a.standby.joined(separator: ", ")) }
                if !a.maintenance.isEmpty {
                    out.append("maintenance: " + a.maintenance.joined(separator: ", ") + " (resources there are not monitored, stopped or moved; vigilctl node ready to end)")
                }
                for c in a.constraints { out.append("operator constraint: " + c + " (vigilctl resource clear to remove)") }
            }
        }
        out += attributeLines
        if let f = fencing {
            out.append("")
            var rows = [["FENCE DEVICE", "AGENT", "PROTOCOL", "STATE", "CHECKED"]]
            for d in f.devices { rows.append([d.name, d.agent, d.protocol, d.state + (d.message.map { ": " + $0 } ?? ""), d.checkedAt ?? "-"]) }
            if f.devices.isEmpty { rows.append(["(none)", "-", "-", "-", "-"]) }
            out += table(rows)
            out.append("watchdog: \(f.watchdog)")
            for r in f.running { out.append("fencing \(r.target.name) now: level \(r.level), \(r.action) via \(r.devices.joined(separator: ", "))") }
        }
        if !needsFencing.isEmpty {
            out.append("")
            out.append("needs fencing: " + needsFencing.map { "\($0.name) (incarnation \($0.incarnation ?? 0))" }.joined(separator: ", "))
        }
        out.append("")
        out.append("frames: \(frames.sent) sent, \(frames.received) received, \(frames.rejected.values.reduce(0, +)) rejected"
                   + (frames.rejected.isEmpty ? "" : " (" + frames.rejected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"))
        return out.joined(separator: "\n")
    }

    /// `vigilctl links`: per peer, per link health.
    public var linksTable: String {
        var rows = [["PEER", "LINK", "STATE", "LAST HEARD", "LOSS", "RTT"]]
        for n in nodes where n.state != "self" {
            for l in n.links {
                rows.append([n.name, l.name, l.up ? "up" : "down",
                             l.lastHeardMsAgo.map { formatMs($0) + " ago" } ?? "never",
                             String(format1(l.lossPercent)) + "%", l.rttMs.map { format3ms($0) } ?? "-"])
            }
        }
        return table(rows).joined(separator: "\n")
    }
}

/// Monitoring-plugin result (Nagios/Icinga conventions).
public struct CheckResult: Sendable, Equatable {
    public enum Code: Int32, Sendable { case ok = 0, warning = 1, critical = 2, unknown = 3 }
    public var code: Code
    public var text: String

    public init(code: Code, text: String) {
        self.code = code
        self.text = text
    }

    /// OK: quorate, every member present, every link up. WARNING: still quorate but a link is down
    /// or a configured node is missing. CRITICAL: not quorate (or no view).
    public init(_ s: StatusSnapshot) {
        let perf = " | members=\(s.memberCount);;;0;\(s.nodes.count) quorate=\(s.quorum.quorate ? 1 : 0) links_up=\(s.linksFullyUp);;;0;\(s.links.count)"
        let down = s.nodes.flatMap { n in n.links.filter { !$0.up && n.state == "member" }.map { "\(n.name)/\($0.name)" } }
        if s.view == nil || !s.quorum.quorate {
            self.init(code: .critical, text: "VIGIL CRITICAL - \(s.summaryLine)" + perf)
        } else if s.memberCount < s.nodes.count || !down.isEmpty {
            let missing = s.nodes.filter { $0.state != "member" && $0.state != "self" }.map(\.name)
            var why: [String] = []
            if !missing.isEmpty { why.append("missing: " + missing.joined(separator: ",")) }
            if !down.isEmpty { why.append("links down: " + down.joined(separator: ",")) }
            self.init(code: .warning, text: "VIGIL WARNING - \(s.summaryLine); " + why.joined(separator: "; ") + perf)
        } else {
            self.init(code: .ok, text: "VIGIL OK - \(s.summaryLine)" + perf)
        }
    }
}

func table(_ rows: [[String]]) -> [String] {
    guard let first = rows.first else { return [] }
    let widths = first.indices.map { i in rows.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
    return rows.map { r in
        r.enumerated().map { i, c in i == r.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count + 2) }.joined()
    }
}

func format1(_ v: Double) -> String { v.rounded1 }

func formatMs(_ ms: Double) -> String {
    if ms >= 10_000 { return "\(Int(ms / 1000))s" }
    if ms >= 1000 { return "\((ms / 100).rounded() / 10)s" }
    return "\(Int(ms.rounded()))ms"
}

func format3ms(_ ms: Double) -> String { "\((ms * 1000).rounded() / 1000)ms" }


/// `vigilctl fence history`.
public enum FenceHistoryTable {
    public static func render(_ events: [ClusterEvent]) -> String {
        var rows = [["TIME", "TARGET", "INCARNATION", "RESULT", "BY", "LEVEL", "TOOK", "DETAIL"]]
        for e in events {
            rows.append([e.time, e.peer ?? "?", e.incarnation.map(String.init) ?? "-", e.result ?? "?", e.executor ?? "?",
                         e.level.map(String.init) ?? "-", e.tookMs.map(formatMs) ?? "-", e.detail ?? ""])
        }
        if events.isEmpty { return "no fence results recorded" }
        return table(rows).joined(separator: "\n")
    }
}

extension StatusSnapshot {
    /// `vigilctl ticket list` (and a part of `vigilctl status`): one line per ticket.
    public var ticketTable: String {
        (tickets ?? []).map { t in
            "ticket \(t.name): " + (t.site.map { s in s == clusterId ? "granted to this site" : "held by site \(s)" } ?? "free")
                + (t.state.map { $0 == "granted" ? "" : " (\($0))" } ?? "")
                + (t.usable ? ", its resources may run here" : ", its resources do not run here (loss policy \(t.loss))")
                + (t.provenForMs.map { ", lease proven for \(formatMs($0))" } ?? "")
                + (t.reachable ? "" : ", etcd UNREACHABLE") + "; binds \(t.resources.joined(separator: ", "))"
        }.joined(separator: "\n")
    }
}
