import VigilCore

extension ClusterConfig {
    /// UDP payload of one heartbeat frame: header, body (view id + alive set), tag.
    public static let heartbeatBytes = FrameHeader.size + 18 + FrameHeader.tagSize

    /// What the settings imply, in the words an operator needs (printed by `vigilctl validate`).
    public var derivedValues: [String] {
        let t = timing
        let perSecond = 1.0 / t.interval.seconds
        var out = [
            "cluster \(name) (id \(clusterID)): \(nodes.count) nodes, \(links.count) link(s), key \(keyFile)",
            "quorum: \(quorum.expectedVotes) votes expected, quorate at \(quorumThreshold) vote(s)"
                + (quorum.twoNode ? " (two-node mode)" : "") + (quorum.waitForAll ? ", wait-for-all at start" : ""),
            "timing: heartbeat every \(t.interval), a peer silent on every link for \(t.deadline) is dead",
            "  detection bound (last frame -> every survivor knows): \(t.detectionBound)",
            "  view install after detection (no loss): within \(t.installBound)",
            "  derived: settle \(t.settle), ack timeout \(t.ackTimeout), join wait \(t.joinWait), pause threshold \(t.pauseThreshold)",
        ]
        for l in links {
            let ipOverhead = (l.group?.isV6 ?? nodes.first?.addresses[Int(l.id.rawValue)].isV6 ?? false) ? 48 : 28
            let datagrams = l.mode == .multicast ? perSecond : perSecond * Double(nodes.count - 1)
            let bytes = datagrams * Double(ClusterConfig.heartbeatBytes + ipOverhead)
            let target = l.mode == .multicast ? "group \(l.group!):\(l.port) ttl \(l.ttl)" : "port \(l.port)"
            out.append("link \(l.id.rawValue) \(l.name): \(l.mode.rawValue) \(target): "
                       + "\(Int(datagrams)) heartbeats/s sent per node (\(Int(bytes)) B/s with IP+UDP headers), "
                       + "\(Int(datagrams * Double(nodes.count))) datagrams/s on the wire")
        }
        let f = fencing.policy
        if f.enabled {
            out.append("fencing: action \(f.action.rawValue), \(fencing.devices.count) device(s), retry backoff \(f.retryBackoff) doubling to \(f.maxBackoff); history \(fencing.historyFile)")
            for n in nodes {
                let levels = f.levels[n.id].map { $0.enumerated().map { "level \($0.offset + 1): \($0.element.joined(separator: "+"))" }.joined(separator: ", ") }
                    ?? (f.watchdog != nil ? "watchdog safe wait" : "NO DEVICE (operator confirm only)")
                let delay = f.delay[n.id].map { ", others wait \($0) before fencing it" } ?? ""
                out.append("  \(n.name): \(levels)\(delay)")
            }
            if f.randomDelayMax > .zero { out.append("  plus a random delay of up to \(f.randomDelayMax) before each first attempt") }
            if f.priorityDelay > .zero {
                let ranked = resources.filter { $0.priority != 0 }.map { "\($0.id) \($0.priority)" }
                out.append("  plus \(f.priorityDelay) before fencing the node running the highest resource priority, on a side without a majority"
                           + (ranked.isEmpty ? " (NO resource has a priority: it never applies)" : " (priorities: " + ranked.joined(separator: ", ") + ")"))
            }
            if let wd = f.watchdog {
                out.append("self-fencing: \(fencing.watchdogDevice) timeout \(wd.timeout); stops feeding after \(wd.quorumLossBound) without quorum; "
                           + "peers count a lost node without a device fenced after \(wd.safeWait(t))")
            }
        }
        for t in tickets {
            let p = t.policy
            out.append("ticket \(p.name): key \(arbiter?.ticketKey(p.name) ?? "?"), binds \(p.resources.joined(separator: ", ")); on loss: \(p.loss.rawValue); "
                       + (p.autoGrant ? "granted automatically when free" : "granted by the operator (vigilctl ticket grant)")
                       + "; resources stop \(p.stopMargin) before the lease could expire" + (p.acquireAfter > .zero ? ", start \(p.acquireAfter) after it is taken" : ""))
        }
        if let a = arbiter, a.vote {
            let p = a.policy
            let wd = fencing.policy.watchdog?.timeout
            out.append("arbiter: etcd \(a.endpoints.joined(separator: ", ")) key \(a.voteKey); lease \(p.ttl), read or renewed every \(p.renewEvery) "
                       + "(timeout \(a.timeout)); clocks may run apart by \(Double(p.rateBoundPPM) / 10_000)%")
            out.append("  after each renewal the vote counts for \(p.window(watchdog: wd))"
                       + (wd.map { " (the lease less the clock-rate bound and \(p.watchdogMargin($0)) for the watchdog to reset a node that loses it)" } ?? "")
                       + "; another partition can take it \(p.ttl) after the holder's last renewal reached etcd")
            out.append("  quorum: \(quorum.expectedVotes) node vote(s) + 1 arbiter vote expected, quorate at \((quorum.expectedVotes + 1) / 2 + 1)"
                       + (a.heuristics.map { "; heuristics: \($0.joined(separator: " ")) every \(a.heuristicsInterval)" } ?? ""))
        }
        if !resources.isEmpty {
            let all = Placer.place(PlacementInput(units: placementUnits, members: NodeSet(nodes.map(\.id)), quorate: true))
            let shown = resources.map { r -> String in
                switch all[r.id] {
                case .on(let n)?: return "\(r.id) -> \(node(n)?.name ?? "?")"
                case .instances(let s)? where !s.isEmpty:
                    return "\(r.id) (clone \(clone(of: r.id)?.id ?? "?")) -> " + s.map { node($0)?.name ?? "?" }.joined(separator: " ")
                default: return "\(r.id) -> stopped"
                }
            }
            out.append("resources with every node up: " + shown.joined(separator: ", "))
        }
        return out
    }

    public var quorumThreshold: Int { quorum.twoNode ? 1 : (quorum.expectedVotes + quorum.arbiterVotes) / 2 + 1 }
}
