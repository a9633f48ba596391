/// Anonymous clones (pure): a resource or group run as one instance on each of up to `max` nodes,
/// at most one per node. Instances are interchangeable: an instance is "the clone on node N", so
/// each node's report of the resource is the state of its instance, and a probe finds exactly the
/// instance that runs there. Pacemaker's semantics (Clusters from Scratch, "clone"):
/// - Placed first, as a set: every eligible node (as for a plain resource: member of a quorate
///   view, not standby, maintenance or pending fencing, location not -INFINITY, fail count below
///   the threshold), ranked by location score plus stickiness where an instance runs now, then the
///   node with fewer resources, then the lowest id; the best `max` of them (default: all).
/// - An instance on a node in maintenance stays there, unmanaged, and counts. With a bounded `max`
///   every node pending fencing counts as possibly running one until it is fenced, so the clone
///   never has more than `max` instances, and a new instance elsewhere waits for the stops of the
///   instances leaving (an unbounded clone's nodes act independently).
/// - Instances on different nodes start and stop independently, a group's members in order on each.
/// - Orders (Orders.swift): a THEN ordered after a clone waits for all its instances, unless both
///   are clones and THEN is `interleave`d: then each instance waits only for FIRST's instance on
///   its own node, and goes down only with that one.
public struct CloneSpec: Equatable, Sendable {
    /// The clone's own id (`[[clone]] id`, "ping-clone"), as status and the agents see it.
    public var id: String
    /// At most this many instances; nil: one on every eligible node.
    public var max: Int?
    public var interleave: Bool
    /// Passed to the agents as `OCF_RESKEY_CRM_meta_notify` (notifications come with promotable clones).
    public var notify: Bool
    /// Instances start unpromoted; up to `promotedMax` of them are promoted (Promotion.swift).
    public var promotable: Bool
    public var promotedMax: Int
    public init(id: String, max: Int? = nil, interleave: Bool = false, notify: Bool = false,
                promotable: Bool = false, promotedMax: Int = 1) {
        self.id = id
        self.max = max
        self.interleave = interleave
        self.notify = notify
        self.promotable = promotable
        self.promotedMax = promotedMax
    }
}

extension Placer {
    /// Every clone's instances. An interleaved clone ordered (mandatory) after another is placed
    /// among that one's nodes, before its `clone_max` is counted (seed 297: picked first and cut
    /// to FIRST's nodes afterwards, it came out empty and stopped everywhere); placed again until
    /// no restriction changes (chains of interleaved clones).
    static func placeClones(_ input: PlacementInput, _ out: inout [String: Placement], _ load: inout [NodeID: Int]) {
        let clones = input.units.filter { $0.clone != nil }
        guard !clones.isEmpty else { return }
        var placed: [String: NodeSet] = [:]
        for _ in 0...clones.count {
            var changed = false
            for u in clones {
                var within: NodeSet?
                for o in input.orders where o.mandatory && o.then == u.resources[0] && u.clone?.interleave == true {
                    guard input.units.contains(where: { $0.resources.first == o.first && $0.clone != nil }) else { continue }
                    within = (within ?? input.members).intersection(placed[o.first] ?? .empty)
                }
                let nodes = placeClone(u, input, load, within: within)
                if placed[u.resources[0]] != nodes { changed = true }
                placed[u.resources[0]] = nodes
            }
            if !changed { break }
        }
        for u in clones {
            let nodes = placed[u.resources[0]] ?? .empty
            for r in u.resources { out[r] = .instances(nodes) }
            for n in nodes { load[n, default: 0] += u.resources.count }
        }
    }

    /// The nodes a clone's instances go on (only among `within`, if given).
    static func placeClone(_ u: PlacementUnit, _ input: PlacementInput, _ load: [NodeID: Int], within: NodeSet? = nil) -> NodeSet {
        let active = u.resources.reduce(NodeSet.empty) { $0.union(input.active[$1] ?? .empty) }
        let kept = active.intersection(input.maintenance).intersection(input.members)
        guard input.quorate else { return kept }
        var slots = Int.max
        if let m = u.clone?.max { slots = m - kept.count - input.unclean.count }
        let eligible = input.members.subtracting(input.standby).subtracting(input.maintenance).subtracting(input.unclean)
            .intersection(within ?? input.members)
        var ranked: [(score: Int, stay: Int, load: Int, node: Int)] = []
        for n in eligible {
            guard let loc = locationScore(u, n, input) else { continue }
            let stay = active.contains(n) ? 1 : 0
            let score = loc.addingReportingOverflow(stay * u.stickiness).partialValue
            ranked.append((score, stay, -(load[n] ?? 0), -Int(n.rawValue)))
        }
        ranked.sort { $0 > $1 }
        return kept.union(NodeSet(ranked.prefix(Swift.max(0, slots)).map { NodeID(UInt16(-$0.node)) }))
    }
}

extension UnitDecision {
    /// A clone's decisions: on each node (maintenance aside), stop an instance that must not run
    /// there (not placed there, or failed; a group's members in reverse order), and start the next
    /// member of each placed instance.
    func decideClone(_ u: PlacementUnit, _ targets: NodeSet) -> [Decision] {
        var held = Set(maintenance)
        let (stops, stopFrom) = stopsAway(u, from: targets, held: &held)
        // A bounded clone: new instances only once the leaving ones are down.
        if u.clone?.max != nil && !stopFrom.isEmpty { return stops }
        let starts = targets.filter { stopFrom[$0] == nil && !held.contains($0) }.compactMap { nextStart(u, on: $0) }
        return stops + starts + roles(u, targets, settled: stopFrom.isEmpty && starts.isEmpty)
    }
}
