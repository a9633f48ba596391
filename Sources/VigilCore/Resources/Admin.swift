/// The operator's instructions to the resource supervisor (`vigilctl resource ...`,
/// `vigilctl node standby|online`), pure like the rest of the core.
///
/// They live in one replicated value (`AdminState`, wire type 13): any member of a quorate view
/// may change it; the change gets version = highest seen + 1 and is broadcast at once and again
/// every second, so newcomers and a new owner learn it. The copy with the highest (version,
/// origin) wins (two operators changing it at the same instant on two nodes: the lower change is
/// lost; both see the outcome in `vigilctl status`). Every member keeps it, and the daemon saves
/// each newer copy to its state directory and hands it back at start-up (`Event.restoreAdmin`),
/// so it survives a restart of the whole cluster too.
///
/// - standby: the node runs no resource (they move away, stopped there first).
/// - maintenance: what runs on the node is left alone - not monitored, not stopped, restarted or
///   moved, and not started elsewhere while it may be active there - and nothing new is placed
///   there (Pacemaker's node maintenance attribute); the operator may stop and start services
///   there by hand. Back out of maintenance, the node probes every resource again and the
///   cluster takes over from what it finds. Fencing is unaffected: a node in maintenance that is
///   lost uncleanly is fenced like any other.
/// - move RESOURCE NODE: prefer NODE above any configured score (Pacemaker's cli-prefer);
///   move RESOURCE (no node): ban the node it runs on now; move RESOURCE NODE --promoted (a
///   promotable clone): a switchover, the promoted role to NODE (its promotion score there counts
///   as INFINITY, as Pacemaker's role=Promoted cli-prefer does).
/// - ban RESOURCE [NODE]: never on NODE (default: where it runs now). clear removes both.
/// - cleanup RESOURCE: every node clears its fail count and re-probes it if it failed (or was
///   not installed there).
/// - restart RESOURCE: the node running it stops it and starts it again in place (it never
///   reports "stopped" in between, so the owner never starts it elsewhere meanwhile).
public enum AdminRequest: Equatable, Sendable {
    case standby(NodeID, Bool)
    case maintenance(NodeID, Bool)
    case move(String, to: NodeID?)
    case movePromoted(String, to: NodeID)
    case ban(String, NodeID?)
    case clear(String)
    case cleanup(String)
    case restart(String)
}

extension Supervisor {
    /// A prefer constraint from `move` outweighs any configured score plus stickiness.
    static let moveScore = 10_000_000

    mutating func adminRequest(_ r: AdminRequest, _ c: SupervisorContext, _ now: Instant, _ box: inout Outbox) {
        func refuse(_ why: AdminRefusal) { box.append(.notice(.resource(.adminRefused(why)))) }
        guard !policy.isEmpty else { return refuse(.noResources) }
        guard c.view.quorate else { return refuse(.notQuorate) }
        var a = admin
        let ids = Set(policy.ids)
        func here(_ rid: String) -> NodeID? { lastKnown[rid] }
        switch r {
        case let .standby(n, on):
            guard c.nodes.contains(n) else { return refuse(.unknownNode(n)) }
            if on { a.standby.insert(n) } else { a.standby.remove(n) }
        case let .maintenance(n, on):
            guard c.nodes.contains(n) else { return refuse(.unknownNode(n)) }
            if on { a.maintenance.insert(n) } else { a.maintenance.remove(n) }
        case let .move(rid, to):
            guard ids.contains(rid) else { return refuse(.unknownResource(rid)) }
            let target: NodeID
            let kind: AdminState.Kind
            if let to {
                guard c.nodes.contains(to) else { return refuse(.unknownNode(to)) }
                (target, kind) = (to, .prefer)
            } else {
                guard let h = here(rid) else { return refuse(.runsNowhere(rid, ban: false)) }
                (target, kind) = (h, .ban)
            }
            a.constraints.removeAll { $0.resource == rid && ($0.kind == .prefer || $0.node == target) }
            a.constraints.append(.init(resource: rid, node: target, kind: kind))
        case let .movePromoted(rid, to):
            guard ids.contains(rid) else { return refuse(.unknownResource(rid)) }
            guard policy.units.contains(where: { $0.resources == [rid] && $0.clone?.promotable == true }) else { return refuse(.notPromotable(rid)) }
            guard c.nodes.contains(to) else { return refuse(.unknownNode(to)) }
            a.constraints.removeAll { $0.resource == rid && $0.kind == .preferPromoted }
            a.constraints.append(.init(resource: rid, node: to, kind: .preferPromoted))
        case let .ban(rid, n):
            guard ids.contains(rid) else { return refuse(.unknownResource(rid)) }
            guard let target = n ?? here(rid) else { return refuse(.runsNowhere(rid, ban: true)) }
            guard c.nodes.contains(target) else { return refuse(.unknownNode(target)) }
            a.constraints.removeAll { $0.resource == rid && $0.node == target }
            a.constraints.append(.init(resource: rid, node: target, kind: .ban))
        case .clear(let rid):
            guard ids.contains(rid) else { return refuse(.unknownResource(rid)) }
            a.constraints.removeAll { $0.resource == rid }
        case .cleanup(let rid):
            guard ids.contains(rid) else { return refuse(.unknownResource(rid)) }
            a.cleanups[rid, default: 0] &+= 1
        case .restart(let rid):
            guard ids.contains(rid) else { return refuse(.unknownResource(rid)) }
            guard let h = here(rid), c.view.nodes.contains(h), reports[h]?.entries[rid]?.state == .running else {
                return refuse(.notRunning(rid))
            }
            guard !a.maintenance.contains(h) else { return refuse(.inMaintenance(rid, h)) }
            a.restarts[rid, default: 0] &+= 1
        }
        a.version = admin.version + 1
        a.origin = c.me
        adminSeeded = true
        adoptAdmin(a, c, now, &box)
        box.broadcast(.adminState(a))
        box.append(.notice(.resource(.admin(r, version: a.version))))
    }

    /// Takes a newer copy; acts on grown cleanup/restart counters (not on the first copy a node
    /// ever hears: those requests were made before it was here).
    mutating func adoptAdmin(_ a: AdminState, _ c: SupervisorContext, _ now: Instant, _ box: inout Outbox) {
        let old = admin
        admin = a
        box.append(.persist(a))
        // Maintenance of this node, also on the first copy heard (a daemon restarted meanwhile).
        if a.maintenance.contains(c.me) != old.maintenance.contains(c.me) { maintenanceChanged(a.maintenance.contains(c.me), &box) }
        guard adminSeeded else { return }
        for (rid, count) in a.cleanups.sorted(by: { $0.key < $1.key }) where count != old.cleanups[rid] ?? 0 {
            cleanupLocal(rid, &box)
        }
        for (rid, count) in a.restarts.sorted(by: { $0.key < $1.key }) where count != old.restarts[rid] ?? 0 {
            guard local[rid]?.state == .running,
                  let u = policy.units.first(where: { $0.resources.contains(rid) }),
                  let i = u.resources.firstIndex(of: rid) else { continue }
            // The member and every later member running here: stopped in reverse, started in order.
            restarting.formUnion(u.resources[i...].filter { local[$0]?.state == .running })
            continueRestart(rid, c, &box)
        }
    }

    /// Into maintenance: stop monitoring what runs here. Out of it: probe everything again (the
    /// operator may have stopped or started things by hand); the owner waits for the probes.
    private mutating func maintenanceChanged(_ on: Bool, _ box: inout Outbox) {
        for var e in local.values.sorted(by: { $0.id < $1.id }) {
            if on {
                box.append(.resource(ResourceOrder(id: e.id, op: .unmonitor)))
            } else if e.state == .running || e.state == .stopped || e.state == .failed {
                e.state = .unknown
                box.append(.resource(ResourceOrder(id: e.id, op: .probe)))
                setLocal(e, &box)
            }
        }
    }

    /// Clears this node's fail count of `rid`; a failed resource, or one with a hard error here
    /// (agent not installed: perhaps it is now), is probed again.
    private mutating func cleanupLocal(_ rid: String, _ box: inout Outbox) {
        guard var e = local[rid] else { return }
        failedAt[rid] = nil
        lastFailure[rid] = nil
        guard e.failCount > 0 || e.state == .failed else { return }
        let hard = e.failCount == ResourceEntry.infinity
        e.failCount = 0
        if e.state == .failed || (hard && e.state == .stopped) {
            e.state = .unknown
            box.append(.resource(ResourceOrder(id: rid, op: .probe)))
        }
        setLocal(e, &box)
    }

    /// The placement units with the operator's constraints applied.
    var adminUnits: [PlacementUnit] {
        var units = policy.units
        for k in admin.constraints {
            guard let i = units.firstIndex(where: { $0.resources.contains(k.resource) }) else { continue }
            switch k.kind {
            case .ban: units[i].location[k.node] = PlacementUnit.never
            case .prefer where units[i].location[k.node] != PlacementUnit.never: units[i].location[k.node] = Supervisor.moveScore
            case .prefer, .preferPromoted: break  // the latter weighs in the promotion (Promotion.swift)
            }
        }
        return units
    }
}
