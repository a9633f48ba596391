import VigilCore

/// How a link carries frames.
public enum LinkMode: String, Sendable, Equatable {
    /// One datagram per interval to a group, joined on this link's interface only.
    case multicast
    /// One datagram per interval to each peer's address on this link.
    case unicast
}

public struct LinkSpec: Sendable, Equatable {
    public var id: LinkID
    public var name: String
    public var mode: LinkMode
    public var group: IPAddress?
    public var port: UInt16
    public var ttl: Int
}

public struct NodeSpec: Sendable, Equatable {
    public var id: NodeID
    public var name: String
    public var votes: Int
    /// One per link, in link order.
    public var addresses: [IPAddress]
    /// Others wait this long before fencing this node (the preferred survivor of a split).
    public var fenceDelay = TimeSpan.zero
}

/// The whole cluster, validated. One file describes every node; each daemon picks its own entry.
public struct ClusterConfig: Sendable, Equatable {
    public var file: String
    public var name: String
    public var clusterID: UInt32
    public var keyFile: String
    /// What a node keeps across restarts besides the fence history: the operator's resource
    /// instructions (`admin-state.json`). "%n" is the node's name.
    public var stateDir = "/var/lib/vigil"
    public var timing: Timing
    public var quorum: QuorumPolicy
    public var links: [LinkSpec]
    public var nodes: [NodeSpec]
    public var fencing = FencingConfig()
    /// `[arbiter]`: the external vote on an etcd lease (ArbiterConfig.swift).
    public var arbiter: ArbiterConfig?
    public var tickets: [TicketSpec] = []
    public var resources: [ResourceSpec] = []
    /// `[cluster] node_health_strategy` over `#health*` attributes.
    public var health = HealthStrategy.none
    /// `[[alert]]` programs run for cluster events.
    public var alerts: [AlertSpec] = []
    /// `[[clone]]`s, by the leading resource of the unit each clones.
    public var clones: [String: CloneSpec] = [:]
    /// `[[order]]` constraints between resources and groups.
    public var orders: [OrderConstraint] = []
    /// Warnings found while validating (the config is usable).
    public var warnings: [Diagnostic] = []
    /// One hash per part of the file (ConfigDigest+Document.swift): members compare them.
    public var digest = ConfigDigest()
    /// `[document] epoch`: the operator's epoch of the replicated document (ReplicatedDocument.swift).
    public var documentEpoch: UInt32 = 1

    public var core: CoreConfig {
        var c = CoreConfig(cluster: clusterID, nodes: NodeSet(nodes.map(\.id)), links: links.map(\.id),
                           timing: timing, quorum: quorum)
        c.fencing = fencing.policy
        c.arbiter = arbiter?.vote == true ? arbiter?.policy : nil
        c.tickets = tickets.map(\.policy)
        c.ticketLease = tickets.isEmpty ? nil : arbiter?.policy
        c.resources = resourcePolicy
        c.digest = digest
        return c
    }

    public func node(named n: String) -> NodeSpec? { nodes.first { $0.name == n } }
    public func node(_ id: NodeID) -> NodeSpec? { nodes.first { $0.id == id } }

    /// Reads, parses and validates in one go; the first error, or the config with its warnings.
    public static func load(text: String, file: String) -> Result<ClusterConfig, Diagnostic> {
        switch ConfigDocument.parse(text, file: file) {
        case .failure(let d): return .failure(d)
        case .success(let doc):
            return ConfigValidator(doc).validate().map { c in
                var c = c
                c.digest = doc.digest
                return c
            }
        }
    }
}
