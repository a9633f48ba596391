import VigilCore

/// What a reload of a changed file does to the resources (`vigilctl config diff OLD NEW`), as
/// the core carries it out (Supervisor+Adopt.swift): which resources start, stop and restart (and
/// why), which may move because their placement changed, and which other parts would not apply
/// without a restart. Where a changed placement puts a resource depends on the cluster's state
/// (members, attributes, the operator's constraints): this says which ones may move, not where.
public struct ResourceChanges: Equatable, Sendable {
    public struct Change: Equatable, Sendable {
        public var id: String
        public var why: [String]
    }

    /// Started once every member probed them.
    public var added: [String] = []
    /// Stopped where they run, then forgotten.
    public var removed: [String] = []
    /// Restarted where they run: a plain resource in place (a group's later members with it), a
    /// clone's instances all stopped before any starts again.
    public var restarted: [Change] = []
    /// Placed again by the owner: they may move.
    public var placement: [Change] = []
    /// Ordering constraints added or removed.
    public var orders: [String] = []
    /// Parts that change but need a restart of vigild (everything but resources and timing).
    public var needRestart: [String] = []
    public var timing = false

    public init(from old: ClusterConfig, to new: ClusterConfig) {
        let before = Dictionary(old.resources.map { ($0.id, $0) }) { a, _ in a }
        let after = Dictionary(new.resources.map { ($0.id, $0) }) { a, _ in a }
        added = new.resources.map(\.id).filter { before[$0] == nil }
        removed = old.resources.map(\.id).filter { after[$0] == nil }
        for r in new.resources {
            guard let o = before[r.id] else { continue }
            if old.definition(of: o) != new.definition(of: r) {
                restarted.append(Change(id: r.id, why: ResourceChanges.definitionDifferences(o, r, old, new)))
            }
        }
        for g in ResourceChanges.laterGroupMembers(restarted.map(\.id), new) where !restarted.contains(where: { $0.id == g.id }) {
            restarted.append(g)
        }
        let oldUnits = Dictionary(old.placementUnits.map { ($0.resources[0], $0) }) { a, _ in a }
        for u in new.placementUnits {
            guard let o = oldUnits[u.resources[0]] else { continue }
            let why = ResourceChanges.placementDifferences(o, u)
            if !why.isEmpty { placement.append(Change(id: u.resources[0], why: why)) }
        }
        func word(_ o: OrderConstraint) -> String {
            "\(o.first)\(o.firstAction == .start ? "" : " (\(o.firstAction.word))") then \(o.then)"
                + (o.mandatory ? "" : " (optional)") + (o.symmetrical ? "" : " (asymmetrical)")
        }
        orders = old.orders.filter { !new.orders.contains($0) }.map { "removed: " + word($0) }
            + new.orders.filter { !old.orders.contains($0) }.map { "added: " + word($0) }
        let parts = old.digest.differences(new.digest)
        timing = parts.contains(.timing)
        needRestart = parts.filter { $0 != .timing && $0 != .resources }.map(\.description)
        if old.clusterID != new.clusterID || old.keyFile != new.keyFile { needRestart.append("cluster id/key") }
    }

    public var isEmpty: Bool {
        added.isEmpty && removed.isEmpty && restarted.isEmpty && placement.isEmpty && orders.isEmpty && needRestart.isEmpty && !timing
    }

    /// What `vigilctl config diff` prints.
    public var text: String {
        guard !isEmpty else { return "no change" }
        var out: [String] = []
        if !added.isEmpty { out.append("start: " + added.joined(separator: ", ")) }
        if !removed.isEmpty { out.append("stop: " + removed.joined(separator: ", ")) }
        for c in restarted { out.append("restart \(c.id): " + c.why.joined(separator: "; ")) }
        for c in placement { out.append("placed again (may move) \(c.id): " + c.why.joined(separator: "; ")) }
        for o in orders { out.append("order " + o) }
        if timing { out.append("timing: applied live") }
        if !needRestart.isEmpty {
            out.append("needs a restart of vigild (not applied by a reload): " + needRestart.joined(separator: ", "))
        }
        return out.joined(separator: "\n")
    }

    static func definitionDifferences(_ o: ResourceSpec, _ r: ResourceSpec, _ old: ClusterConfig, _ new: ClusterConfig) -> [String] {
        var why: [String] = []
        if o.agent != r.agent { why.append("agent \(o.agent) -> \(r.agent)") }
        let before = Dictionary(o.params.map { ($0.0, $0.1) }) { a, _ in a }
        let after = Dictionary(r.params.map { ($0.0, $0.1) }) { a, _ in a }
        for (k, v) in r.params where before[k] != v { why.append(before[k].map { "\(k) \($0) -> \(v)" } ?? "\(k) = \(v) added") }
        for (k, _) in o.params where after[k] == nil { why.append("\(k) removed") }
        if why.isEmpty && o.params.map(\.0) != r.params.map(\.0) { why.append("parameters reordered") }
        let (mo, mn) = (old.cloneMeta(of: o.id) ?? [], new.cloneMeta(of: r.id) ?? [])
        if mo.map({ $0.0 + "=" + $0.1 }) != mn.map({ $0.0 + "=" + $0.1 }) { why.append("clone meta attributes changed") }
        return why
    }

    /// A restarted group member takes the later members of its group with it.
    static func laterGroupMembers(_ ids: [String], _ c: ClusterConfig) -> [Change] {
        var out: [Change] = []
        for u in c.placementUnits where u.resources.count > 1 {
            guard let i = u.resources.firstIndex(where: ids.contains) else { continue }
            for m in u.resources[(i + 1)...] { out.append(Change(id: m, why: ["with \(u.resources[i]), earlier in its group"])) }
        }
        return out
    }

    static func placementDifferences(_ o: PlacementUnit, _ u: PlacementUnit) -> [String] {
        var why: [String] = []
        if o.resources != u.resources { why.append("group members " + o.resources.joined(separator: ",") + " -> " + u.resources.joined(separator: ",")) }
        if o.location != u.location { why.append("location scores") }
        if o.stickiness != u.stickiness { why.append("stickiness \(o.stickiness) -> \(u.stickiness)") }
        if o.migrationThreshold != u.migrationThreshold { why.append("migration threshold \(o.migrationThreshold) -> \(u.migrationThreshold)") }
        if o.spread != u.spread { why.append("spread") }
        if o.with != u.with || o.withPromoted != u.withPromoted { why.append("with") }
        if o.apart != u.apart { why.append("apart_from") }
        if o.rules != u.rules { why.append("rules") }
        if o.near != u.near { why.append("colocation scores") }
        if o.clone != u.clone { why.append("clone settings") }
        return why
    }
}
