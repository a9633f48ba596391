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
        return out
    }

    public var quorumThreshold: Int { quorum.twoNode ? 1 : quorum.expectedVotes / 2 + 1 }
}
