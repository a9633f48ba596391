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
    public init(first: String, then: String, mandatory: Bool = true, symmetrical: Bool = true) {
        self.first = first
        self.then = then
        self.mandatory = mandatory
        self.symmetrical = symmetrical
    }
}

public enum Orders {
    /// Mandatory symmetrical: a THEN whose FIRST has no place (or is frozen) has no place either.
    public static func propagate(_ placed: inout [String: Placement], _ units: [PlacementUnit], _ orders: [OrderConstraint]) {
        for _ in 0..<orders.count {
            var changed = false
            for o in orders where o.mandatory && o.symmetrical {
                guard let t = units.first(where: { $0.resources.first == o.then }) else { continue }
                switch placed[o.first] {
                case .on?: continue
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
    static func gate(_ perUnit: [[Decision]], _ units: [PlacementUnit], _ orders: [OrderConstraint],
                     _ placed: [String: Placement], _ unit: UnitDecision) -> [[Decision]] {
        guard !orders.isEmpty else { return perUnit }
        var out = perUnit
        let index = Dictionary(units.enumerated().map { ($0.element.resources.first!, $0.offset) }) { a, _ in a }
        // Up: every member reported running on its node, and that node not fenced meanwhile (a
        // member fenced before its loss was seen still reports what it ran).
        func isUp(_ u: Int) -> Bool {
            guard case .on(let n)? = placed[units[u].resources.first!], unit.inputs.fenceable.contains(n) else { return false }
            return units[u].resources.allSatisfy { unit.state($0, on: n) == .running }
        }
        func isActive(_ u: Int) -> Bool { units[u].resources.contains { !(unit.active[$0] ?? []).isEmpty } }
        func isStop(_ d: Decision) -> Bool { if case .stop = d { true } else { false } }
        func isStart(_ d: Decision) -> Bool { if case .start = d { true } else { false } }
        func stops(_ u: Int) -> Bool { out[u].contains(where: isStop) }
        let edges = orders.compactMap { o in index[o.first].flatMap { f in index[o.then].map { (o, f, $0) } } }
        // THEN must go down when a mandatory symmetrical FIRST goes down or is not up.
        var mustStop = Set(units.indices.filter(stops))
        var grew = true
        while grew {
            grew = false
            for (o, f, t) in edges where o.mandatory && o.symmetrical && (mustStop.contains(f) || !isUp(f)) && isActive(t) && !mustStop.contains(t) {
                mustStop.insert(t)
                if !stops(t) { out[t] = out[t].filter { !isStart($0) } + unit.stopEverywhere(units[t]) }
                grew = true
            }
        }
        for (o, f, t) in edges {
            // Stops in reverse: FIRST's stops wait while THEN still runs (and must stop too).
            if o.symmetrical && mustStop.contains(f) && isActive(t) && (o.mandatory || mustStop.contains(t)) {
                out[f] = out[f].filter { !isStop($0) }
            }
            // Starts in order: THEN waits for FIRST (optional: only while FIRST is starting too).
            let firstStarting = !isUp(f) && { if case .on? = placed[units[f].resources.first!] { true } else { false } }()
            if o.mandatory ? (!isUp(f) || mustStop.contains(f)) : firstStarting {
                out[t] = out[t].filter { !isStart($0) }
            }
        }
        return out
    }
}
