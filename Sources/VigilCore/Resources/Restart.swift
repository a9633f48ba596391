/// In-place restarts and ordered local stops (leaving, quorum loss): a group stops in reverse
/// order here, one member at a time, and a restarted member takes every later member with it.
extension Supervisor {
    /// The next step of an in-place restart of `rid`'s group here: stop the last member still to
    /// stop; once none is left, start the first held member (the next follows its start).
    mutating func continueRestart(_ rid: String, _ c: SupervisorContext, _ box: inout Outbox) {
        guard let u = policy.units.first(where: { $0.resources.contains(rid) }) else { return }
        if let next = u.resources.last(where: restarting.contains) {
            if var e = local[next], e.state == .running {
                e.state = .stopping  // not `command`: that would cancel the restart
                box.append(.resource(ResourceOrder(id: next, op: .stop)))
                setLocal(e, &box)
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
        guard first != u.resources.first || orderFirstNotRunning(first) == nil else { return releaseHeld(rid, &box) }
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
    /// later member is stopped here (the rest follow as those stops end). Returns what it stopped.
    mutating func stopLocalInOrder(_ box: inout Outbox) -> [String] {
        var stopped: [String] = []
        for u in policy.units {
            guard let last = u.resources.last(where: { local[$0]?.state.mayBeActive ?? false }),
                  let e = local[last], e.state == .running || e.state == .starting || e.state == .failed else { continue }
            command(last, .stop, &box)
            stopped.append(last)
        }
        return stopped
    }

    /// Leaving gracefully with resources active: stop them first, then say goodbye.
    mutating func stopAllBeforeLeaving(_ box: inout Outbox) -> Bool {
        let active = local.values.filter { $0.state.mayBeActive }
        guard !active.isEmpty else { return false }
        leavingAfterStop = true
        _ = stopLocalInOrder(&box)
        return true
    }
}
