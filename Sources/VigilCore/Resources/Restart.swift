/// In-place restarts and ordered local stops (leaving, quorum loss): a group stops in reverse
/// order here, one member at a time, and a restarted member takes every later member with it.
extension Node {
    /// The next step of an in-place restart of `rid`'s group here: stop the last member still to
    /// stop; once none is left, start the first held member (the next follows its start).
    mutating func continueRestart(_ rid: String, _ out: inout [Effect]) {
        guard let u = config.resources.units.first(where: { $0.resources.contains(rid) }) else { return }
        if let next = u.resources.last(where: supervisor.restarting.contains) {
            if var e = supervisor.local[next], e.state == .running {
                e.state = .stopping  // not `command`: that would cancel the restart
                out.append(.resource(ResourceOrder(id: next, op: .stop)))
                setLocal(e, &out)
            }
            return
        }
        guard view.quorate else { return releaseHeld(rid, &out) }  // quorum lost meanwhile: stay stopped
        guard !u.resources.contains(where: { supervisor.local[$0]?.state == .starting && !supervisor.heldStarts.contains($0) }),
              let first = u.resources.first(where: supervisor.heldStarts.contains) else { return }
        // Every earlier member must still run here: one may have failed while the later ones
        // stopped (seed 297, 5 nodes: the group's first member died during a restart of the
        // second, which was then started without it). Then nothing is started; the owner decides.
        guard u.resources.prefix(while: { $0 != first }).allSatisfy({ supervisor.local[$0]?.state == .running }) else {
            return releaseHeld(rid, &out)
        }
        supervisor.heldStarts.remove(first)
        out.append(.resource(ResourceOrder(id: first, op: .start)))
    }

    /// A restarted member failed to start: the members held after it are simply stopped (the
    /// owner decides from there).
    mutating func releaseHeld(_ rid: String, _ out: inout [Effect]) {
        guard let u = config.resources.units.first(where: { $0.resources.contains(rid) }) else { return }
        for m in u.resources where supervisor.heldStarts.remove(m) != nil {
            if var e = supervisor.local[m] {
                e.state = .stopped
                setLocal(e, &out)
            }
        }
    }

    /// Stops what may run on this node, each group in reverse order: a member only once every
    /// later member is stopped here (the rest follow as those stops end). Returns what it stopped.
    mutating func stopLocalInOrder(_ out: inout [Effect]) -> [String] {
        var stopped: [String] = []
        for u in config.resources.units {
            guard let last = u.resources.last(where: { supervisor.local[$0]?.state.mayBeActive ?? false }),
                  let e = supervisor.local[last], e.state == .running || e.state == .starting || e.state == .failed else { continue }
            command(last, .stop, &out)
            stopped.append(last)
        }
        return stopped
    }

    /// Leaving gracefully with resources active: stop them first, then say goodbye.
    mutating func stopAllBeforeLeaving(_ out: inout [Effect]) -> Bool {
        let active = supervisor.local.values.filter { $0.state.mayBeActive }
        guard !active.isEmpty else { return false }
        leavingAfterStop = true
        _ = stopLocalInOrder(&out)
        return true
    }
}
