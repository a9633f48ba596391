/// In-place restarts and ordered local stops (leaving, quorum loss): a group stops in reverse
/// order here, one member at a time, and a restarted member takes every later member with it.
extension Supervisor {
    /// The next step of an in-place restart of `rid`'s group here: stop the last member still to
    /// stop; once none is left, start the first held member (the next follows its start).
    mutating func continueRestart(_ rid: String, _ c: SupervisorContext, _ box: inout Outbox) {
        guard let u = policy.units.first(where: { $0.resources.contains(rid) }) else { return }
        if let first = u.resources.firstIndex(where: restarting.contains) {
            // A later member the owner is stopping or starting here goes first (seed 266 with
            // clones: the owner's stop of app was running when fs's restart stopped fs under it);
            // one that came up meanwhile goes down with the rest.
            let later = u.resources[(first + 1)...].filter { !restarting.contains($0) && !heldStarts.contains($0) }
            if later.contains(where: { local[$0]?.state == .stopping || local[$0]?.state == .starting }) { return }
            restarting.formUnion(later.filter { local[$0]?.state == .running })
        }
        if let next = u.resources.last(where: restarting.contains) {
            // Not `command`: that would cancel the restart. A THEN of it elsewhere stops first.
            if local[next]?.state == .running || stopWaiting[next] != nil {
                _ = stopAfterDependents(next, c, elsewhere: c.view.quorate, &box)
            }
            return
        }
        guard c.view.quorate else { return releaseHeld(rid, &box) }  // quorum lost meanwhile: stay stopped
        guard !u.resources.contains(where: { local[$0]?.state == .starting && !heldStarts.contains($0) }),
              let first = u.resources.first(where: heldStarts.contains) else { return }
        // Every earlier member must still run here: one may have failed while the later ones
        // stopped (seed 297, 5 nodes: the group's first member died during a restart of the
        // second, which was then started without it). Then nothing is started; the owner decides.
        guard u.resources.prefix(while: { $0 != first }).allSatisfy({ local[$0]?.state == .running }) else {
            return releaseHeld(rid, &box)
        }
        // A THEN starts again only while its mandatory FIRSTs run (as members report them);
        // otherwise it stays stopped and the owner starts it once they do (Orders.swift).
        // The group's order binds every member (seed 21, 5 nodes, --documents: g-db restarted for
        // its new definition while ping, ordered before the group, had failed everywhere), and
        // so does a promoted instance it needs (seed 137 with --promotable --documents).
        guard orderFirstNotRunning(u.resources[0]) == nil, !promotedMissing(u) else { return releaseHeld(rid, &box) }
        // A redefined clone still draining somewhere starts again only by the owner (seed 48, 5
        // nodes, --reconfigure: an operator's restart brought an instance back under the new
        // definition beside an old one).
        guard !unsettledDrains.contains(first) else { return releaseHeld(rid, &box) }
        heldStarts.remove(first)
        box.append(.resource(ResourceOrder(id: first, op: .start)))
    }

    /// A restarted member failed to start: the members held after it are simply stopped (the
    /// owner decides from there).
    mutating func releaseHeld(_ rid: String, _ box: inout Outbox) {
        guard let u = policy.units.first(where: { $0.resources.contains(rid) }) else { return }
        for m in u.resources where heldStarts.remove(m) != nil {
            if var e = local[m] {
                e.state = .stopped
                setLocal(e, &box)
            }
        }
    }

    /// Stops what may run on this node, each group in reverse order: a member only once every
    /// later member is stopped here (the rest follow as those stops end), and a symmetrical FIRST
    /// only once its THENs are down: here, and with `elsewhere` (quorate: the owner stops them)
    /// on the other members too. Returns what it stopped.
    mutating func stopLocalInOrder(_ c: SupervisorContext, elsewhere: Bool, _ box: inout Outbox) -> [String] {
        var stopped: [String] = []
        for u in policy.units {
            guard let last = u.resources.last(where: { local[$0]?.state.mayBeActive ?? false }), let e = local[last] else { continue }
            if stopWaiting[last] != nil {
                if stopAfterDependents(last, c, elsewhere: elsewhere, &box) { stopped.append(last) }
                continue
            }
            guard e.state.mayBeActive && e.state != .stopping && e.state != .stopFailed else { continue }
            // A promoted instance is demoted before it stops, as the owner (and Pacemaker) does;
            // a promote or demote in flight ends first; a THEN that stops after FIRST's demote
            // waits for it (tools/chaos: PAF's primary stopped without its demote, its address
            // already gone, hung a minute in PostgreSQL's shutdown waiting for its standbys).
            if e.state == .promoted || e.state == .failedPromoted {
                command(last, .demote, &box)
                continue
            }
            if e.state == .promoting || e.state == .demoting || stopsAfterDemote(u, c) { continue }
            if e.state != .starting, dependentActive(last, c, elsewhere: elsewhere) != nil {
                _ = stopAfterDependents(last, c, elsewhere: elsewhere, &box)
                continue
            }
            command(last, .stop, &box)
            stopped.append(last)
        }
        return stopped
    }

    /// Leaving gracefully with resources active: stop them first, then say goodbye.
    mutating func stopAllBeforeLeaving(_ c: SupervisorContext, _ box: inout Outbox) -> Bool {
        let active = local.values.filter { $0.state.mayBeActive }
        guard !active.isEmpty else { return false }
        leavingAfterStop = true
        changed = true  // the owner learns at once that nothing is to be placed here
        _ = stopLocalInOrder(c, elsewhere: c.view.quorate, &box)
        return true
    }

    /// Each tick: the stops that wait for THENs elsewhere (leaving, restarting in place) go on.
    /// A stop held for quorum loss whose quorum came back is called off: the resource is as it
    /// was (its stop was never sent; seed 2 with clones: ping stayed "stopping" for good; seed 799:
    /// a failed one must come back failed, not running).
    mutating func continueWaitingStops(_ c: SupervisorContext, _ box: inout Outbox) {
        guard !stopWaiting.isEmpty else { return }
        if leavingAfterStop { _ = stopLocalInOrder(c, elsewhere: c.view.quorate, &box) }
        for rid in stopWaiting.keys.sorted() where restarting.contains(rid) { continueRestart(rid, c, &box) }
        for (rid, before) in stopWaiting.sorted(by: { $0.key < $1.key }) where !restarting.contains(rid) && !draining.contains(rid) && !leavingAfterStop && c.view.quorate {
            stopWaiting[rid] = nil
            if var e = local[rid] {
                e.state = before
                setLocal(e, &box)
            }
        }
    }
}
