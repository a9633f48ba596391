/// A new resource policy at run time (issue 14: the cluster's configuration changes live). What
/// it changes, and only that, happens here, as Pacemaker does it:
/// - a resource it removes is stopped where it runs (a group's removed members in reverse order;
///   on a node in maintenance once it leaves maintenance) and then forgotten;
/// - a resource whose definition changed (`ResourcePolicy.definitions`) is restarted in place
///   where it runs (a group member takes the later members with it); one caught starting is
///   restarted once its start ended; a failed one is recovered by the owner as any failure is
///   (its start then runs the new definition);
/// - a clone with a changed member *drains*: once every member runs the new policy, every
///   instance stops under the old definition, and none starts or is promoted under the new one
///   while a member still runs an old one or a node is pending fencing (never two definitions
///   at once);
/// - a resource it adds is probed here, and the owner places it once every member probed it;
/// - constraints and placement rules simply apply at the owner's next decision: what they do not
///   affect stays where it is (stickiness, `current`).
/// The owner decides only from reports of members that run its policy (`PeerReport.policy`),
/// so nothing is placed while members disagree on what exists.
extension Supervisor {
    mutating func adopt(_ p: ResourcePolicy, _ c: SupervisorContext, _ now: Instant, _ box: inout Outbox) {
        let old = policy
        guard p != old else { return }
        policy = p
        let kept = Set(p.ids)
        let redefined = Set(old.ids.filter { kept.contains($0) && old.definitions[$0] != p.definitions[$0] })
        let removed = old.ids.filter { !kept.contains($0) }
        for u in old.units {
            if u.clone != nil, u.resources.contains(where: redefined.contains) {
                // An in-place restart here is off: a held start would bring the instance back
                // under the new definition beside old ones elsewhere (seed 92 with --clones
                // --orders --reconfigure); the owner starts it again once every node drained.
                restarting.subtract(u.resources)
                releaseHeld(u.resources[0], &box)
                draining.formUnion(u.resources.filter { kept.contains($0) && local[$0]?.state.mayBeActive == true })
                retiring.append(u.resources)
            } else if u.resources.contains(where: { !kept.contains($0) }) {
                retiring.append(u.resources.filter { !kept.contains($0) })
            }
        }
        for rid in removed { forgetPlacement(rid) }
        if !admin.maintenance.contains(c.me) {
            for rid in p.ids where redefined.contains(rid) && !draining.contains(rid) { restartRedefined(rid, c, &box) }
        }
        if probesSent {
            for rid in p.ids where local[rid] == nil {
                local[rid] = ResourceEntry(id: rid, state: .unknown, failCount: 0)
                box.append(.resource(ResourceOrder(id: rid, op: .probe)))
            }
        }
        for u in old.units where u.clone != nil && u.resources.contains(where: redefined.contains) {
            unsettledDrains.formUnion(u.resources.filter(kept.contains))
        }
        continueRetiring(c, &box)
        changed = true
        decideSoon = true
        let added = p.ids.filter { !Set(old.ids).contains($0) }
        box.append(.notice(.resource(.policyAdopted(version: p.version, added: added, removed: removed,
                                                     redefined: p.ids.filter(redefined.contains)))))
    }

    /// A plain resource's new definition: restart it in place where it runs (not where it is
    /// restarting already: its start comes after this).
    mutating func restartRedefined(_ rid: String, _ c: SupervisorContext, _ box: inout Outbox) {
        guard let e = local[rid], !restarting.contains(rid), !heldStarts.contains(rid) else { return }
        if e.state == .starting && !stopAfterStart.contains(rid) { redefineAfterStart.insert(rid) }
        guard e.state == .running, let u = policy.units.first(where: { $0.resources.contains(rid) }),
              let i = u.resources.firstIndex(of: rid) else { return }
        restarting.formUnion(u.resources[i...].filter { local[$0]?.state == .running })
        continueRestart(rid, c, &box)
    }

    /// A start or promote sent under another policy than the one its target now reports, and not
    /// in that report's ack: the target refused it (it obeys no owner on another policy) and
    /// never will (seed 67 with --promotable --reconfigure: a promote sent just before the owner
    /// took a change was counted as in flight for good, and pg was never promoted again).
    func refused(_ rid: String, _ action: ResourceAction, by n: NodeID, reportPolicy: UInt64) -> Bool {
        guard let sentUnder = unackedPolicy[CommandKey(node: n, resource: rid, action: action)] else { return false }
        return sentUnder != reportPolicy && reportPolicy == policy.version
    }

    /// The owner's and every node's bookkeeping of a resource that no longer exists. Where it was
    /// last known to run is kept: a node lost before it stopped it may still run it, and if the
    /// resource comes back before that node is fenced, it stays frozen until then (seed 231 with
    /// --promotable --documents: web1 removed while its node was paused, added back by a change
    /// made at once elsewhere, and started beside the old instance).
    private mutating func forgetPlacement(_ rid: String) {
        unackedStarts[rid] = nil
        unackedStartViews[rid] = nil
        unackedPromotes[rid] = nil
        notifyRounds[rid] = nil
        failedAt[rid] = nil
        lastFailure[rid] = nil
        sent = sent.filter { $0.key.resource != rid }
        unackedPolicy = unackedPolicy.filter { $0.key.resource != rid }
    }

    /// The next local stops of removed resources and draining clones: in each old unit, the last
    /// member still active here, once nothing after it runs here (and, for a drained clone that
    /// is a FIRST, once its THENs are down: the owner stops them). A removed resource stopped
    /// here is forgotten; one whose stop failed stays (its node is fenced).
    mutating func continueRetiring(_ c: SupervisorContext, _ box: inout Outbox) {
        guard !retiring.isEmpty else { return }
        let kept = Set(policy.ids)
        // A drained FIRST's THENs elsewhere are known from the members' reports: wait until every
        // member has reported on this policy in this view (seed 271 with --clones --orders
        // --reconfigure: a node that had just rejoined stopped ping before it heard that g-ip ran).
        let informed = c.view.nodes.allSatisfy { reports[$0]?.view == c.view.id && reports[$0]?.policy == policy.version }
        let unmanaged = admin.maintenance.contains(c.me)  // stopped once out of maintenance
        var left: [[String]] = []
        for ids in retiring {
            guard let last = ids.last(where: { local[$0]?.state.mayBeActive == true }), let e = local[last] else {
                for rid in ids where !kept.contains(rid) { forgetLocal(rid) }
                if !draining.isDisjoint(with: ids) {
                    draining.subtract(ids)
                    changed = true  // the owner hears that this node's old instances are gone
                }
                continue
            }
            left.append(ids)
            if stopWaiting[last] != nil, informed {  // a drained FIRST waiting for its THENs: sent once they are down
                _ = stopAfterDependents(last, c, elsewhere: c.view.quorate, &box)
                continue
            }
            guard e.state != .stopping, e.state != .stopFailed, !unmanaged else { continue }
            if !kept.contains(last) {
                command(last, .stop, &box)
            } else if e.state.isUp, notifying[last] == nil, informed {
                // A drained clone's instance: its THENs go first. One starting is stopped once it
                // runs; a failed one is the owner's to stop, in order (seeds 125, 171 with
                // --clones --orders --reconfigure: a failed ping was stopped under its THENs).
                _ = stopAfterDependents(last, c, elsewhere: c.view.quorate, &box)
            }
        }
        retiring = left
    }

    private mutating func forgetLocal(_ rid: String) {
        guard local[rid] != nil else { return }
        local[rid] = nil
        obeyed[rid] = nil
        notifying[rid] = nil
        restarting.remove(rid)
        heldStarts.remove(rid)
        stopAfterStart.remove(rid)
        stopWaiting[rid] = nil
        demoteThenFail.remove(rid)
        redefineAfterStart.remove(rid)
        changed = true
    }

    /// A redefined clone's drain is over once every member runs this policy and drains it no
    /// more, and no node is pending fencing (every node judges it: in-place restarts wait too).
    mutating func settleDrains(_ c: SupervisorContext) {
        guard !unsettledDrains.isEmpty, c.pending.isEmpty else { return }
        unsettledDrains = unsettledDrains.filter { rid in
            draining.contains(rid) || c.view.nodes.contains { n in
                n != c.me && (reports[n]?.policy != policy.version || reports[n]?.draining.contains(rid) != false)
            }
        }
    }

    /// The owner starts or promotes no instance of a redefined clone while any member still runs
    /// its old one (each reports its own drain), nor while a node pending fencing may (seed 158
    /// with --clones --orders --reconfigure: a cut-off node's old instance ran while a new one
    /// started; known here only if this node took the change while that node was still a member).
    func drained(_ rid: String, _ c: SupervisorContext) -> Bool {
        draining.contains(rid) || (unsettledDrains.contains(rid) && !c.pending.isEmpty)
            || c.view.nodes.contains { reports[$0]?.view == c.view.id && reports[$0]?.draining.contains(rid) == true }
    }
}
