import VigilCore

/// The ordering rules, checked where the simulator sees what really runs (`resourceActive`).
extension Simulation {
    /// At each start or stop the node carries out: a THEN never starts while a mandatory FIRST is
    /// not running (every member of its unit, somewhere); a FIRST never stops while the THEN of a
    /// mandatory symmetrical order still runs on a live member of the stopping node's view.
    /// Stops a node makes by itself after quorum is lost are not checked: they cannot wait for
    /// dependents elsewhere (docs/resources.md); a graceful leave and an in-place restart do.
    func checkOrders(_ order: ResourceOrder, on n: NodeID) {
        guard order.op == .start || order.op == .stop, !config.resources.orders.isEmpty,
              let u = config.resources.units.first(where: { $0.resources.contains(order.id) }), let lead = u.resources.first else { return }
        func members(_ id: String) -> [String] { config.resources.units.first { $0.resources.first == id }?.resources ?? [id] }
        let view = node(n)?.view.nodes ?? .empty
        // A start the owner commanded while FIRST ran (or had died unnoticed) is the owner's right
        // decision carried out after FIRST's failure was found (seeds 284 and 717 with clones: 1
        // and 2.6 ms in flight); Pacemaker completes actions in flight too.
        // A node's own in-place restart (a new definition, `vigilctl resource restart`) is judged
        // the same way, by the reports that node holds (seed 21, 5 nodes, --documents: the report
        // of ping's failure on a lossy link had not reached the restarting node yet).
        if order.op == .start, let v = startOrderViolation(order.id, on: n), !startCommandedInOrder(order.id, on: n),
           !(node(n).map { ownerSawFirstsRunning(order.id, on: n, $0) } ?? false) {
            invariants.fail(.order, n, v, at: now)
        }
        for o in config.resources.orders where !o.onRoles {  // role-aware orders: PromotionModel.swift
            // A node that lost quorum stops what runs there by itself, without waiting for
            // dependents elsewhere (there is no owner to stop them: docs/resources.md). A THEN
            // running unmanaged on a node in maintenance cannot be stopped first.
            if order.op == .stop, o.first == lead, o.mandatory, o.symmetrical, node(n)?.leaving == false,
               let me = node(n), me.view.quorate {
                let thenUnit = config.resources.units.first { $0.resources.first == o.then }
                let perNode = u.clone != nil && thenUnit?.clone?.interleave == true
                let up = members(o.then).flatMap { rid in
                    resourceActive[rid, default: []].filter {
                        view.contains($0) && isRunning($0) && (!perNode || $0 == n) && !me.adminState.maintenance.contains($0)
                    }
                }
                if !up.isEmpty {
                    invariants.fail(.order, n, "\(order.id) stopped while \(o.then) (ordered after it, symmetrical) still runs on \(up)", at: now)
                }
            }
        }
    }
}

extension Simulation {
    /// An anonymous clone never has more instances than its `clone_max` (one per node holds by
    /// construction: a node has one entry per resource).
    func checkCloneMax(_ rid: String, _ clone: CloneSpec, active: Set<NodeID>, on n: NodeID) {
        if let max = clone.max, active.count > max {
            invariants.fail(.cloneMax, n, "\(rid) started: \(active.count) instances of \(clone.id) active (\(active.sorted())), clone_max \(max)", at: now)
        }
    }
}

extension Simulation {
    /// Why a start of `rid` on `n` now would break a mandatory order (nil: it would not).
    func startOrderViolation(_ rid: String, on n: NodeID) -> String? {
        guard let u = config.resources.units.first(where: { $0.resources.contains(rid) }), let lead = u.resources.first else { return nil }
        func members(_ id: String) -> [String] { config.resources.units.first { $0.resources.first == id }?.resources ?? [id] }
        // A failure an agent found less than 5 ms ago is still in flight to the others (seed 302
        // with --documents: node3's monitor found ping dead 0.4 ms before node1's in-place restart
        // of g-ip started it on node3's last report).
        func runs(_ rid: String) -> Bool {
            !resourceActive[rid, default: []].isEmpty || !diedUnnoticed[rid, default: []].isEmpty
                || foundDeadAt[rid].map { now - $0 < .ms(5) } == true
        }
        let view = node(n)?.view.nodes ?? .empty
        // While a member of the owner's view is down or cut off and not yet found lost, the owner
        // acts on what that member last reported: a start of THEN is not judged then.
        let stale = view.contains { m in
            m != n && (!isRunning(m) || !(0..<net.links.count).contains { net.connected(Int(n.rawValue), Int(m.rawValue), link: $0) })
        }
        if stale { return nil }
        for o in config.resources.orders where o.then == lead && o.mandatory {
            // An interleaved THEN clone's instance depends on FIRST's instance on its own node only.
            if u.clone?.interleave == true, config.resources.units.first(where: { $0.resources.first == o.first })?.clone != nil {
                if let missing = members(o.first).first(where: { !resourceActive[$0, default: []].contains(n) && !diedUnnoticed[$0, default: []].contains(n) }) {
                    return "\(rid) (interleaved) started while \(missing) (ordered first, mandatory) does not run here"
                }
            } else if let missing = members(o.first).first(where: { !runs($0) }) {
                return "\(rid) started while \(missing) (ordered first, mandatory) does not run"
            }
        }
        return nil
    }

    /// The owner commands a start: judged now, as the owner decided it: in order if it is, or if
    /// the owner's own picture (the reports it holds) has every mandatory FIRST running, where it
    /// matters (seed 737 with orders: FIRST's failure was found 1.5 ms before, its report on the
    /// way). The planted bug starts THEN against the owner's own picture, and is caught.
    func noteStartCommand(_ rid: String, on n: NodeID, by owner: Node) {
        guard !config.resources.orders.isEmpty else { return }
        guard startOrderViolation(rid, on: n) == nil || ownerSawFirstsRunning(rid, on: n, owner) else { return }
        startsCommandedInOrder["\(rid)@\(n.rawValue)"] = now
    }

    func ownerSawFirstsRunning(_ rid: String, on n: NodeID, _ owner: Node) -> Bool {
        guard let u = config.resources.units.first(where: { $0.resources.contains(rid) }), let lead = u.resources.first else { return true }
        let reports = owner.resourceReports
        for o in config.resources.orders where o.then == lead && o.mandatory {
            guard let f = config.resources.units.first(where: { $0.resources.first == o.first }) else { continue }
            let perNode = u.clone?.interleave == true && f.clone != nil
            let up = reports.contains { node, entries in
                (!perNode || node == n) && f.resources.allSatisfy { entries[$0]?.state == .running }
            }
            if !up { return false }
        }
        return true
    }

    /// A command in flight (commands older than a second would have been sent again).
    private func startCommandedInOrder(_ rid: String, on n: NodeID) -> Bool {
        guard let at = startsCommandedInOrder.removeValue(forKey: "\(rid)@\(n.rawValue)") else { return false }
        return now - at < .seconds(1)
    }
}
