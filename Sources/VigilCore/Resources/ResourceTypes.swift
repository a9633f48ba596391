/// The resource vocabulary shared by the supervisor, the owner's decision and the shells.

/// What to do when a resource's monitor fails (Pacemaker's on-fail).
public enum OnFail: String, Sendable, Equatable, CaseIterable {
    case restart, move, fence, block, ignore
}

public struct ResourcePolicy: Equatable, Sendable {
    public var units: [PlacementUnit] = []
    public var onFail: [String: OnFail] = [:]
    /// A node forgets a resource's failures this long after the last one (absent: never).
    public var failureTimeout: [String: TimeSpan] = [:]
    /// How often a running resource is monitored (absent or zero: never).
    public var monitorInterval: [String: TimeSpan] = [:]
    /// Node names and the cluster's name, for the rules' `#uname` and `#cluster-name`.
    public var nodeNames: [NodeID: String] = [:]
    public var clusterName = ""
    public var health = HealthStrategy.none
    /// `[[order]]` constraints between units (Orders.swift).
    public var orders: [OrderConstraint] = []
    /// A promotable clone's monitor interval in the promoted role (absent: `monitorInterval`).
    public var promotedMonitorInterval: [String: TimeSpan] = [:]
    /// What each resource runs (agent, parameters, operation settings), as a hash: a resource
    /// whose hash changes in a new policy is restarted with it (Supervisor+Adopt.swift).
    public var definitions: [String: UInt64] = [:]
    /// Resource priorities (Pacemaker's `priority` meta attribute; absent: 0). A node's priority is
    /// the sum over what it runs, a promoted instance counting one more (`nodePriorities`); fencing
    /// delays the node with the highest (`FencingPolicy.priorityDelay`).
    public var priority: [String: Int] = [:]
    /// Which policy this is: members report it, and the owner decides only from reports of its
    /// own (a member still on another has not taken the change yet). 0: the one it started with.
    public var version: UInt64 = 0
    public init(units: [PlacementUnit] = [], onFail: [String: OnFail] = [:], failureTimeout: [String: TimeSpan] = [:],
                monitorInterval: [String: TimeSpan] = [:], nodeNames: [NodeID: String] = [:], clusterName: String = "",
                health: HealthStrategy = .none, orders: [OrderConstraint] = [],
                promotedMonitorInterval: [String: TimeSpan] = [:]) {
        self.promotedMonitorInterval = promotedMonitorInterval
        self.orders = orders
        self.nodeNames = nodeNames
        self.clusterName = clusterName
        self.health = health
        self.units = units
        self.onFail = onFail
        self.failureTimeout = failureTimeout
        self.monitorInterval = monitorInterval
    }
    public var ids: [String] { units.flatMap(\.resources) }

    /// Each node's total priority over what its report shows there (starting, running, promoting,
    /// promoted or demoting): the sum of the resources' priorities, a
    /// promoted instance of a resource with a priority counting one more, as in Pacemaker.
    private static let counted: Set<ResourceState> = [.starting, .running, .promoting, .promoted, .demoting]
    public func nodePriorities(_ reports: [NodeID: [String: ResourceEntry]]) -> [NodeID: Int] {
        guard !priority.isEmpty else { return [:] }
        return reports.mapValues { entries in
            entries.values.reduce(0) { sum, e in
                guard let p = priority[e.id], p != 0, Self.counted.contains(e.state) else { return sum }
                return sum + p + (e.state.holdsPromoted ? 1 : 0)
            }
        }
    }
    public var isEmpty: Bool { units.isEmpty }
}

/// What the shell must run on this node.
public enum ResourceOp: String, Sendable {
    case probe, start, stop
    /// The recurring monitor of what runs here (after a start or a probe found it running): run
    /// every `ResourceOrder.every`, reported only when it no longer finds the resource running.
    /// A start, stop or `unmonitor` of the resource ends it.
    case monitor
    /// End the recurring monitor (the node went into maintenance); nothing is run or reported.
    case unmonitor
    /// A promotable clone's instance: take or give up the promoted role (Promotion.swift).
    case promote, demote
    /// A clone notification (`ResourceOrder.notify`; Notifications.swift): its outcome is only logged.
    case notify
}

public struct ResourceOrder: Equatable, Sendable {
    public var id: String
    public var op: ResourceOp
    /// For `.monitor`: the interval.
    public var every = TimeSpan.zero
    /// For `.monitor` of a promotable clone's instance: the role it checks (the agent gets
    /// `OCF_RESKEY_CRM_meta_role`; healthy is "running promoted", OCF 8, instead of 0).
    public var promoted = false
    /// For `.notify`: the notification.
    public var notify: NotifyInfo?
    public init(id: String, op: ResourceOp, every: TimeSpan = .zero, promoted: Bool = false, notify: NotifyInfo? = nil) {
        self.id = id
        self.op = op
        self.every = every
        self.promoted = promoted
        self.notify = notify
    }
}

/// How an operation ended, as the shell read the agent's exit code.
public enum ResourceOutcome: String, Sendable {
    case running, stopped, failed, stopFailed
    /// A hard error: this node cannot run the resource at all (agent or unit not installed here,
    /// OCF 5; arguments invalid here, OCF 2). As in Pacemaker, the fail count here becomes
    /// INFINITY: not started here again until `cleanup` or the failure timeout. From a probe it
    /// also means "not running here" (nothing can run from an agent that is not there).
    case unavailable
    /// Promotable clones: running in the promoted role (a promote that succeeded, or OCF 8 from a
    /// probe or monitor), and promoted but failed (OCF 9).
    case promoted, failedPromoted
}


/// The last failure seen of a resource, on any node.
public struct ResourceFailure: Equatable, Sendable {
    public var node: NodeID
    public var state: ResourceState
    public var at: Instant
}

/// A member's last report of its resources, as the owner holds it.
public struct PeerReport: Equatable, Sendable {
    /// The view the sender was in when it made the report.
    public var view = ViewID.none
    /// Every resource has been probed there.
    public var probed: Bool
    public var entries: [String: ResourceEntry]
    /// The resource policy the sender runs (`ResourcePolicy.version`).
    public var policy: UInt64
    /// Redefined clones whose old instance still runs there (Supervisor+Adopt.swift).
    public var draining: Set<String>
    /// The sender is stopping its resources to leave gracefully: nothing is placed there.
    public var leaving: Bool
    public init(view: ViewID = .none, probed: Bool, entries: [String: ResourceEntry], policy: UInt64 = 0,
                draining: Set<String> = [], leaving: Bool = false) {
        self.view = view
        self.probed = probed
        self.entries = entries
        self.policy = policy
        self.draining = draining
        self.leaving = leaving
    }
}
