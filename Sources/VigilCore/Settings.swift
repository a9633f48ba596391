/// Heartbeat timing: the two knobs a user sets. Everything else is derived and printed by
/// `vigilctl validate`, so no knob interacts silently with another.
public struct Timing: Equatable, Sendable {
    /// Heartbeat period on every link (10 ms at the least).
    public var interval: TimeSpan
    /// A peer silent on every link for longer than this is dead.
    public var deadline: TimeSpan

    public static let minimumInterval = TimeSpan.ms(10)
    public static let `default` = Timing(interval: .ms(20), deadline: .ms(100))

    public init(interval: TimeSpan, deadline: TimeSpan) {
        self.interval = interval
        self.deadline = deadline
    }

    /// How long the coordinator waits for peers' heartbeats to agree on who is alive
    /// before proposing a view anyway.
    public var settle: TimeSpan { interval * 3 }
    /// How long a proposal waits for acks before it is dropped and made afresh.
    public var ackTimeout: TimeSpan { max(interval * 6, deadline) }
    /// A node that just started listens this long before forming a view on its own.
    public var joinWait: TimeSpan { deadline + interval * 2 }
    /// Own tick later than this counts as a pause of this node, not silence of its peers.
    public var pauseThreshold: TimeSpan { interval / 2 }
    /// Worst case from a node's last frame to every survivor declaring it dead
    /// (deadline, plus one tick of granularity, plus one interval since its last heartbeat).
    public var detectionBound: TimeSpan { deadline + interval * 2 }
    /// Worst case from detection on every survivor to the new view being installed, without loss:
    /// connectivity agreement (settle), then propose, ack and install (three one-way trips, each under
    /// an interval on a LAN), plus one tick of granularity.
    public var installBound: TimeSpan { settle + interval * 4 }
}

/// Vote-based quorum. Two-node mode is corosync's `two_node`: one vote of two is quorate,
/// but only after both nodes were seen together once (wait-for-all).
public struct QuorumPolicy: Equatable, Sendable {
    public var votes: [NodeID: Int]
    public var expectedVotes: Int
    public var twoNode: Bool
    public var waitForAll: Bool
    /// What a node that loses quorum does with its resources: stop them (Pacemaker's default) or
    /// leave them as they are (freeze). Either way the quorate side fences it before recovering them.
    public var stopResourcesWithoutQuorum = true

    public init(votes: [NodeID: Int], expectedVotes: Int? = nil, twoNode: Bool = false, waitForAll: Bool? = nil) {
        self.votes = votes
        self.expectedVotes = expectedVotes ?? votes.values.reduce(0, +)
        self.twoNode = twoNode
        self.waitForAll = waitForAll ?? twoNode
    }

    public func votes(of members: NodeSet) -> Int {
        members.reduce(0) { $0 + (votes[$1] ?? 0) }
    }

    /// The majority rule (and the two-node rule), given whether all nodes were once seen together.
    public func isQuorate(_ members: NodeSet, allSeenTogether: Bool) -> Bool {
        if waitForAll && !allSeenTogether { return false }
        let v = votes(of: members)
        if twoNode { return v >= 1 }
        return v * 2 > expectedVotes
    }

    /// All configured voters present at once: lifts wait-for-all for the rest of this incarnation.
    public func isComplete(_ members: NodeSet) -> Bool {
        votes.keys.allSatisfy { members.contains($0) }
    }
}

/// What the core needs to know about the cluster (a projection of the full config file).
public struct CoreConfig: Equatable, Sendable {
    public var cluster: UInt32
    public var nodes: NodeSet
    public var links: [LinkID]
    public var timing: Timing
    public var quorum: QuorumPolicy
    /// The self-pause rule (see `FailureDetector.excuse`). Only the simulator's planted-bug check turns it off.
    public var selfPauseRule = true
    /// Resources of a node that must be fenced stay frozen until it is. Only the simulator's
    /// planted-bug check turns it off.
    public var fenceGate = true
    /// Fencing devices, levels, delays and self-fencing (off unless the config enables it).
    public var fencing = FencingPolicy.disabled
    /// Resources the supervisor places and runs (none unless the config has [[resource]]).
    public var resources = ResourcePolicy()

    public init(cluster: UInt32, nodes: NodeSet, links: [LinkID], timing: Timing, quorum: QuorumPolicy) {
        self.cluster = cluster
        self.nodes = nodes
        self.links = links
        self.timing = timing
        self.quorum = quorum
    }

    /// A cluster of nodes 1...n with one vote each, on `links` links.
    public static func uniform(nodes n: Int, links: Int = 2, timing: Timing = .default, cluster: UInt32 = 1) -> CoreConfig {
        let ids = (1...n).map { NodeID(UInt16($0)) }
        return CoreConfig(cluster: cluster, nodes: NodeSet(ids), links: (0..<links).map { LinkID(UInt8($0)) },
                          timing: timing,
                          quorum: QuorumPolicy(votes: Dictionary(uniqueKeysWithValues: ids.map { ($0, 1) }),
                                               twoNode: n == 2))
    }
}
