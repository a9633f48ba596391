import VigilCore

/// The live view (`vigilctl status --watch`, like crm_mon's): the cluster as this node sees it and
/// its latest events, fitted to a terminal. Pure: snapshot, events and size in, lines out; the
/// status page draws the same picture.
public enum WatchScreen {
    /// At most `height` lines, each at most `width` characters; the events fill what is left.
    public static func lines(_ s: StatusSnapshot, events: [ClusterEvent], width: Int = 80, height: Int = 24, clock: String) -> [String] {
        var out = header(s, clock: clock)
        out.append("")
        out += peerTable(s)
        if let rs = s.resources, !rs.isEmpty {
            out.append("")
            out += resourceTable(rs, s)
        }
        out += fencingLines(s)
        let room = height - out.count - 2
        if room > 0 {
            out.append("")
            out.append("LAST EVENTS" + (events.isEmpty ? ": none yet" : ""))
            out += events.suffix(room).map(eventLine)
        }
        return out.prefix(max(height, 1)).map { fit($0, width) }
    }

    public static func fit(_ line: String, _ width: Int) -> String {
        line.count <= width ? line : String(line.prefix(max(width - 1, 0))) + "…"
    }

    static func header(_ s: StatusSnapshot, clock: String) -> [String] {
        var h = ["\(s.cluster) (id \(s.clusterId)) seen from \(s.node.name)    \(clock)"]
        guard let v = s.view else { return h + ["no view yet: listening for peers"] }
        let q = s.quorum
        h.append("view \(v.epoch): \(v.members.count)/\(s.nodes.count) members, "
                 + (q.quorate ? "quorate" : "NOT QUORATE") + " \(q.votes)/\(q.expectedVotes) votes (needs \(q.threshold))"
                 + (s.leaving ? ", LEAVING" : ""))
        var extra: [String] = []
        if let a = s.arbiter {
            extra.append("arbiter " + (a.counted ? "vote held" : a.holder.map { "vote with \($0.name)" } ?? "vote free")
                         + (a.reachable ? "" : " (etcd UNREACHABLE)"))
        }
        if let t = s.tickets, !t.isEmpty { extra.append("tickets \(t.filter(\.usable).count)/\(t.count) usable here") }
        if let f = s.fencing { extra.append("watchdog \(f.watchdog)") }
        if !extra.isEmpty { h.append(extra.joined(separator: ", ")) }
        return h
    }

    /// One row per node: its state and, per link, up or down, loss and how long ago it was heard.
    static func peerTable(_ s: StatusSnapshot) -> [String] {
        var rows = [["NODE", "STATE"] + s.links.map { $0.name.uppercased() }]
        for n in s.nodes {
            rows.append([n.name, n.state] + (n.state == "self" ? s.links.map { _ in "-" } : n.links.map { l in
                let heard = l.lastHeardMsAgo.map { formatMs($0) } ?? "never"
                return l.up ? "up \(format1(l.lossPercent))% \(heard)" : "DOWN \(heard)"
            }))
        }
        return table(rows)
    }

    /// One row per resource: where it runs in what role, and its fail counts.
    static func resourceTable(_ rs: [StatusSnapshot.ResourceInfo], _ s: StatusSnapshot) -> [String] {
        var rows = [["RESOURCE", "ON", "FAILS"]]
        for r in rs {
            let on = r.activeOn.isEmpty ? "stopped" : r.activeOn.map { n in
                let state = r.nodes[n] ?? "?"
                return state == "running" ? n : "\(n) (\(state))"
            }.joined(separator: ", ")
            let away = r.nodes.filter { !r.activeOn.contains($0.key) && $0.value.contains("(") }.sorted { $0.key < $1.key }
            let note = away.isEmpty ? "" : "; " + away.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            let fails = r.failCounts.isEmpty ? "-" : r.failCounts.sorted { $0.key < $1.key }
                .map { "\($0.key):" + StatusSnapshot.failCount($0.value) }.joined(separator: " ")
            rows.append([r.clone == nil ? r.id : "\(r.id) (clone)", on + note, fails])
        }
        return table(rows)
    }

    static func fencingLines(_ s: StatusSnapshot) -> [String] {
        var out: [String] = []
        if !s.needsFencing.isEmpty { out.append("NEEDS FENCING: " + s.needsFencing.map(\.name).joined(separator: ", ")) }
        for r in s.fencing?.running ?? [] {
            out.append("FENCING \(r.target.name): \(r.action), level \(r.level) (\(r.devices.joined(separator: ", ")))")
        }
        return out.isEmpty ? [] : [""] + out
    }

    /// An event in one line: its clock time, type and what it is about.
    public static func eventLine(_ e: ClusterEvent) -> String {
        let clock = e.time.split(separator: "T").last.map { String($0.prefix(12)) } ?? e.time
        var parts = [clock, e.type.rawValue]
        if let p = e.peer { parts.append(p) }
        if let l = e.link { parts.append(l) }
        if let r = e.resource { parts.append(r) }
        if let st = e.state { parts.append(st) }
        if let q = e.quorate { parts.append(q ? "quorate" : "NOT quorate") }
        if let m = e.members { parts.append("members " + m.joined(separator: ",")) }
        if let r = e.result { parts.append(r) }
        if let d = e.detail { parts.append(d) }
        return parts.joined(separator: " ")
    }
}
