/// The resource supervisor's values on the wire: states, reports' entries, commands and their
/// acknowledgements, and the operator's replicated instructions.

/// A resource's state on one node, as that node reports it (one byte on the wire).
public enum ResourceState: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case unknown = 0      // not probed yet
    case stopped = 1
    case starting = 2
    case running = 3
    case stopping = 4
    case failed = 5       // monitor or start failed; still needs a stop
    case stopFailed = 6   // a stop failed or timed out: only fencing the node clears it
    // Promotable clones: `running` is the unpromoted role.
    case promoting = 7
    case promoted = 8
    case demoting = 9
    case failedPromoted = 10  // a monitor found it promoted but failed (OCF 9): demoted, then stopped
    public var description: String {
        ["unknown", "stopped", "starting", "running", "stopping", "failed", "stop-failed",
         "promoting", "promoted", "demoting", "failed-promoted"][Int(rawValue)]
    }
    /// Might be active on that node (anything but a clean stop).
    public var mayBeActive: Bool { self != .stopped && self != .unknown }
    /// Runs, in either role, with no operation under way.
    public var isUp: Bool { self == .running || self == .promoted }
    /// Holds (or may hold) the promoted role.
    public var holdsPromoted: Bool { self == .promoted || self == .promoting || self == .demoting || self == .failedPromoted }
}

public struct ResourceEntry: Equatable, Sendable {
    /// The fail count of a hard error (Pacemaker's INFINITY): never placed on that node again
    /// until cleared; ordinary failures count up to one less.
    public static let infinity: UInt8 = 255
    public var id: String
    public var state: ResourceState
    public var failCount: UInt8
    /// The last command this node obeyed for the resource (so the owner knows whether a report
    /// was made before or after its command arrived).
    public var ack: CommandAck
    public init(id: String, state: ResourceState, failCount: UInt8, ack: CommandAck = .none) {
        self.id = id
        self.state = state
        self.failCount = failCount
        self.ack = ack
    }
}

/// Which owner's command, in which view, with which sequence number.
public struct CommandAck: Equatable, Sendable {
    public var view: ViewID
    public var from: NodeID
    public var seq: UInt32
    public init(view: ViewID, from: NodeID, seq: UInt32) {
        self.view = view
        self.from = from
        self.seq = seq
    }
    public static let none = CommandAck(view: .none, from: NodeID(0), seq: 0)
}

/// What the decision owner tells one node to do with one resource.
public enum ResourceAction: UInt8, Sendable {
    case start = 1, stop = 2
    case promote = 3, demote = 4
    /// The word events and logs use ("start", "promote"; not a `description`: the simulator's
    /// trace digests print notices as Swift does).
    public var word: String { ["", "start", "stop", "promote", "demote"][Int(rawValue)] }
}

/// The operator's standing instructions to the cluster (`vigilctl resource|node ...`), replicated
/// whole: the copy with the highest (version, origin) wins everywhere (last writer wins; two
/// operators changing it at the same moment on different nodes: one change is lost, both are told).
public struct AdminState: Equatable, Sendable {
    /// preferPromoted: a promotable clone's promoted role goes to that node (`move --promoted`).
    public enum Kind: UInt8, Sendable { case prefer = 1, ban = 2, preferPromoted = 3 }
    public struct Constraint: Equatable, Sendable {
        public var resource: String
        public var node: NodeID
        public var kind: Kind
        public init(resource: String, node: NodeID, kind: Kind) {
            self.resource = resource
            self.node = node
            self.kind = kind
        }
    }
    public var version: UInt64 = 0
    public var origin = NodeID(0)
    /// Nodes that may run no resource.
    public var standby = NodeSet.empty
    /// Nodes in maintenance: what runs there is left alone (not monitored, stopped, started or
    /// moved), nothing new is placed there.
    public var maintenance = NodeSet.empty
    /// Location constraints the operator added (move = prefer, ban = never).
    public var constraints: [Constraint] = []
    /// Per resource, counters: when one grows, every node clears the resource's fail count and
    /// re-probes it (cleanup), or the node running it stops and starts it in place (restart).
    public var cleanups: [String: UInt32] = [:]
    public var restarts: [String: UInt32] = [:]
    public init() {}

    public func isNewer(than o: AdminState) -> Bool { (version, origin.rawValue) > (o.version, o.origin.rawValue) }
}
