/// Promotable clones (pure): a clone of one resource whose instances start unpromoted (`running`),
/// and up to `promotedMax` of them are promoted. Pacemaker's semantics (collective.rst,
/// pcmk_sched_promotable.c), as agents such as PAF, DRBD and Stateful expect them:
/// - The choice is by promotion score, the node attribute `master-<resource>` that agents set
///   (`crm_master`, `crm_attribute -p`), often for other nodes. No score: not promotable there; a
///   negative score: not promotable; 0 and above: promotable. Highest first; a tie stays where the
///   role is now, then the lowest node id.
/// - Only instances that run, on nodes where the clone is placed, are candidates. Promotes wait until
///   every placed instance has started and no stop of the clone is under way (Pacemaker orders the
///   promote after all instance starts), until no promote or demote is in flight, and until every
///   node pending fencing that may hold an instance is fenced (a lost primary's demote and stop are
///   implied by its fence, never assumed before it).
/// - A promoted instance that must stop is demoted first (demote, then stop). A promoted instance
///   no longer among the chosen is demoted before another is promoted.
/// - A promote that fails counts as a failure (the instance is stopped and started again, unpromoted)
///   and the choice is made again on the scores as they are then: PAF fails a promote on purpose,
///   after raising the score of a standby that is further ahead.
/// - An instance whose monitor finds it promoted but failed (OCF 9) is demoted, then recovered as a
///   failed one (stopped, started, maybe promoted again).
public enum Promotion {
    /// The node attribute that holds a resource's promotion score.
    public static func scoreAttribute(_ rid: String) -> String { "master-\(rid)" }

    /// Pacemaker's INFINITY for scores.
    public static let infinity = 1_000_000

    /// A score as agents write it: an integer, or INFINITY / +INFINITY / -INFINITY; clamped to
    /// plus or minus INFINITY. Nil: absent or not a score.
    public static func score(_ text: String?) -> Int? {
        guard let t = text?.filter({ $0 != " " }), !t.isEmpty else { return nil }
        switch t.uppercased() {
        case "INFINITY", "+INFINITY": return infinity
        case "-INFINITY": return -infinity
        default: return Int(t).map { Swift.max(-infinity, Swift.min(infinity, $0)) }
        }
    }

    /// The attributes with the operator's `move --promoted` applied: INFINITY on its node (a switchover).
    public static func scores(_ rid: String, _ attributes: [NodeID: [String: String]], _ admin: AdminState) -> [NodeID: [String: String]] {
        var out = attributes
        for k in admin.constraints where k.resource == rid && k.kind == .preferPromoted { out[k.node, default: [:]][scoreAttribute(rid)] = "INFINITY" }
        return out
    }

    /// The nodes to promote, best first: among `candidates` (node -> promoted there now), those whose
    /// score is 0 or more, highest first, ties to where the role is now, then the lowest id; at most `max`.
    public static func choose(_ rid: String, candidates: [NodeID: Bool], attributes: [NodeID: [String: String]], max: Int) -> [NodeID] {
        let name = scoreAttribute(rid)
        let ranked = candidates.compactMap { n, promoted -> (score: Int, stay: Int, node: Int)? in
            guard let s = score(attributes[n]?[name]), s >= 0 else { return nil }
            return (s, promoted ? 1 : 0, -Int(n.rawValue))
        }.sorted { $0 > $1 }
        return ranked.prefix(Swift.max(0, max)).map { NodeID(UInt16(-$0.node)) }
    }
}

extension UnitDecision {
    /// A promotable clone's role changes, once its instances' starts and stops are decided: demote
    /// what is promoted and no longer chosen, then (when everything is settled) promote the chosen.
    func roles(_ u: PlacementUnit, _ targets: NodeSet, settled: Bool) -> [Decision] {
        guard let spec = u.clone, spec.promotable, u.resources.count == 1 else { return [] }
        let rid = u.resources[0]
        let members = inputs.view.nodes
        let here = (active[rid] ?? []).filter(members.contains)
        let unacked = inputs.unackedPromotes[rid] ?? [:]
        // An operation on a role still under way: decide again when it has ended.
        if here.contains(where: { [.promoting, .demoting].contains(state(rid, on: $0)) }) { return [] }
        // A promote sent and not yet seen obeyed holds the role (it may be under way there).
        let holders = here.filter { state(rid, on: $0).holdsPromoted || unacked[$0] != nil }
        let kept = holders.filter(maintenance.contains)  // unmanaged: it stays, and counts
        var candidates: [NodeID: Bool] = [:]
        for n in targets where members.contains(n) && !maintenance.contains(n) && state(rid, on: n).isUp {
            candidates[n] = state(rid, on: n) == .promoted
        }
        let want = Promotion.choose(rid, candidates: candidates, attributes: Promotion.scores(rid, inputs.attributes, inputs.admin),
                                    max: spec.promotedMax - kept.count)
        let demotes = holders.filter { targets.contains($0) && !maintenance.contains($0) && state(rid, on: $0) == .promoted && !want.contains($0) }
        if !demotes.isEmpty { return demotes.sorted().map { .demote(rid, on: $0) } }
        guard settled, targets.allSatisfy({ state(rid, on: $0).isUp || maintenance.contains($0) }) else { return [] }
        if inputs.promoteGate && inputs.fenceGate {
            // A node pending fencing that may still hold an instance: promote only once it is fenced.
            for n in inputs.pending where !members.contains(n) {
                guard let e = inputs.reports[n]?.entries[rid], !e.state.mayBeActive else { return [] }
            }
        }
        // Sent again while unconfirmed (the command may have been lost; a node promotes only what
        // runs unpromoted there); new promotes only into free slots.
        let resend = here.filter { unacked[$0] != nil && state(rid, on: $0) == .running }.sorted()
        let free = spec.promotedMax - holders.count
        let new = want.filter { state(rid, on: $0) == .running && !holders.contains($0) }.prefix(Swift.max(0, free))
        return (resend + new).map { .promote(rid, on: $0) }
    }
}
