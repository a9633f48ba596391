/// Ordering constraints between placement units (`[[order]]`), applied to the owner's decisions
/// (pure). Pacemaker's semantics (constraints.rst, "Ordering"):
/// - mandatory: THEN starts only once FIRST runs (every member of its unit, on its node); while
///   FIRST is not up, THEN is not started.
/// - symmetrical (the default): stops run in reverse, and THEN does not stay up without FIRST: when
///   FIRST stops, moves, restarts or is lost, THEN is stopped first (and started again after it).
/// - optional: only orders what happens in the same transition: THEN does not start while FIRST
///   is starting; with symmetrical, THEN stops before FIRST when both stop. Neither stops THEN
///   because FIRST is down.
/// - not symmetrical (mandatory): THEN waits for FIRST to start, and may keep running when FIRST stops.
public struct OrderConstraint: Equatable, Sendable {
    /// The leading resource of each unit (a group is ordered as a whole).
    public var first: String
    public var then: String
    public var mandatory: Bool
    public var symmetrical: Bool
    /// Role-aware orders on a promotable clone FIRST (Promotion.swift): promote then start (THEN
    /// starts once an instance is promoted; symmetrical: it stops before that instance is demoted),
    /// or demote then stop (not symmetrical: THEN stops only after the demote).
    public var firstAction = ResourceAction.start
    public var thenAction = ResourceAction.start
    public init(first: String, then: String, mandatory: Bool = true, symmetrical: Bool = true,
                firstAction: ResourceAction = .start, thenAction: ResourceAction = .start) {
        self.first = first
        self.then = then
        self.mandatory = mandatory
        self.symmetrical = symmetrical
        self.firstAction = firstAction
        self.thenAction = thenAction
    }
    public var onRoles: Bool { firstAction != .start || thenAction != .start }
}

public enum Orders {
    /// Mandatory symmetrical: a THEN whose FIRST has no place (or is frozen) has no place either.
    /// (An interleaved clone THEN is placed only among FIRST's nodes by the placer itself,
    /// `PlacementInput.orders`.)
    public static func propagate(_ placed: inout [String: Placement], _ units: [PlacementUnit], _ orders: [OrderConstraint]) {
        for _ in 0..<orders.count {
            var changed = false
            for o in orders where o.mandatory && o.symmetrical && !o.onRoles {
                guard let t = units.first(where: { $0.resources.first == o.then }) else { continue }
                switch placed[o.first] {
                case .on?: continue
                case .instances(let s)? where !s.isEmpty: continue
                default:
                    if case .stopped? = placed[o.then] { continue }
                    if case .frozen? = placed[o.then] { continue }
                    for r in t.resources { placed[r] = .stopped(reason: "'\(o.first)' (ordered first) is not placed") }
                    changed = true
                }
            }
            if !changed { return }
        }
    }

    typealias Decision = OwnerDecision.Decision

    /// The per-unit decisions with the orders applied: stops THEN must make added, stops of a
    /// FIRST held while a THEN is still up, starts of a THEN held while its FIRST is not up.
    /// A clone FIRST is up when all its placed instances are, and goes down (taking a THEN with
    /// it) when one of them stops or none is up; an interleaved edge works node by node.
    static func gate(_ perUnit: [[Decision]], _ units: [PlacementUnit], _ orders: [OrderConstraint],
                     _ placed: [String: Placement], _ unit: UnitDecision) -> [[Decision]] {
        guard !orders.isEmpty else { return perUnit }
        var out = perUnit
        let index = Dictionary(units.enumerated().map { ($0.element.resources.first!, $0.offset) }) { a, _ in a }
        // Up on a node: every member reported running there, and that node not fenced meanwhile
        // (a member fenced before its loss was seen still reports what it ran).
        func upOn(_ u: Int, _ n: NodeID) -> Bool {
            unit.inputs.fenceable.contains(n) && units[u].resources.allSatisfy { unit.state($0, on: n).isUp }
        }
        func placedOn(_ u: Int) -> NodeSet {
            switch placed[units[u].resources.first!] {
            case .on(let n)?: NodeSet([n])
            case .instances(let s)?: s
            default: .empty
            }
        }
        /// Up: on its node (every placed instance of a clone).
        func isUp(_ u: Int) -> Bool { !placedOn(u).isEmpty && placedOn(u).allSatisfy { upOn(u, $0) } }
        /// Not down: a clone with any instance up still counts (one more starting elsewhere does not
        /// stop THEN), unless one of them is stopping by itself (seed 419: an in-place restart of
        /// one instance waits for the THEN).
        func holdsUp(_ u: Int) -> Bool {
            guard units[u].clone != nil else { return isUp(u) }
            let stopping = placedOn(u).contains { n in units[u].resources.contains { unit.state($0, on: n) == .stopping } }
            return !stopping && placedOn(u).contains { upOn(u, $0) }
        }
        func activeOn(_ u: Int) -> NodeSet { NodeSet(units[u].resources.flatMap { unit.active[$0] ?? [] }) }
        func node(_ d: Decision) -> NodeID? {
            switch d {
            case .stop(_, let n), .start(_, let n): n
            default: nil
            }
        }
        func isStop(_ d: Decision) -> Bool { if case .stop = d { true } else { false } }
        func isStart(_ d: Decision) -> Bool { if case .start = d { true } else { false } }
        func stops(_ u: Int) -> Bool { out[u].contains(where: isStop) }
        func stopsOn(_ u: Int, _ n: NodeID) -> Bool { out[u].contains { isStop($0) && node($0) == n } }
        let all = orders.compactMap { o in index[o.first].flatMap { f in index[o.then].map { (o, f, $0) } } }
        let edges = all.filter { !$0.0.onRoles }
        func interleaved(_ f: Int, _ t: Int) -> Bool { units[f].clone != nil && units[t].clone?.interleave == true }
        // THEN must go down when a mandatory symmetrical FIRST goes down or is not up (an
        // interleaved THEN's instance when FIRST's on its node does).
        var mustStop = Set(units.indices.filter(stops))
        // Units taken down as a whole by an order (a clone's own stops are node by node).
        var downAll: Set<Int> = []
        var mustStopOn: Set<[Int]> = []
        var grew = true
        while grew {
            grew = false
            for (o, f, t) in edges where o.mandatory && o.symmetrical {
                if interleaved(f, t) {
                    for n in activeOn(t) where !mustStopOn.contains([t, Int(n.rawValue)]) && !downAll.contains(t)
                        && (downAll.contains(f) && activeOn(f).contains(n) || stopsOn(f, n) || !upOn(f, n)) {
                        mustStopOn.insert([t, Int(n.rawValue)])
                        if !stopsOn(t, n) {
                            out[t] = out[t].filter { !(isStart($0) && node($0) == n) } + unit.stopInReverse(units[t], from: [n: 0])
                        }
                        grew = true
                    }
                } else if (mustStop.contains(f) || !holdsUp(f)) && !activeOn(t).isEmpty && !mustStop.contains(t) {
                    mustStop.insert(t)
                    downAll.insert(t)
                    if !stops(t) { out[t] = out[t].filter { !isStart($0) } + unit.stopEverywhere(units[t]) }
                    grew = true
                }
            }
        }
        for (o, f, t) in edges {
            if interleaved(f, t) {
                // Node by node: FIRST's instance stops after THEN's there; THEN's starts after FIRST's is up there.
                if o.symmetrical {
                    out[f] = out[f].filter { d in
                        guard isStop(d), let n = node(d), activeOn(t).contains(n) else { return true }
                        return !(o.mandatory || mustStopOn.contains([t, Int(n.rawValue)]) || downAll.contains(t))
                    }
                }
                out[t] = out[t].filter { d in
                    guard isStart(d), let n = node(d) else { return true }
                    let firstStarting = !upOn(f, n) && placedOn(f).contains(n)
                    return !(o.mandatory ? !upOn(f, n) || stopsOn(f, n) || downAll.contains(f) : firstStarting)
                }
                continue
            }
            // Stops in reverse: FIRST's stops wait while THEN still runs (and must stop too).
            if o.symmetrical && mustStop.contains(f) && !activeOn(t).isEmpty && (o.mandatory || mustStop.contains(t)) {
                out[f] = out[f].filter { !isStop($0) }
            }
            // Starts in order: THEN waits for FIRST (optional: only while FIRST is starting too).
            let firstStarting = !isUp(f) && !placedOn(f).isEmpty
            if o.mandatory ? (!isUp(f) || mustStop.contains(f)) : firstStarting {
                out[t] = out[t].filter { !isStart($0) }
            }
        }
        for (o, f, t) in all where o.onRoles { gateRoles(o, f, t, &out, units, unit) }
        return out
    }

    /// A role-aware order on a promotable clone FIRST: promote then start (THEN starts only once
    /// an instance of FIRST is promoted; symmetrical: FIRST's demote waits until THEN is stopped,
    /// and THEN is stopped), demote then stop (THEN's stops wait while a demote of FIRST is
    /// decided or under way).
    static func gateRoles(_ o: OrderConstraint, _ f: Int, _ t: Int, _ out: inout [[Decision]], _ units: [PlacementUnit],
                          _ unit: UnitDecision) {
        let rid = units[f].resources[0]
        let firstNodes = unit.active[rid] ?? []
        func isDemote(_ d: Decision) -> Bool { if case .demote = d { true } else { false } }
        func isStart(_ d: Decision) -> Bool { if case .start = d { true } else { false } }
        func isStop(_ d: Decision) -> Bool { if case .stop = d { true } else { false } }
        let thenActive = units[t].resources.contains { !(unit.active[$0] ?? []).isEmpty }
        switch o.firstAction {
        case .promote:
            let promoted = firstNodes.contains { unit.inputs.fenceable.contains($0) && unit.state(rid, on: $0) == .promoted }
            if o.mandatory && !promoted { out[t] = out[t].filter { !isStart($0) } }
            if o.symmetrical && out[f].contains(where: isDemote) && thenActive {
                out[f] = out[f].filter { !isDemote($0) }
                if !out[t].contains(where: isStop) { out[t] = out[t].filter { !isStart($0) } + unit.stopEverywhere(units[t]) }
            }
        default:
            let demoting = out[f].contains(where: isDemote) || firstNodes.contains { unit.state(rid, on: $0) == .demoting }
            if demoting { out[t] = out[t].filter { !isStop($0) } }
        }
    }
}
