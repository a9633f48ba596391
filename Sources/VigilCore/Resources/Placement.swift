/// Resource placement (pure): where each resource should run, given the view, the nodes that
/// still need fencing, the current locations, fail counts and the config's preferences. The
/// supervisor's scheduler (issue 6, not wired into vigild yet) turns the difference between the
/// current and the wanted placement into stop/start actions.
///
/// Rules, in order:
/// 1. A resource last seen on a node that still needs fencing is *frozen*: it is placed nowhere
///    new until that node is fenced (it may still be running there).
/// 2. Eligible nodes: members of a quorate view, not in standby or maintenance (a unit running on
///    a node in maintenance stays there, whatever else holds), not pending fencing, location
///    score not "never", fail count below the migration threshold and not INFINITY (a hard error
///    there: agent not installed), and no other resource of the
///    same spread set already placed there (N+M: at most one per node).
/// 3. A group is placed as one unit (its first resource's preferences and the sum of its
///    members' fail counts), on one node.
/// 4. Colocation: a unit `with` another runs only on the node that one is placed on (placed after
///    the others; stopped if that one is stopped or frozen). Anti-colocation (`apart`): never on a
///    node where one of those is placed, whichever of the two was declared apart.
/// 5. Score = location score + stickiness if it runs there now; the highest wins; ties go to the
///    node it runs on now, then the node running fewer resources, then the lowest node id.
/// 6. An anonymous clone (Clones.swift) is placed first, as a set of nodes: one instance per
///    eligible node, the best `clone_max` of them.
public struct PlacementUnit: Equatable, Sendable {
    /// Resource ids, in start order (one for a plain resource, several for a group).
    public var resources: [String]
    /// Node -> score; `PlacementUnit.never` forbids the node.
    public var location: [NodeID: Int]
    public var stickiness: Int
    public var migrationThreshold: Int
    /// Units with the same spread tag never share a node (N+M).
    public var spread: String?
    /// Runs only where this resource (of another unit) runs (mandatory colocation).
    public var with: String?
    /// Never on the node of any of these resources (mandatory anti-colocation).
    public var apart: [String]
    /// Location rules over node attributes (Rules.swift), turned into `location` before placing.
    public var rules: [LocationRule]
    /// Advisory colocation: this score is added on the node where that resource is placed
    /// (negative: rather apart), weighed with location and stickiness.
    public var near: [Near]
    /// Run as an anonymous clone: an instance on each of up to `clone.max` nodes (Clones.swift).
    public var clone: CloneSpec?
    /// With `with` naming a promotable clone: only where its instance holds the promoted role
    /// (Pacemaker's `with-rsc-role=Promoted`; started only once it is promoted there).
    public var withPromoted = false
    public struct Near: Equatable, Sendable {
        public var resource: String
        public var score: Int
        public init(resource: String, score: Int) {
            self.resource = resource
            self.score = score
        }
    }

    public static let never = Int.min

    public init(resources: [String], location: [NodeID: Int] = [:], stickiness: Int = 100,
                migrationThreshold: Int = 3, spread: String? = nil, with: String? = nil, apart: [String] = [],
                rules: [LocationRule] = [], near: [Near] = [], clone: CloneSpec? = nil) {
        self.clone = clone
        self.resources = resources
        self.location = location
        self.stickiness = stickiness
        self.migrationThreshold = migrationThreshold
        self.spread = spread
        self.with = with
        self.apart = apart
        self.rules = rules
        self.near = near
    }
}

public struct PlacementInput: Equatable, Sendable {
    public var units: [PlacementUnit]
    /// Members of the current view; empty (or `quorate == false`) places nothing.
    public var members: NodeSet
    public var quorate: Bool
    public var standby: NodeSet = .empty
    /// Nodes in maintenance: units running there stay there, untouched; nothing new goes there.
    public var maintenance: NodeSet = .empty
    /// Nodes lost uncleanly and not yet fenced.
    public var unclean: NodeSet = .empty
    /// Where each resource runs now (or was last known to run).
    public var current: [String: NodeID] = [:]
    /// Resource -> node -> failures counted there.
    public var failCounts: [String: [NodeID: Int]] = [:]
    /// Clone resources: the members where each may be active now (a clone's instances stay put).
    public var active: [String: NodeSet] = [:]
    /// Mandatory orders: an interleaved clone after another clone is placed only where that one is.
    public var orders: [OrderConstraint] = []
    /// Promotable clones: members where an instance holds (or is taking, or giving up) the promoted role.
    public var promoted: [String: NodeSet] = [:]

    public init(units: [PlacementUnit], members: NodeSet, quorate: Bool) {
        self.units = units
        self.members = members
        self.quorate = quorate
    }
}

public enum Placement: Equatable, Sendable {
    case on(NodeID)
    /// Last seen on a node that must be fenced first.
    case frozen(on: NodeID)
    /// No eligible node.
    case stopped(reason: String)
    /// A clone's instances: one on each of these nodes (empty: none anywhere).
    case instances(NodeSet)
}

public enum Placer {
    /// Resource id -> placement. Deterministic: the same input gives the same answer everywhere.
    public static func place(_ input: PlacementInput) -> [String: Placement] {
        var out: [String: Placement] = [:]
        var load: [NodeID: Int] = [:]
        var spreadUsed: [String: NodeSet] = [:]
        func setAll(_ u: PlacementUnit, _ p: Placement) { for r in u.resources { out[r] = p } }

        // Pass 1: frozen units and units staying put claim their nodes first (so that a moving
        // unit never takes a spread slot a staying one holds).
        var pending: [PlacementUnit] = []
        placeClones(input, &out, &load)
        for u in input.units where u.clone == nil {
            if let n = u.resources.lazy.compactMap({ input.current[$0] }).first(where: { input.unclean.contains($0) }) {
                setAll(u, .frozen(on: n))
                if let s = u.spread { spreadUsed[s, default: .empty].insert(n) }
                load[n, default: 0] += u.resources.count
                continue
            }
            if let n = u.resources.lazy.compactMap({ input.current[$0] })
                .first(where: { input.maintenance.contains($0) && input.members.contains($0) }) {
                setAll(u, .on(n))  // unmanaged while the node is in maintenance
                if let s = u.spread { spreadUsed[s, default: .empty].insert(n) }
                load[n, default: 0] += u.resources.count
                continue
            }
            pending.append(u)
        }
        guard input.quorate else {
            for u in pending { setAll(u, .stopped(reason: "no quorum")) }
            return out
        }
        let eligibleBase = input.members.subtracting(input.standby).subtracting(input.maintenance).subtracting(input.unclean)
        // Units running somewhere keep priority in config order; the rest follow; units colocated
        // with another come after every other.
        let free = pending.filter { $0.with == nil }
        // Units with an advisory colocation are placed after the resources they weigh.
        let leading = free.filter { $0.near.isEmpty }, weighing = free.filter { !$0.near.isEmpty }
        let ordered = leading.filter { isRunning($0, input) } + leading.filter { !isRunning($0, input) }
            + weighing.filter { isRunning($0, input) } + weighing.filter { !isRunning($0, input) } + pending.filter { $0.with != nil }
        func nodes(of rid: String) -> NodeSet {
            switch out[rid] {
            case .on(let n)?, .frozen(let n)?: NodeSet([n])
            case .instances(let s)?: s
            default: .empty
            }
        }
        for u in ordered {
            let here = u.resources.lazy.compactMap { input.current[$0] }.first
            var allowed = eligibleBase
            if let w = u.with {
                // With a clone: on a node with one of its instances.
                let frozen = { if case .frozen? = out[w] { true } else { false } }()
                guard !frozen, !nodes(of: w).isEmpty else {
                    setAll(u, .stopped(reason: "'\(w)' (colocated) is not placed"))
                    continue
                }
                allowed = allowed.intersection(nodes(of: w))
                if u.withPromoted {
                    allowed = allowed.intersection(input.promoted[w] ?? .empty)
                    if allowed.isEmpty {
                        setAll(u, .stopped(reason: "'\(w)' has no promoted instance"))
                        continue
                    }
                }
            }
            for a in u.apart { allowed = allowed.subtracting(nodes(of: a)) }
            for other in input.units where other.apart.contains(where: u.resources.contains) {
                for r in other.resources { allowed = allowed.subtracting(nodes(of: r)) }
            }
            var best: (score: Int, stay: Int, load: Int, node: NodeID)?
            for n in allowed {
                guard let loc = locationScore(u, n, input) else { continue }
                if let s = u.spread, spreadUsed[s]?.contains(n) == true { continue }
                var score = loc.addingReportingOverflow(n == here ? u.stickiness : 0).partialValue
                for c in u.near where nodes(of: c.resource).contains(n) { score = Rules.add(score, c.score) }
                if score == PlacementUnit.never { continue }
                let l = load[n] ?? 0
                // Ties: where it runs now, then the node with fewer resources, then the lowest id.
                let stay = n == here ? 1 : 0
                if let b = best, (b.score, b.stay, -b.load, -Int(b.node.rawValue)) >= (score, stay, -l, -Int(n.rawValue)) { continue }
                best = (score, stay, l, n)
            }
            guard let b = best else {
                setAll(u, .stopped(reason: "no eligible node"))
                continue
            }
            setAll(u, .on(b.node))
            load[b.node, default: 0] += u.resources.count
            if let s = u.spread { spreadUsed[s, default: .empty].insert(b.node) }
        }
        return out
    }

    /// The unit's location score on `n`; nil where it may not run (never, or too many failures).
    static func locationScore(_ u: PlacementUnit, _ n: NodeID, _ input: PlacementInput) -> Int? {
        let loc = u.location[n] ?? 0
        if loc == PlacementUnit.never { return nil }
        let counts = u.resources.map { input.failCounts[$0]?[n] ?? 0 }
        if counts.reduce(0, +) >= u.migrationThreshold || counts.contains(Int(ResourceEntry.infinity)) { return nil }
        return loc
    }

    private static func isRunning(_ u: PlacementUnit, _ input: PlacementInput) -> Bool {
        u.resources.contains { input.current[$0].map { input.members.contains($0) } ?? false }
    }
}
