import VigilCore

/// The simulator's checks of promotable clones: never more promoted instances alive than
/// `promoted_max` (a node cut off or paused with the role still holds it: the other side must
/// fence it first), and after a quiet period the promoted role where the scores say.
extension Simulation {
    func promotable(_ rid: String) -> CloneSpec? {
        config.resources.units.first { $0.resources == [rid] && $0.clone?.promotable == true }?.clone
    }

    func noteNotify(_ rid: String, _ info: NotifyInfo, on n: NodeID) { lastNotify[rid, default: [:]][n] = info }

    /// The owner commands a promote or demote: with notify, the target's agent has run the pre-notification of it.
    func checkNotified(_ rid: String, _ a: ResourceAction, on n: NodeID, by owner: Node) {
        // A node pending fencing (or fenced, still in the view) is never told (its fence implies the demote).
        guard let spec = promotable(rid), spec.notify, owner.pendingFences[n] == nil, slots[Int(n.rawValue)].node != nil else { return }
        let last = lastNotify[rid]?[n]
        let list = a == .promote ? last?.promote : last?.demote
        guard last?.phase == .pre, last?.operation == a, list?.contains(n) == true else {
            return invariants.fail(.notifyOrder, n, "\(rid) \(a.word) on \(n) commanded after its last notification \(String(describing: last))", at: now)
        }
    }

    /// A start of a resource placed with a promoted role, or ordered after a promote: that role is held there (or anywhere).
    func checkWithPromoted(_ rid: String, on n: NodeID) {
        guard let u = config.resources.units.first(where: { $0.resources.first == rid }) else { return }
        func promoted(_ w: String, on: NodeID?) -> Bool {
            let live = resourcePromoted[w, default: []].filter { slots[Int($0.rawValue)].node != nil }
            let unseen = diedUnnoticed[w, default: []]  // lost behind the cluster's back: the owner cannot know yet
            return on.map { live.contains($0) || unseen.contains($0) } ?? !(live.isEmpty && unseen.isEmpty)
        }
        if u.withPromoted, let w = u.with, !promoted(w, on: n) {
            invariants.fail(.withPromoted, n, "\(rid) started on \(n), where \(w) is not promoted", at: now)
        }
        for o in config.resources.orders where o.then == rid && o.firstAction == .promote && o.mandatory && !promoted(o.first, on: nil) {
            invariants.fail(.withPromoted, n, "\(rid) started while no instance of \(o.first) is promoted (ordered after its promote)", at: now)
        }
    }

    /// A promote just succeeded on `n`.
    func checkPromoted(_ rid: String, on n: NodeID) {
        guard let spec = promotable(rid) else { return }
        let alive = resourcePromoted[rid, default: []].filter { slots[Int($0.rawValue)].node != nil }
        if alive.count > spec.promotedMax {
            invariants.fail(.doublePromoted, n, "\(rid) promoted on \(n) while also promoted on \(alive.filter { $0 != n }.sorted())"
                                + " (promoted_max \(spec.promotedMax))", at: now)
        }
    }

    /// Liveness after a quiet period: the promoted instances are those the scores choose among the
    /// running ones.
    func checkRoles(_ first: Node, placed: [String: Placement]) {
        for u in config.resources.units {
            guard let spec = u.clone, spec.promotable, let rid = u.resources.first, case .instances(let s)? = placed[rid] else { continue }
            let promoted = resourcePromoted[rid, default: []].filter { slots[Int($0.rawValue)].node != nil }
            var candidates: [NodeID: Bool] = [:]
            for n in s where resourceActive[rid, default: []].contains(n) { candidates[n] = promoted.contains(n) }
            let want = Set(Promotion.choose(rid, candidates: candidates, attributes: Promotion.scores(rid, first.attributesByNode, first.adminState),
                                                   max: spec.promotedMax))
            if want != promoted {
                invariants.fail(.resourceLiveness, nil, "\(rid) should be promoted on \(want.sorted()) after the quiet period;"
                                    + " promoted on \(promoted.sorted())", at: now)
            }
        }
    }
}
