import VigilCore

/// Histogram of the heartbeat loop's lateness (how late each tick ran), in seconds.
public struct LatenessHistogram: Sendable, Equatable {
    public static let bounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
    public var counts = Array(repeating: 0, count: LatenessHistogram.bounds.count + 1)
    public var sum = 0.0
    public var max = 0.0
    public init() {}
    public mutating func record(_ seconds: Double) {
        let i = LatenessHistogram.bounds.firstIndex { seconds <= $0 } ?? LatenessHistogram.bounds.count
        counts[i] += 1
        sum += seconds
        if seconds > max { max = seconds }
    }
    public var total: Int { counts.reduce(0, +) }
}

extension StatusSnapshot {
    /// Prometheus text exposition (version 0.0.4).
    public func prometheus(lateness: LatenessHistogram, sendErrors: Int) -> String {
        var o: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, Double)]) {
            o.append("# HELP vigil_\(name) \(help)")
            o.append("# TYPE vigil_\(name) \(type)")
            for (labels, v) in samples { o.append("vigil_\(name)\(labels.isEmpty ? "" : "{\(labels)}") \(num(v))") }
        }
        metric("members", "gauge", "Members of the current view.", [("", Double(memberCount))])
        metric("nodes_configured", "gauge", "Nodes in the config.", [("", Double(nodes.count))])
        metric("quorate", "gauge", "1 if the current view is quorate.", [("", quorum.quorate ? 1 : 0)])
        metric("view_epoch", "gauge", "Epoch of the current view.", [("", Double(view?.epoch ?? 0))])
        if let a = arbiter {
            metric("arbiter_vote", "gauge", "1 if this node's view counts the arbiter's vote now.", [("", a.counted ? 1 : 0)])
            metric("arbiter_reachable", "gauge", "1 if etcd answered the arbiter's latest request.", [("", a.reachable ? 1 : 0)])
            metric("arbiter_proven_seconds", "gauge", "How long the latest answer proves the vote's lease alive.",
                   [("", (a.provenForMs ?? 0) / 1000)])
            metric("arbiter_heuristics_pass", "gauge", "1 if the arbiter's heuristics command passes.", [("", a.heuristicsPass ? 1 : 0)])
            metric("arbiter_requests_total", "counter", "Requests to etcd (the vote's and the tickets'), by outcome.",
                   [("result=\"answered\"", Double(a.answered ?? 0)), ("result=\"failed\"", Double(a.failed ?? 0))])
        }
        if let ts = tickets {
            metric("ticket_granted_here", "gauge", "1 if the site ticket is granted to this site.",
                   ts.map { ("ticket=\"\($0.name)\"", $0.site == clusterId ? 1 : 0) })
            metric("ticket_usable", "gauge", "1 if this site may run the ticket's resources now.",
                   ts.map { ("ticket=\"\($0.name)\"", $0.usable ? 1 : 0) })
        }
        metric("needs_fencing", "gauge", "Members lost uncleanly and not yet fenced.", [("", Double(needsFencing.count))])
        metric("config_differs", "gauge", "Members whose config file differs from this node's (0 when all agree).",
               [("", Double(configDiffers?.count ?? 0))])
        if let f = fencing {
            metric("fence_running", "gauge", "Fence attempts this node runs now.", [("", Double(f.running.count))])
            metric("fence_results_total", "counter", "Fence results this node saw (its own and others'), by result.",
                   FenceResult.allCases.map { ("result=\"\($0.description)\"", Double(f.attempts[$0.description] ?? 0)) })
            metric("fence_device_up", "gauge", "1 if the device's last monitor succeeded.",
                   f.devices.map { ("device=\"\($0.name)\"", $0.state == "ok" ? 1 : 0) })
            metric("watchdog_fed", "gauge", "1 while this node feeds its hardware watchdog.",
                   [("", f.watchdog == "armed, fed" ? 1 : 0)])
        }
        if let rs = resources {
            metric("resource_active", "gauge", "Members on which the resource may be active (1 when healthy, 2+ never).",
                   rs.map { ("resource=\"\($0.id)\"", Double($0.activeOn.count)) })
            metric("resource_running", "gauge", "1 per node that reports the resource running.",
                   rs.flatMap { r in r.nodes.sorted { $0.key < $1.key }.map { ("resource=\"\(r.id)\",node=\"\($0.key)\"", $0.value == "running" || $0.value == "promoted" ? 1.0 : 0) } })
            let promotable = rs.filter { $0.promotable == true }
            if !promotable.isEmpty {
                metric("resource_promoted", "gauge", "1 per node where a promotable clone's instance holds the promoted role (per clone: promoted_max at most).",
                       promotable.flatMap { r in r.nodes.keys.sorted().map { ("resource=\"\(r.id)\",node=\"\($0)\"", r.promotedOn?.contains($0) == true ? 1.0 : 0) } })
                metric("resource_promotion_score", "gauge", "Promotion score per node (master-<resource>), as agents wrote it.",
                       promotable.flatMap { r in (r.scores ?? [:]).sorted { $0.key < $1.key }.compactMap { n, v in
                           Promotion.score(v).map { ("resource=\"\(r.id)\",node=\"\(n)\"", Double($0)) } } })
            }
            metric("resource_fail_count", "gauge", "Failures counted per resource and node (reset by cleanup or failure_timeout).",
                   rs.flatMap { r in r.failCounts.sorted { $0.key < $1.key }.map { ("resource=\"\(r.id)\",node=\"\($0.key)\"", Double($0.value)) } })
            metric("standby_nodes", "gauge", "Nodes the operator put in standby.", [("", Double(admin?.standby.count ?? 0))])
            metric("maintenance_nodes", "gauge", "Nodes the operator put in maintenance.", [("", Double(admin?.maintenance.count ?? 0))])
        }
        var up: [(String, Double)] = [], loss: [(String, Double)] = [], age: [(String, Double)] = [], rtt: [(String, Double)] = []
        for n in nodes where n.state != "self" {
            for l in n.links {
                let lab = "peer=\"\(n.name)\",link=\"\(l.name)\""
                up.append((lab, l.up ? 1 : 0))
                loss.append((lab, l.lossPercent / 100))
                if let a = l.lastHeardMsAgo { age.append((lab, a / 1000)) }
                if let r = l.rttMs { rtt.append((lab, r / 1000)) }
            }
        }
        metric("peer_link_up", "gauge", "1 if the peer is heard on the link within the deadline.", up)
        metric("peer_link_loss_ratio", "gauge", "Share of the peer's last 64 frames on the link that never arrived.", loss)
        metric("peer_link_last_heard_seconds", "gauge", "Seconds since the peer was last heard on the link.", age)
        metric("peer_link_rtt_seconds", "gauge", "Latest probe round-trip time to the peer on the link.", rtt)
        for m in attributeAndAlertMetrics { metric(m.name, m.type, m.help, m.samples) }
        metric("frames_sent_total", "counter", "Frames sent (one per link per message).", [("", Double(frames.sent))])
        metric("frames_received_total", "counter", "Frames accepted.", [("", Double(frames.received))])
        metric("frames_rejected_total", "counter", "Frames dropped, by reason.",
               Rejection.allCases.map { ("reason=\"\($0.rawValue)\"", Double(frames.rejected[$0.rawValue] ?? 0)) })
        metric("send_errors_total", "counter", "Datagrams the kernel refused to send.", [("", Double(sendErrors))])
        metric("pauses_total", "counter", "Heartbeat ticks that ran later than interval/2 (own stalls).", [("", Double(frames.pauses))])
        o.append("# HELP vigil_loop_lateness_seconds How late each heartbeat tick ran.")
        o.append("# TYPE vigil_loop_lateness_seconds histogram")
        var cum = 0
        for (i, b) in LatenessHistogram.bounds.enumerated() {
            cum += lateness.counts[i]
            o.append("vigil_loop_lateness_seconds_bucket{le=\"\(num(b))\"} \(cum)")
        }
        o.append("vigil_loop_lateness_seconds_bucket{le=\"+Inf\"} \(lateness.total)")
        o.append("vigil_loop_lateness_seconds_sum \(num(lateness.sum))")
        o.append("vigil_loop_lateness_seconds_count \(lateness.total)")
        return o.joined(separator: "\n") + "\n"
    }
}

private func num(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)"
}
