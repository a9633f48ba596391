/// The node's side of the resource supervisor: what status reads, and the routing of events to
/// its `Supervisor`.
extension Node {
    /// Every node's last report (this node's own included).
    public var resourceReports: [NodeID: [String: ResourceEntry]] { supervisor.reports.mapValues(\.entries) }
    public var localResources: [String: ResourceEntry] { supervisor.local }
    public var lastResourceFailures: [String: ResourceFailure] { supervisor.lastFailure }
    public var adminState: AdminState { supervisor.admin }
    /// A graceful leave is stopping this node's resources first.
    public var stoppingToLeave: Bool { supervisor.leavingAfterStop }
    /// Resources this node restarts in place (`vigilctl resource restart`).
    public var restartingInPlace: Set<String> { supervisor.restarting }
    /// The placement units with the operator's constraints applied.
    public var adminUnits: [PlacementUnit] { supervisor.adminUnits }

    /// Where the owner would place each unit of `policy` now, from what this node knows (the
    /// members' reports, the operator's constraints, attributes, fail counts): `vigilctl config
    /// diff`'s preview, as `crm_simulate` gives one. Nil outside a quorate view.
    public func placementPreview(_ policy: ResourcePolicy, at now: Instant) -> [String: Placement]? {
        guard view.quorate else { return nil }
        var s = supervisor
        s.policy = policy
        return OwnerDecision.decide(s.ownerInputs(supervisorContext, now)).placed
    }

    var supervisorContext: SupervisorContext {
        SupervisorContext(me: id, nodes: config.nodes, view: view, owner: owner, pending: NodeSet(fencer.pending.keys),
                          fenceable: NodeSet(view.members.filter { !isFenced($0) }.map(\.node)), fenceGate: config.fenceGate,
                          stopWithoutQuorum: config.quorum.stopResourcesWithoutQuorum,
                          awaitingVote: membership.awaitingVote, ticketLoss: tickets?.lost ?? [:], interval: config.timing.interval,
                          leaving: leaving, startedAt: startedAt, attributes: attributes.byNode, applyRules: config.applyRules,
                          applyOrders: config.applyOrders, promoteGate: config.promoteGate, policyGate: config.policyGate,
                          documentBehind: documentBehind)
    }

    /// One call into the supervisor; what it hands back is carried out in order (`carryOut`).
    mutating func supervising(_ out: inout [Effect], _ call: (inout Supervisor, SupervisorContext, inout Outbox) -> Void) {
        var box = Outbox()
        call(&supervisor, supervisorContext, &box)
        carryOut(box, &out)
    }
}

extension Node {
    /// What a sub-machine handed back, carried out in order: frames sealed and sent on every
    /// link, effects passed on, requests to the node's other parts made.
    mutating func carryOut(_ box: Outbox, _ out: inout [Effect]) {
        for item in box.items {
            switch item {
            case .broadcast(let m): broadcast(m, &out)
            case .effect(let e): out.append(e)
            case let .requireFencing(n, now): requireFencing(n, now, &out)
            case .leave: handleLeave(&out)
            case let .viewInstalled(change, now):
                arbiterSoon = arbiter != nil
                ticketsSoon = tickets != nil
                supervisor.viewChanged(view.nodes)  // report resources at once in the new view (the owner waits for it)
                let quorate = view.quorate
                fencing(&out) { f, _, box in f.recordUnclean(change, quorate: quorate, now, &box) }
                attributing(&out) { a, c, box in a.viewInstalled(change, c, now, &box) }
            case let .lostWhileInquorate(lost, now):
                // (Not a node the document removed meanwhile: it is forgotten, not fenced.)
                let known = lost.filter { config.nodes.contains($0.node) }
                fencing(&out) { f, _, box in f.recordUnclean(ViewChange(lostUncleanly: known), quorate: true, now, &box) }
            }
        }
        // A fence succeeded: the owner places again at its next tick.
        if box.placementChanged { supervisor.placementChanged() }
    }

    /// A member whose resource cannot be stopped cleanly: it must be fenced before anything moves.
    private mutating func requireFencing(_ n: NodeID, _ now: Instant, _ out: inout [Effect]) {
        guard let m = view.members.first(where: { $0.node == n }) else { return }
        fencing(&out) { f, _, box in f.addPending(m, now, &box) }
    }
}
