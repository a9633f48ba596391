/// The supervisor's side of ordering constraints: a node does not start a THEN (the owner's
/// start, or the start of an in-place restart) while a mandatory FIRST of it does not run whole
/// on some member, as the members' reports (this node's own included) say. The owner decided
/// from older reports; the owner decides again from this node's report. And a stop the node makes
/// by itself (a graceful leave, an in-place restart, quorum lost) of a symmetrical FIRST waits
/// while a THEN of it still runs (`dependentActive`): the FIRST is reported "stopping" meanwhile,
/// so the owner stops the THEN.
extension Supervisor {
    /// The first member of a mandatory FIRST of `rid`'s unit that runs nowhere, if any (only for
    /// the unit's leading resource: later members follow it).
    /// An interleaved clone's instance needs FIRST's instance here (seed 165 with clones); with
    /// `interleavedOnly`, only that is checked (what this node knows first-hand).
    func orderFirstNotRunning(_ rid: String, interleavedOnly: Bool = false) -> String? {
        let mine = policy.units.first { $0.resources.first == rid }
        for o in policy.orders where o.mandatory && o.then == rid {
            guard let f = policy.units.first(where: { $0.resources.first == o.first }) else { continue }
            if mine?.clone?.interleave == true && f.clone != nil {
                if let missing = f.resources.first(where: { local[$0]?.state.isUp != true }) { return missing }
                continue
            }
            if interleavedOnly { continue }
            // Only members count: a node cut off since its last report may have stopped it (seed 6
            // with --reconfigure: an in-place restart of g-ip trusted a lost node's ping).
            let current = reports.filter { viewMembers.contains($0.key) }.values
            let up = current.contains { r in f.resources.allSatisfy { r.entries[$0]?.state.isUp == true } }
            if !up { return f.resources.first { rid in !current.contains { $0.entries[rid]?.state.isUp == true } } ?? o.first }
        }
        return nil
    }

    /// A promoted role `u` needs and that is not held as members report it: its own node's
    /// instance (with_role = promoted), or any instance (a mandatory promote-then-start order).
    func promotedMissing(_ u: PlacementUnit) -> Bool {
        if u.withPromoted, let w = u.with, local[w]?.state != .promoted { return true }
        let current = reports.filter { viewMembers.contains($0.key) }.values
        return policy.orders.contains { o in
            o.mandatory && o.firstAction == .promote && o.then == u.resources.first
                && !current.contains { $0.entries[o.first]?.state == .promoted }
        }
    }

    /// A member of a THEN (mandatory, symmetrical) of `rid`'s unit still possibly active on this
    /// node, or, with `elsewhere` (an owner can stop it), on another member not in maintenance (an
    /// interleaved clone THEN: only its instance here counts).
    func dependentActive(_ rid: String, _ c: SupervisorContext, elsewhere: Bool) -> String? {
        guard c.applyOrders, let u = policy.units.first(where: { $0.resources.contains(rid) }), let lead = u.resources.first else { return nil }
        for o in policy.orders where o.first == lead && o.mandatory && o.symmetrical {
            guard let t = policy.units.first(where: { $0.resources.first == o.then }) else { continue }
            let remote = elsewhere && !(u.clone != nil && t.clone?.interleave == true)
            for m in t.resources {
                if local[m]?.state.mayBeActive == true { return m }
                guard remote else { continue }
                // The owner's own starts not yet seen in a report count too (seed 113, 5 nodes,
                // --reconfigure: ping drained on the owner while its start of g-ip ran on n5).
                if unackedStarts[m]?.keys.contains(where: { $0 != c.me && c.view.nodes.contains($0) }) == true { return m }
                if reports.contains(where: { n, r in
                    n != c.me && c.view.nodes.contains(n) && !admin.maintenance.contains(n) && r.entries[m]?.state.mayBeActive == true
                }) { return m }
            }
        }
        return nil
    }

    /// A THEN of an order "demote FIRST, then stop THEN" while FIRST's instance here still holds
    /// its promoted role: the local stop of the THEN waits for the demote.
    func stopsAfterDemote(_ u: PlacementUnit, _ c: SupervisorContext) -> Bool {
        guard c.applyOrders, let lead = u.resources.first else { return false }
        return policy.orders.contains { o in
            o.then == lead && o.firstAction == .demote && o.thenAction == .stop && local[o.first]?.state.holdsPromoted == true
        }
    }

    /// Stops `rid` here now, or, while a THEN of it runs, marks it "stopping" and waits (the
    /// stop is sent by a later call, once the THEN is down). True when the stop was sent.
    mutating func stopAfterDependents(_ rid: String, _ c: SupervisorContext, elsewhere: Bool, _ box: inout Outbox) -> Bool {
        guard var e = local[rid] else { return false }
        if dependentActive(rid, c, elsewhere: elsewhere) != nil {
            if stopWaiting[rid] == nil {
                stopWaiting[rid] = e.state
                e.state = .stopping
                setLocal(e, &box)
            }
            return false
        }
        stopWaiting[rid] = nil
        e.state = .stopping
        box.append(.resource(ResourceOrder(id: rid, op: .stop)))
        setLocal(e, &box)
        return true
    }
}
