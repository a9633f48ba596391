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
    /// Location rules and node health shape placement. Only the simulator's planted-bug check
    /// turns it off.
    public var applyRules = true
    /// Ordering constraints gate the owner's starts and stops (off only in the planted-bug check).
    public var applyOrders = true
    /// No promote while a node pending fencing may hold an instance (off only in the planted-bug check).
    public var promoteGate = true
    /// A node obeys no command of an owner on another resource policy (off only in the planted-bug check).
    public var policyGate = true
    /// A node takes only a newer copy of the replicated document than its own (off only in the
    /// planted-bug check: it takes any other copy a member runs).
    public var newestDocumentWins = true
    /// A revoked site ticket is released only once the owner knows its resources stopped
    /// everywhere (off only in the planted-bug check: released at once).
    public var releaseGate = true
    /// Fencing devices, levels, delays and self-fencing (off unless the config enables it).
    public var fencing = FencingPolicy.disabled
    /// The external vote on an etcd lease (Membership/Arbiter.swift); `quorum.arbiterVotes` is 1 with it.
    public var arbiter: ArbiterPolicy?
    /// Site tickets (Tickets/Tickets.swift) and their leases' timing (the `[arbiter]` section's).
    public var tickets: [TicketPolicy] = []
    public var ticketLease: ArbiterPolicy?
    /// Resources the supervisor places and runs (none unless the config has [[resource]]).
    public var resources = ResourcePolicy()
    /// What this node's config file says, one hash per part: members compare their copies
    /// (Membership/ConfigAgreement.swift). All zero (not compared) unless the shell sets it.
    public var digest = ConfigDigest()

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
