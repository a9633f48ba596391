import VigilCore

/// The ordering rules, checked where the simulator sees what really runs (`resourceActive`).
extension Simulation {
    /// At each start or stop the node carries out: a THEN never starts while a mandatory FIRST is
    /// not running (every member of its unit, somewhere); a FIRST never stops while the THEN of a
    /// mandatory symmetrical order still runs on a live member of the stopping node's view.
    /// Stops a node makes by itself are not checked: a graceful leave, quorum lost, and the
    /// operator's in-place restart do not wait for dependents elsewhere (docs/resources.md).
    func checkOrders(_ order: ResourceOrder, on n: NodeID) {
        guard order.op == .start || order.op == .stop, !config.resources.orders.isEmpty,
              let u = config.resources.units.first(where: { $0.resources.contains(order.id) }), let lead = u.resources.first else { return }
        func members(_ id: String) -> [String] { config.resources.units.first { $0.resources.first == id }?.resources ?? [id] }
        func runs(_ rid: String) -> Bool { !resourceActive[rid, default: []].isEmpty || !diedUnnoticed[rid, default: []].isEmpty }
        let view = node(n)?.view.nodes ?? .empty
        // While a member of the owner's view is down or cut off and not yet found lost, the owner
        // acts on what that member last reported: a start of THEN is not judged then.
        let stale = view.contains { m in
            m != n && (!isRunning(m) || !(0..<net.links.count).contains { net.connected(Int(n.rawValue), Int(m.rawValue), link: $0) })
        }
        // An interleaved THEN clone's instance depends on FIRST's instance on its own node only.
        func interleaved(_ o: OrderConstraint) -> Bool {
            u.resources.first == o.then && u.clone?.interleave == true
                && config.resources.units.first { $0.resources.first == o.first }?.clone != nil
        }
        for o in config.resources.orders {
            if order.op == .start, interleaved(o), o.mandatory, !stale,
               let missing = members(o.first).first(where: { !resourceActive[$0, default: []].contains(n) && !diedUnnoticed[$0, default: []].contains(n) }) {
                invariants.fail(.order, n, "\(order.id) (interleaved) started while \(missing) (ordered first, mandatory) does not run here", at: now)
                continue
            }
            if order.op == .start, o.then == lead, o.mandatory, !stale, !interleaved(o), let missing = members(o.first).first(where: { !runs($0) }) {
                invariants.fail(.order, n, "\(order.id) started while \(missing) (ordered first, mandatory) does not run", at: now)
            }
            // A graceful leave, and a node that lost quorum, stop what runs there by themselves
            // (in group order, without waiting for dependents elsewhere: docs/resources.md).
            if order.op == .stop, o.first == lead, o.mandatory, o.symmetrical, node(n)?.leaving == false,
               node(n)?.stoppingToLeave == false, node(n)?.view.quorate == true,
               node(n)?.restartingInPlace.isDisjoint(with: u.resources) == true {
                let thenUnit = config.resources.units.first { $0.resources.first == o.then }
                let perNode = u.clone != nil && thenUnit?.clone?.interleave == true
                let up = members(o.then).flatMap { rid in
                    resourceActive[rid, default: []].filter { view.contains($0) && isRunning($0) && (!perNode || $0 == n) }
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
